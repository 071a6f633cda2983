// The offline store conformance suite, its cases, the naive oracle and table helpers.
export * from './cases.js'
export * from './conformance.js'
export * from './credit-scoring.js'
export * from './random.js'
export * from './table.js'
