/**
 * `larder ingest`: consumes the repo's stream feature views until SIGINT/SIGTERM, then stops
 * fetching, finishes and commits what is in flight, prints one summary line per view and
 * exits 0.
 */
import type { Server } from 'node:http'
import { type IngestProgress, type IngestViewSummary, parseTime } from '@larder/core'
import type { Command } from 'commander'
import type { CommandContext } from '../context.js'
import { IngestMetrics } from '../ingest-metrics.js'
import { numberOption, PORT, splitList } from '../options.js'

const n = (v: number) => v.toLocaleString('en-US')

/** The summary line of one view. */
export function ingestSummaryLine(s: IngestViewSummary): string {
  return `${s.view}: ${n(s.read)} read, ${n(s.writtenOnline)} written online, ${n(s.writtenOffline)} written offline, ${n(s.deadLettered)} dead-lettered, ${n(s.late)} late`
}

function progressLine(p: IngestProgress): string {
  const lag = p.lag === undefined ? 'lag ?' : `lag ${n(p.lag)}`
  return `${p.view}: ${n(p.read)} read, ${n(Math.round(p.recordsPerSecond))} records/s, ${lag}, ${n(p.deadLettered)} dead-lettered`
}

/** Adds `ingest` to `program`. */
export function registerIngest(program: Command, ctx: CommandContext): void {
  program
    .command('ingest')
    .description(
      'consume stream feature views (Kafka, Kinesis) into the online store and offline log until SIGINT/SIGTERM',
    )
    .option('--views <names>', 'comma-separated stream views (default: every stream view)')
    .option(
      '--from <time>',
      "re-read every partition from its first record at or after TIME (ISO-8601 or 'now')",
    )
    .option('--metrics-port <port>', 'serve Prometheus metrics on GET /metrics at this port')
    .option('--metrics-host <host>', 'address of the metrics server', '127.0.0.1')
    .action(
      async (opts: {
        views?: string
        from?: string
        metricsPort?: string
        metricsHost: string
      }) => {
        let metricsPort: number | undefined
        if (opts.metricsPort !== undefined) {
          metricsPort = numberOption(opts.metricsPort, '--metrics-port', PORT)
        }
        const views = splitList(opts.views, '--views')
        const from = opts.from === undefined ? undefined : parseTime(opts.from, '--from')
        const ac = new AbortController()
        let signals = 0
        const onSignal = (signal: NodeJS.Signals) => {
          signals++
          if (signals === 1) {
            ctx.io.err(`${signal}: stopping (finishing and committing in-flight batches)`)
            ac.abort()
          } else {
            ctx.io.err(`${signal} again: exiting without waiting`)
            process.exit(130)
          }
        }
        process.on('SIGINT', onSignal)
        process.on('SIGTERM', onSignal)
        const metrics = metricsPort === undefined ? undefined : new IngestMetrics()
        let server: Server | undefined
        const tty = !!process.stderr.isTTY
        let drawn = 0
        let lastPlain = 0
        try {
          if (metrics && metricsPort !== undefined) {
            const bound = await metrics.listen(metricsPort, opts.metricsHost)
            server = bound.server
            ctx.io.err(`metrics on http://${opts.metricsHost}:${bound.port}/metrics`)
          }
          const summary = await ctx.withStore((store) =>
            store.ingest({
              ...(views ? { views } : {}),
              ...(from === undefined ? {} : { from }),
              signal: ac.signal,
              onBatch: (e) => metrics?.batch(e),
              onPartitions: (e) => {
                if (e.assigned)
                  ctx.io.err(
                    `${e.view}: reading partitions ${e.assigned.length ? e.assigned.join(', ') : '(none)'}`,
                  )
              },
              onProgress: (ticks) => {
                metrics?.progress(ticks)
                if (tty) {
                  if (drawn > 0) process.stderr.write(`\x1b[${drawn}A`)
                  for (const t of ticks) process.stderr.write(`\x1b[2K${progressLine(t)}\n`)
                  drawn = ticks.length
                } else if (performance.now() - lastPlain >= 5000) {
                  lastPlain = performance.now()
                  for (const t of ticks) ctx.io.err(progressLine(t))
                }
              },
            }),
          )
          for (const s of summary) ctx.io.out(ingestSummaryLine(s))
        } finally {
          process.off('SIGINT', onSignal)
          process.off('SIGTERM', onSignal)
          server?.close()
        }
      },
    )
}
