/**
 * @larder/core: definitions, value types, registry, plan/apply, the point-in-time join engine,
 * the backend contracts and the error family.
 * @packageDocumentation
 */
export * from './contracts.js'
export * from './duration.js'
export * from './entity-key.js'
export * from './errors.js'
export * from './logger.js'
export * from './pit/index.js'
export * from './retrieval.js'
export * from './spec.js'
export * from './types.js'
