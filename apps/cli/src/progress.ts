/**
 * Progress of materialization on the terminal: one line per view with rows read, rows
 * written and rows/s, redrawn in place on a TTY, printed once per view otherwise.
 */
import type { MaterializeProgress } from '@larder/core'

const BAR = 20

/** Renders progress lines to a stream (stderr by default). */
export class ProgressPrinter {
  private readonly stream: NodeJS.WriteStream
  private readonly tty: boolean
  private readonly views = new Map<
    string,
    { p: MaterializeProgress; started: number; ended?: number }
  >()
  private drawn = 0
  private last = 0

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.stream = stream
    this.tty = !!stream.isTTY
  }

  /** Feeds one progress event. */
  update = (p: MaterializeProgress): void => {
    const now = performance.now()
    const entry = this.views.get(p.view) ?? { p, started: now }
    entry.p = p
    if (p.done) entry.ended = now
    this.views.set(p.view, entry)
    if (this.tty) {
      if (p.done || now - this.last > 100) this.redraw()
    } else if (p.done) {
      this.stream.write(`${this.line(p.view)}\n`)
    }
  }

  private line(view: string): string {
    const e = this.views.get(view)!
    const seconds = ((e.ended ?? performance.now()) - e.started) / 1000
    const rate = seconds > 0 ? Math.round(e.p.rowsRead / seconds) : 0
    const fill = e.p.done ? BAR : Math.floor((performance.now() / 100) % BAR)
    const bar = e.p.done
      ? '#'.repeat(BAR)
      : `${' '.repeat(fill)}###${' '.repeat(Math.max(0, BAR - fill - 3))}`.slice(0, BAR)
    const status = e.p.done ? 'done' : '....'
    return `${view.padEnd(28)} [${bar}] ${e.p.rowsRead.toLocaleString('en-US')} rows read, ${e.p.rowsWritten.toLocaleString('en-US')} written, ${rate.toLocaleString('en-US')} rows/s ${status}`
  }

  private redraw(): void {
    this.last = performance.now()
    if (this.drawn > 0) this.stream.write(`\x1b[${this.drawn}A`)
    for (const view of this.views.keys()) this.stream.write(`\x1b[2K${this.line(view)}\n`)
    this.drawn = this.views.size
  }
}
