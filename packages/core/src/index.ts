/**
 * @larder/core: definitions, value types, registry, plan/apply, the point-in-time join engine,
 * the backend contracts and the error family.
 * @packageDocumentation
 */
export * from './apply.js'
export * from './config.js'
export * from './contracts.js'
export * from './definitions.js'
export * from './diff.js'
export * from './duration.js'
export * from './entity-key.js'
export * from './errors.js'
export * from './feature-store.js'
export * from './loader.js'
export * from './logger.js'
export * from './memory-offline-store.js'
export * from './memory-online-store.js'
export * from './pit/index.js'
export * from './registry.js'
export * from './repo.js'
export * from './retrieval.js'
export * from './spec.js'
export * from './sql/index.js'
export * from './types.js'
