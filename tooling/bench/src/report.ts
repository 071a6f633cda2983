/**
 * Summaries of benchmark results: median, min, max, ratio to the case's baseline.
 */
import type { BenchResult } from './types.js'

/** The median of a list of numbers (NaN when empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** One printed row. */
export interface SummaryRow {
  case: string
  subject: string
  medianMs: number
  minMs: number
  maxMs: number
  /** median / baseline median (1 for the baseline; time ratio: lower is better). */
  ratio: number | undefined
  peakRssMb: number
  rows: number
  extra: string
}

/** Summarizes results, ratios taken against each case's baseline. */
export function summarize(results: readonly BenchResult[]): SummaryRow[] {
  return results.map((r) => {
    const base = results.find((b) => b.case === r.case && b.baseline)
    const m = median(r.timesMs)
    return {
      case: r.case,
      subject: r.subject,
      medianMs: m,
      minMs: Math.min(...r.timesMs),
      maxMs: Math.max(...r.timesMs),
      ratio: base ? m / median(base.timesMs) : undefined,
      peakRssMb: r.peakRssMb,
      rows: r.rows,
      extra: Object.entries(r.extra ?? {})
        .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(3) : v}`)
        .join(' '),
    }
  })
}

const fmt = (n: number) => (Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toPrecision(3)) : '-')

/** Renders summary rows as a Markdown table (what BENCHMARKS.md holds). */
export function markdownTable(rows: readonly SummaryRow[]): string {
  const head =
    '| case | subject | median ms | min | max | ratio to baseline | peak RSS MB | rows | notes |'
  const sep = '|---|---|---:|---:|---:|---:|---:|---:|---|'
  const body = rows.map(
    (r) =>
      `| ${r.case} | ${r.subject} | ${fmt(r.medianMs)} | ${fmt(r.minMs)} | ${fmt(r.maxMs)} | ${r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`} | ${fmt(r.peakRssMb)} | ${r.rows.toLocaleString('en-US')} | ${r.extra} |`,
  )
  return [head, sep, ...body].join('\n')
}
