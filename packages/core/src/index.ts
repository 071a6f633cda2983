/**
 * @larder/core: definitions, value types, registry, plan/apply, the point-in-time join engine,
 * the backend contracts and the error family.
 * @packageDocumentation
 */
export * from './errors.js'
export * from './pit/index.js'
