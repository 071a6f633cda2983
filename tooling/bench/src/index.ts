/**
 * @larder/bench: benchmarks of Larder against raw baselines (`pnpm bench`).
 * @packageDocumentation
 */
export { markdownTable, median, summarize } from './report.js'
export type { BenchContext, Benchmark, BenchResult } from './types.js'
