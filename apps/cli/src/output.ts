/**
 * Terminal output of the CLI: one-line errors, tables, progress.
 */
import { formatTime, isLarderError, type MaterializeViewResult } from '@larder/core'

/** Formats an error as the one line the CLI prints. */
export function errorLine(err: unknown): string {
  if (isLarderError(err)) return `error: ${err.message}`
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    const hint = process.env.LARDER_DEBUG ? '' : ' (set LARDER_DEBUG=1 for details)'
    return `error: ${err.message.split('\n')[0]}${code ? ` [${code}]` : ''}${hint}`
  }
  return `error: ${String(err)}`
}

/** Renders rows as an aligned text table. */
export function table(rows: Array<Record<string, unknown>>, columns?: string[]): string {
  if (rows.length === 0) return '(no rows)'
  const cols = columns ?? Object.keys(rows[0] ?? {})
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return 'null'
    if (v instanceof Date) return v.toISOString()
    if (typeof v === 'bigint') return v.toString()
    if (typeof v === 'number')
      return Number.isInteger(v) ? String(v) : v.toPrecision(6).replace(/\.?0+$/, '')
    if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`
    if (Array.isArray(v)) return `[${v.map(cell).join(', ')}]`
    return String(v)
  }
  const body = rows.map((r) => cols.map((c) => cell(r[c])))
  const widths = cols.map((c, i) => Math.max(c.length, ...body.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')
}

/**
 * What `materialize` and `materialize-incremental` print: one line per view with the window
 * it used (`[start, end]`) and what it copied, or that it found nothing, then a total line.
 * @param incremental the windows started at each view's last end (materialize-incremental)
 */
export function materializeSummary(results: MaterializeViewResult[], incremental = false): string {
  const width = Math.max(0, ...results.map((r) => r.view.length))
  const lines = results.map((r) => {
    const window = `[${formatTime(r.start)}, ${formatTime(r.end)}]`
    const what =
      r.rowsRead > 0
        ? `${r.rowsRead.toLocaleString('en-US')} row(s) read, ${r.rowsWritten.toLocaleString('en-US')} written`
        : incremental
          ? 'nothing new since its last end (older rows need `materialize START END`)'
          : 'no rows with an event time in this window'
    return `${r.view.padEnd(width)}  ${window}  ${what}`
  })
  const rows = results.reduce((a, r) => a + r.rowsWritten, 0)
  lines.push(
    `Materialized ${results.length} view(s), ${rows.toLocaleString('en-US')} row(s) written`,
  )
  return lines.join('\n')
}
