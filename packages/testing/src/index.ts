/**
 * @larder/testing: conformance suites for Larder backends, seeded data generators and
 * service finders for tests.
 * @packageDocumentation
 */

export * from './fault-proxy.js'
export * from './generators.js'
export * from './offline/index.js'
export * from './online/index.js'
export * from './postgres-offline-store.js'
export * from './registry/apply-race.js'
export * from './registry/conformance.js'
export * from './services.js'
export * from './sql-dialect-conformance.js'
