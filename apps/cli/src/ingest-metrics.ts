/**
 * Prometheus metrics of `larder ingest` (`--metrics-port`): records read, rows written,
 * dead letters, late events, consumer lag per partition, end-to-end freshness and batch
 * latency, per stream feature view, on `GET /metrics`.
 */
import { createServer, type Server } from 'node:http'
import type { IngestBatchEvent, IngestProgress } from '@larder/core'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/** The metrics of one ingest process. */
export class IngestMetrics {
  readonly registry = new Registry()
  readonly #records = new Counter({
    name: 'larder_ingest_records_total',
    help: 'Stream records read, per view',
    labelNames: ['view'],
    registers: [this.registry],
  })
  readonly #rate = new Gauge({
    name: 'larder_ingest_records_per_second',
    help: 'Stream records read per second over the last progress interval, per view',
    labelNames: ['view'],
    registers: [this.registry],
  })
  readonly #written = new Counter({
    name: 'larder_ingest_rows_written_total',
    help: 'Rows written, per view and store (online: rows that won the write rule)',
    labelNames: ['view', 'store'],
    registers: [this.registry],
  })
  readonly #deadLetters = new Counter({
    name: 'larder_ingest_dead_letters_total',
    help: 'Records sent to the dead-letter destination, per view',
    labelNames: ['view'],
    registers: [this.registry],
  })
  readonly #late = new Counter({
    name: 'larder_ingest_late_events_total',
    help: "Events more than the source's watermark delay behind their partition, per view",
    labelNames: ['view'],
    registers: [this.registry],
  })
  readonly #lag = new Gauge({
    name: 'larder_ingest_consumer_lag',
    help: 'Records left to read, per view and partition (or shard)',
    labelNames: ['view', 'partition'],
    registers: [this.registry],
  })
  readonly #freshness = new Histogram({
    name: 'larder_ingest_freshness_seconds',
    help: 'Write time minus the newest event time of each batch, per view',
    labelNames: ['view'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [this.registry],
  })
  readonly #latency = new Histogram({
    name: 'larder_ingest_batch_seconds',
    help: 'Time from receiving a batch to committing it, per view',
    labelNames: ['view'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  })

  /** Feeds one committed batch. */
  batch = (e: IngestBatchEvent): void => {
    const view = { view: e.view }
    this.#records.inc(view, e.records)
    this.#written.inc({ view: e.view, store: 'online' }, e.writtenOnline)
    this.#written.inc({ view: e.view, store: 'offline' }, e.writtenOffline)
    this.#deadLetters.inc(view, e.deadLettered)
    this.#late.inc(view, e.late)
    if (e.lag !== undefined) this.#lag.set({ view: e.view, partition: e.partition }, e.lag)
    if (e.freshnessSeconds !== undefined) this.#freshness.observe(view, e.freshnessSeconds)
    this.#latency.observe(view, e.seconds)
  }

  /** Feeds a progress tick (records/s). */
  progress = (ticks: IngestProgress[]): void => {
    for (const p of ticks) this.#rate.set({ view: p.view }, p.recordsPerSecond)
  }

  /** Serves `GET /metrics` on `host:port`; resolves with the bound port. */
  async listen(port: number, host: string): Promise<{ port: number; server: Server }> {
    const server = createServer((req, res) => {
      if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
        this.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': this.registry.contentType })
            res.end(text)
          },
          (err: unknown) => {
            res.writeHead(500, { 'content-type': 'text/plain' })
            res.end(String(err))
          },
        )
        return
      }
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end('not found: metrics are on GET /metrics\n')
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => resolve())
    })
    const address = server.address()
    return { port: typeof address === 'object' && address ? address.port : port, server }
  }
}
