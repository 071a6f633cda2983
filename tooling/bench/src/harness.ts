/**
 * The fair comparison harness. Every subject of a case (Larder, the raw baseline, variants)
 * runs in its OWN worker process, so its peak RSS is its own. The parent warms each subject
 * up, then runs them in turn, rotating which goes first each round; every run's result is
 * checked (row count + digest of the values) against the baseline's, and a mismatch fails
 * the benchmark before any time is reported.
 *
 * A benchmark module exports `subjects`, a record of {@link SubjectFactory}s; the parent
 * names a factory and its (JSON) arguments, the worker imports the module and builds it.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ResultCheck } from './digest.js'
import { median } from './report.js'
import type { BenchContext, BenchResult } from './types.js'

/** What one timed run returns. */
export interface RunResult {
  /** Per-operation latencies (ms) when the subject times its own operations. */
  samplesMs?: number[]
}

/** A subject, built in its worker process. */
export interface SubjectRunner {
  /** Untimed work before every run (a fresh table, a dropped key space...). */
  before?(): Promise<void> | void
  /**
   * The timed work. The harness times the whole call unless it resolves to a
   * {@link RunResult} with `samplesMs`.
   */
  run(): Promise<unknown>
  /** Untimed: the result check of the run that just finished. */
  check(): Promise<ResultCheck> | ResultCheck
  /** Untimed work after every run. */
  after?(): Promise<void> | void
  /** Releases everything (end of the benchmark). */
  close?(): Promise<void> | void
}

/** Builds a subject inside its worker from the arguments the parent gave. */
export type SubjectFactory = (
  args: Record<string, unknown>,
  log: (message: string) => void,
) => Promise<SubjectRunner> | SubjectRunner

/** A subject as the parent names it. */
export interface SubjectRef {
  /** Printed name, e.g. `larder getOnlineFeatures`. */
  name: string
  /** True for the raw baseline (exactly one per case). */
  baseline?: boolean
  /** The key of the factory in the module's `subjects` export. */
  factory: string
  /** JSON-serializable arguments for the factory. */
  args?: Record<string, unknown>
}

/** A case to compare. */
export interface CompareOptions {
  /** The case name printed in the table. */
  caseName: string
  /** The benchmark module's URL (`import.meta.url`), whose `subjects` export builds them. */
  module: string
  subjects: SubjectRef[]
  /** Rows (or operations) one run processes. */
  rows: number
  /** `run`: each run's wall time is one sample; `op`: runs return per-operation samples. */
  unit?: 'run' | 'op'
  /** Untimed warm-up runs per subject before the timed ones. @default 1 */
  warmups?: number
  /**
   * At least this many rounds whatever `--runs` says: latency cases use many short rounds so
   * that bursts of load from other processes fall on every subject alike. @default 1
   */
  minRuns?: number
  /** Extra figures for a subject's row, from its own and the baseline's samples. */
  extra?: (own: number[], baseline: number[]) => Record<string, number | string>
}

interface Reply {
  type: string
  ms?: number
  samplesMs?: number[]
  check?: ResultCheck
  maxRssMb?: number
  error?: string
}

/** One worker process holding one subject. */
class Worker {
  #child: ChildProcess
  #waiting: ((reply: Reply) => void) | undefined
  #exit: Promise<number | null>

  constructor(module: string, ref: SubjectRef) {
    // Under vitest this module runs from its TypeScript source (Node strips the types).
    const worker = import.meta.url.endsWith('.ts') ? './subject-worker.ts' : './subject-worker.js'
    this.#child = fork(fileURLToPath(new URL(worker, import.meta.url)), [], {
      execArgv: process.execArgv,
      env: {
        ...process.env,
        LARDER_BENCH_SUBJECT: JSON.stringify({ module, factory: ref.factory, args: ref.args }),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.#child.on('message', (m: Reply) => {
      const w = this.#waiting
      this.#waiting = undefined
      w?.(m)
    })
    this.#exit = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)))
    void this.#exit.then((code) => {
      const w = this.#waiting
      this.#waiting = undefined
      w?.({ type: 'error', error: `worker exited with code ${code}` })
    })
  }

  async ask(message: { type: string }): Promise<Reply> {
    const reply = await new Promise<Reply>((resolve) => {
      this.#waiting = resolve
      this.#child.send(message)
    })
    if (reply.type === 'error') throw new Error(reply.error)
    return reply
  }

  async stop(): Promise<number | undefined> {
    if (this.#child.exitCode !== null) return undefined
    const reply = await this.ask({ type: 'close' }).catch(() => undefined)
    await this.#exit
    return reply?.maxRssMb
  }

  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill()
  }
}

