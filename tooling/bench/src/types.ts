/**
 * What a benchmark module exports (as `default`) and what it reports.
 */

/** One measured subject of one case: Larder or the raw baseline it is compared with. */
export interface BenchResult {
  /** The scenario, e.g. `1M x 10M, 1 view`. Results of one case are compared. */
  case: string
  /** What ran, e.g. `larder file store` or `raw DuckDB ASOF JOIN`. */
  subject: string
  /** True for the raw baseline of the case (ratios are against it). */
  baseline: boolean
  /** Wall time of each run, ms (or per-operation latency samples where `unit` says so). */
  timesMs: number[]
  /** Peak resident memory seen while the subject ran, MB. */
  peakRssMb: number
  /** Rows (or operations) processed per run, for throughput. */
  rows: number
  /** Optional extra figures (p50/p99 latency, rows/s...) printed as they are. */
  extra?: Record<string, number | string>
}

/** Context a benchmark runs in. */
export interface BenchContext {
  /** Size multiplier: 1 is the documented default size. */
  scale: number
  /** How many timed runs per subject. */
  runs: number
  /** Progress lines (stderr). */
  log: (message: string) => void
}

/** A benchmark module's default export. */
export interface Benchmark {
  name: string
  description: string
  /** Scale used by `pnpm bench` without --scale (keeps the whole suite under 10 minutes). */
  defaultScale: number
  run(ctx: BenchContext): Promise<BenchResult[]>
}
