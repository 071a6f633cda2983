/** Online store conformance: the suite and its fixtures. */
export * from './conformance.js'
export * from './fixtures.js'
