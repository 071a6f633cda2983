// The point-in-time join: planning and the in-memory reference engine (SEMANTICS.md).
export { pointInTimeJoin } from './engine.js'
export {
  DEFAULT_ENTITY_TIMESTAMP,
  type PlanHistoricalRetrievalOptions,
  planHistoricalRetrieval,
} from './plan.js'