const fmtCheck = (c: ResultCheck) => `${c.rows} rows, digest ${c.digest.slice(0, 12)}`

/**
 * Runs a case: every subject in its own process, a warm-up, then `ctx.runs` rounds in a
 * rotating order, each run's result checked against the baseline's. Throws on a mismatch.
 */
export async function compare(ctx: BenchContext, options: CompareOptions): Promise<BenchResult[]> {
  const { subjects } = options
  const baselineIndex = subjects.findIndex((s) => s.baseline)
  if (baselineIndex < 0 || subjects.filter((s) => s.baseline).length !== 1)
    throw new Error(`${options.caseName}: exactly one subject must be the baseline`)
  const workers: Worker[] = []
  const samples = subjects.map(() => [] as number[])
  let expected: ResultCheck | undefined
  let expectedFrom = ''
  const verify = (i: number, check: ResultCheck) => {
    const name = subjects[i]!.name
    if (!expected) {
      expected = check
      expectedFrom = name
      return
    }
    if (check.rows !== expected.rows || check.digest !== expected.digest) {
      throw new Error(
        `${options.caseName}: results differ: ${name} gave ${fmtCheck(check)}, ${expectedFrom} gave ${fmtCheck(expected)}`,
      )
    }
  }
  try {
    for (const ref of subjects) {
      const w = new Worker(options.module, ref)
      workers.push(w)
      await w.ask({ type: 'ping' })
    }
    const once = async (i: number, record: boolean) => {
      const w = workers[i]!
      const reply = await w.ask({ type: 'run' })
      verify(i, reply.check!)
      if (!record) return
      if (options.unit === 'op') samples[i]!.push(...(reply.samplesMs ?? []))
      else samples[i]!.push(reply.ms!)
      ctx.log(
        `${options.caseName}: ${subjects[i]!.name}: ${reply.samplesMs ? `p50 ${median(reply.samplesMs).toFixed(3)} ms over ${reply.samplesMs.length} ops` : `${reply.ms!.toFixed(0)} ms`} (${fmtCheck(reply.check!)})`,
      )
    }
    // The baseline's warm-up goes first: its check is the reference.
    const warmOrder = [baselineIndex, ...subjects.keys()].filter(
      (i, k, all) => all.indexOf(i) === k,
    )
    for (let w = 0; w < (options.warmups ?? 1); w++) for (const i of warmOrder) await once(i, false)
    const rounds = Math.max(ctx.runs, options.minRuns ?? 1)
    for (let run = 0; run < rounds; run++) {
      for (let k = 0; k < subjects.length; k++) await once((k + run) % subjects.length, true)
    }
    const rss: number[] = []
    for (const w of workers) rss.push((await w.stop()) ?? Number.NaN)
    const base = samples[baselineIndex]!
    return subjects.map((s, i) => ({
      case: options.caseName,
      subject: s.name,
      baseline: s.baseline === true,
      timesMs: samples[i]!,
      peakRssMb: rss[i]!,
      rows: options.rows,
      extra: {
        ...(options.extra?.(samples[i]!, base) ?? {}),
        check: fmtCheck(expected!),
      },
    }))
  } finally {
    for (const w of workers) w.kill()
  }
}

/** The q-quantile (0..1) of samples (nearest rank). */
export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN
}

/** `extra` for latency cases: p50 and p99 of each subject, p99 against the baseline's. */
export function latencyExtra(own: number[], base: number[]): Record<string, number | string> {
  const p99 = quantile(own, 0.99)
  return {
    'p50 ms': Number(quantile(own, 0.5).toFixed(4)),
    'p99 ms': Number(p99.toFixed(4)),
    'p99 vs baseline': `${(p99 / quantile(base, 0.99)).toFixed(2)}x`,
  }
}

/** `extra` for throughput cases: median rows/s and the median rate against the baseline's. */
export function rateExtra(rows: number) {
  return (own: number[], base: number[]): Record<string, number | string> => ({
    'rows/s (median)': Math.round(rows / (median(own) / 1000)),
    'of baseline rate (medians)': `${Math.round((100 * median(base)) / median(own))}%`,
  })
}
