/**
 * Prometheus metrics of one feature server. Each server has its own prom-client registry,
 * so several servers in one process (tests, benchmarks) never clash.
 */
import { tracingChannel } from 'node:diagnostics_channel'
import {
  LARDER_CHANNELS,
  type OnlineReadContext,
  type OnlineStore,
  type OnlineWriteContext,
} from '@larder/core'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]

/** The metrics a feature server records. Names are listed in the README. */
export class ServerMetrics {
  readonly registry = new Registry()
  readonly requests = new Counter({
    name: 'larder_http_requests_total',
    help: 'HTTP requests answered, by route, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  })
  readonly requestDuration = new Histogram({
    name: 'larder_http_request_duration_seconds',
    help: 'HTTP request latency (received to response sent), by route, method and status code',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  })
  readonly onlineReadDuration = new Histogram({
    name: 'larder_online_store_read_duration_seconds',
    help: 'Latency of one online store read (one feature view, a batch of entity keys)',
    labelNames: ['feature_view'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  })
  readonly onlineReadErrors = new Counter({
    name: 'larder_online_store_read_errors_total',
    help: 'Online store reads that failed',
    labelNames: ['feature_view'] as const,
    registers: [this.registry],
  })
  readonly entityRows = new Counter({
    name: 'larder_online_entity_rows_total',
    help: 'Entity rows answered by /get-online-features',
    registers: [this.registry],
  })
  readonly rowsPushed = new Counter({
    name: 'larder_rows_pushed_total',
    help: 'Rows accepted by /push, by push source and destination',
    labelNames: ['push_source', 'to'] as const,
    registers: [this.registry],
  })
  readonly rowsWritten = new Counter({
    name: 'larder_online_rows_written_total',
    help: 'Rows written to the online store (newer rows win, so older ones are not counted), by operation: push, write, materialize, ingest',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  })
  readonly registryRefreshes = new Counter({
    name: 'larder_registry_refreshes_total',
    help: 'Registry snapshot reloads, by result (ok or error)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  })
  readonly registryVersion = new Gauge({
    name: 'larder_registry_version',
    help: 'Version of the registry snapshot being served',
    registers: [this.registry],
  })
  readonly registryStale = new Gauge({
    name: 'larder_registry_stale',
    help: '1 when the last registry reload failed and the previous snapshot is being served',
    registers: [this.registry],
  })
  readonly registryLastRefresh = new Gauge({
    name: 'larder_registry_last_refresh_timestamp_seconds',
    help: 'Unix time of the last successful registry reload',
    registers: [this.registry],
  })

  constructor(defaultMetrics: boolean) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'larder_' })
  }

  /**
   * Records the reads and writes core publishes on its diagnostics channels for `store` (the
   * channels are process-wide: calls on other stores are left to their own servers). Returns
   * the function that unsubscribes.
   */
  observe(store: OnlineStore): () => void {
    const began = new WeakMap<object, number>()
    const noop = () => {}
    const reads = tracingChannel<OnlineReadContext>(LARDER_CHANNELS.onlineRead)
    const readHandlers = {
      start: (ctx: OnlineReadContext) => {
        if (ctx.store === store) began.set(ctx, performance.now())
      },
      end: noop,
      asyncStart: noop,
      asyncEnd: (ctx: OnlineReadContext) => {
        const t = began.get(ctx)
        if (t === undefined) return
        this.onlineReadDuration.observe(
          { feature_view: ctx.view.name },
          (performance.now() - t) / 1000,
        )
      },
      error: (ctx: OnlineReadContext) => {
        if (ctx.store === store) this.onlineReadErrors.inc({ feature_view: ctx.view.name })
      },
    }
    const writes = tracingChannel<OnlineWriteContext>(LARDER_CHANNELS.onlineWrite)
    const writeHandlers = {
      start: noop,
      end: noop,
      asyncStart: noop,
      asyncEnd: (ctx: OnlineWriteContext) => {
        if (ctx.store === store && ctx.result !== undefined)
          this.rowsWritten.inc({ operation: ctx.operation }, ctx.result)
      },
      error: noop,
    }
    reads.subscribe(readHandlers)
    writes.subscribe(writeHandlers)
    return () => {
      reads.unsubscribe(readHandlers)
      writes.unsubscribe(writeHandlers)
    }
  }
}
