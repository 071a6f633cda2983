/** Stream ingestion: the per-view pipeline and the runner behind `store.ingest()`. */

export * from './check.js'
export * from './decode.js'
export * from './pipeline.js'
export * from './run.js'
