/**
 * The feature server: Feast's HTTP JSON API over a {@link FeatureStore}, on Fastify.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { type FeatureStore, formatTime, LarderError } from '@larder/core'
import Fastify, { type FastifyInstance } from 'fastify'
import { type Logger as PinoLogger, pino } from 'pino'
import { HttpError, scrubMessage, toErrorAnswer } from './errors.js'
import { checkReadiness } from './health.js'
import { parseRequestJson } from './json.js'
import { answerClientError, checkNumberOption, withDeadline } from './limits.js'
import { ServerMetrics } from './metrics.js'
import {
  type GetOnlineFeaturesBody,
  getOnlineFeaturesBody,
  type MaterializeBody,
  type MaterializeIncrementalBody,
  materializeBody,
  materializeIncrementalBody,
  type PushBody,
  pushBody,
  type WriteToOnlineStoreBody,
  writeToOnlineStoreBody,
} from './schemas.js'

/** TLS material: PEM contents, or paths to PEM files. */
export interface FeatureServerTls {
  /** Private key: PEM text (`-----BEGIN ...`) or a file path. */
  key: string | Buffer
  /** Certificate (chain): PEM text or a file path. */
  cert: string | Buffer
}

/** Options of {@link createFeatureServer} and {@link startFeatureServer}. */
export interface FeatureServerOptions {
  /**
   * Address to listen on. The default accepts connections from this machine only; bind
   * `0.0.0.0` deliberately (and set `authToken` or put the server behind a proxy).
   * @default '127.0.0.1'
   */
  host?: string
  /**
   * Port to listen on; `0` picks a free port (see the returned `url`).
   * @default 6566
   */
  port?: number
  /**
   * When set, every endpoint but `GET /health` needs `Authorization: Bearer <token>`
   * (compared in constant time); others are answered 401.
   * @default process.env.LARDER_AUTH_TOKEN (no auth when unset or empty)
   */
  authToken?: string
  /** Serve HTTPS with this key and certificate. @default undefined (plain HTTP) */
  tls?: FeatureServerTls
  /**
   * Largest accepted request body, in bytes (1 to 1 GiB); larger bodies are answered 413.
   * @default 1048576 (1 MiB)
   */
  bodyLimit?: number
  /**
   * Most entity rows one `/get-online-features` request may hold (1 to 1,000,000); more
   * are answered 413.
   * @default 1000
   */
  maxEntityRows?: number
  /**
   * Deadline of each feature request (`/get-online-features`, `/push`,
   * `/write-to-online-store`), in milliseconds: a store that does not answer in time is a 503
   * BACKEND_UNAVAILABLE with `Retry-After`, never a hung request. `0` turns it off.
   * Materialization requests have no deadline (their stores' own timeouts apply).
   * @default 10000
   */
  requestTimeoutMs?: number
  /**
   * Most time a client may take to send the request headers, ms (slow-header clients).
   * @default 10000
   */
  headersTimeoutMs?: number
  /**
   * Most time a client may take to send a whole request, headers and body, ms (slow-body
   * clients); answered 408.
   * @default 30000
   */
  bodyTimeoutMs?: number
  /**
   * How long an idle keep-alive connection stays open, ms.
   * @default 5000
   */
  keepAliveTimeoutMs?: number
  /**
   * How often the registry snapshot is reloaded, in seconds. Reloads run in the background:
   * requests keep using the previous snapshot until the new one is read. At least 1.
   * @default 60
   */
  registryTtlSeconds?: number
  /**
   * Structured logger: a pino logger, or `false` for none.
   * @default a pino logger at level `process.env.LARDER_LOG_LEVEL ?? 'info'` on stdout
   */
  logger?: PinoLogger | false
  /**
   * How long `close()` waits for in-flight requests before dropping their connections, ms.
   * @default 10000
   */
  drainTimeoutMs?: number
  /**
   * Close the feature store (its online and offline stores) when the server closes.
   * @default true
   */
  closeStore?: boolean
  /**
   * Also export Node's process metrics (CPU, memory, event loop lag) on `/metrics`.
   * @default true
   */
  processMetrics?: boolean
}

/** A running feature server. */
export interface FeatureServer {
  /** The Fastify instance (e.g. for `app.inject` in tests). */
  app: FastifyInstance
  /** Where it listens, e.g. `http://127.0.0.1:6566`. */
  url: string
  /** Metrics registry (Prometheus text on `GET /metrics`). */
  metrics: ServerMetrics
  /**
   * Stops accepting connections, waits for in-flight requests (up to `drainTimeoutMs`),
   * stops the registry refresh and closes the store (unless `closeStore: false`).
   * Calling it again returns the same promise.
   */
  close(): Promise<void>
}

/** Endpoints that need no token: liveness and readiness probes. */
const PUBLIC_PATH = /^\/health(?:\/ready)?(?:\?|$)/
const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/
/** `Authorization: Bearer <token>` (the scheme is case-insensitive). */
const BEARER = /^bearer +(\S+) *$/i

function pem(value: string | Buffer, what: 'key' | 'cert'): string | Buffer {
  if (Buffer.isBuffer(value) || value.includes('-----BEGIN')) return value
  try {
    return readFileSync(value)
  } catch (err) {
    throw new LarderError(
      'INVALID_CONFIG',
      `tls.${what} is neither PEM text nor a readable file: ${value}`,
      { component: 'server', cause: err },
    )
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

/** Largest column length of column-major rows. */
function rowCount(columns: Record<string, unknown[]>): number {
  let n = 0
  for (const c of Object.values(columns)) if (Array.isArray(c) && c.length > n) n = c.length
  return n
}

/**
/**
 * Checks every numeric option against its range (see {@link FeatureServerOptions}).
 * @throws LarderError INVALID_CONFIG naming the option, its value and the range.
 */
export function checkServerOptions(options: FeatureServerOptions): void {
  const ms = (name: string, value: number | undefined, min: number) =>
    checkNumberOption(name, value, { min, max: 3_600_000, integer: true })
  checkNumberOption('port', options.port, { min: 0, max: 65_535, integer: true })
  checkNumberOption('bodyLimit', options.bodyLimit, { min: 1, max: 1024 ** 3, integer: true })
  checkNumberOption('maxEntityRows', options.maxEntityRows, {
    min: 1,
    max: 1_000_000,
    integer: true,
  })
  checkNumberOption('registryTtlSeconds', options.registryTtlSeconds, { min: 0.1, max: 86_400 })
  ms('requestTimeoutMs', options.requestTimeoutMs, 0)
  ms('headersTimeoutMs', options.headersTimeoutMs, 1)
  ms('bodyTimeoutMs', options.bodyTimeoutMs, 1)
  ms('keepAliveTimeoutMs', options.keepAliveTimeoutMs, 1)
  ms('drainTimeoutMs', options.drainTimeoutMs, 0)
}

/**
 * Builds the feature server over `store` and starts listening. The store should have been
 * opened on the repo (`FeatureStore.open`) so on-demand transforms are loaded; a new
 * on-demand view applied later needs a restart (its code is loaded once), everything else
 * in the registry is picked up by the periodic refresh.
 * @example
 * const store = await FeatureStore.open('feature_repo')
 * const server = await createFeatureServer(store, { port: 0, logger: false })
 * const res = await fetch(`${server.url}/get-online-features`, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ entities: { driver_id: [1001] }, features: ['driver_hourly_stats:conv_rate'] }),
 * })
 * await server.close()
 */
export async function createFeatureServer(
  store: FeatureStore,
  options: FeatureServerOptions = {},
): Promise<FeatureServer> {
  checkServerOptions(options)
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 6566
  const bodyLimit = options.bodyLimit ?? 1024 * 1024
  const maxEntityRows = options.maxEntityRows ?? 1000
  const ttlSeconds = options.registryTtlSeconds ?? 60
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000
  const repoPath = store.repoPath
  const token = options.authToken ?? process.env.LARDER_AUTH_TOKEN ?? ''
  const tokenDigest = token ? digest(token) : undefined
  const metrics = new ServerMetrics(options.processMetrics ?? true)

  const logger =
    options.logger === false
      ? undefined
      : (options.logger ?? pino({ level: process.env.LARDER_LOG_LEVEL ?? 'info' }))
  const https = options.tls
    ? { https: { key: pem(options.tls.key, 'key'), cert: pem(options.tls.cert, 'cert') } }
    : {}
  const app = Fastify({
    ...https,
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    bodyLimit,
    // One log line per request, written when the answer is sent (see the onResponse hook).
    disableRequestLogging: true,
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id']
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
    forceCloseConnections: 'idle',
    // Requests arriving while draining get Larder's 503 body (the onRequest hook below).
    return503OnClosing: false,
    requestTimeout: options.bodyTimeoutMs ?? 30_000,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 5_000,
    clientErrorHandler: answerClientError,
  }) as unknown as FastifyInstance
  app.server.headersTimeout = options.headersTimeoutMs ?? 10_000

  // Bodies are JSON whatever the content type says (curl -d sends form encoding).
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseRequestJson(body as string))
    } catch (err) {
      done(err as Error, undefined)
    }
  })

  // While draining, answers close their connection so keep-alive clients do not hold it open.
  let draining = false
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
    if (draining) {
      throw new LarderError(
        'BACKEND_UNAVAILABLE',
        'the server is shutting down: send the request to another instance',
        { component: 'server' },
      )
    }
    if (!tokenDigest || PUBLIC_PATH.test(request.url)) return
    const header = request.headers.authorization
    const given = (typeof header === 'string' && BEARER.exec(header)?.[1]) || ''
    if (!given || !timingSafeEqual(digest(given), tokenDigest)) {
      reply.header('www-authenticate', 'Bearer')
      throw new HttpError(
        401,
        'UNAUTHORIZED',
        given
          ? 'the bearer token is not valid'
          : 'this server needs an Authorization: Bearer <token> header',
      )
    }
  })

  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close')
  })

  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      route: request.routeOptions.url ?? 'unmatched',
      method: request.method,
      status: String(reply.statusCode),
    }
    metrics.requests.inc(labels)
    metrics.requestDuration.observe(labels, reply.elapsedTime / 1000)
    const line = {
      req: { method: request.method, url: request.url },
      res: { statusCode: reply.statusCode },
      responseTime: reply.elapsedTime,
    }
    const failure = failures.get(request)
    if (!failure) request.log.info(line, 'request completed')
    else if (failure.fault) request.log.error({ ...line, err: failure.err }, 'request failed')
    else request.log.info({ ...line, code: failure.code, status: failure.status }, failure.message)
  })

  // What went wrong with a request, for its one log line.
  const failures = new WeakMap<
    object,
    { fault: boolean; err: unknown; code: string; status: number; message: string }
  >()
  app.setErrorHandler(async (err, request, reply) => {
    const { status, body, fault } = toErrorAnswer(err, request.id, bodyLimit, repoPath)
    failures.set(request, {
      fault,
      err,
      code: body.error.code,
      status,
      message: body.error.message,
    })
    // A store that is down or slow: the client may retry (after a pause).
    if (status === 503) reply.header('retry-after', '1')
    return reply.code(status).send(body)
  })

  app.setNotFoundHandler(async (request, reply) => {
    return reply.code(404).send({
      error: {
        code: 'NOT_FOUND',
        message: `no route ${request.method} ${request.url.split('?')[0]}; routes: POST /get-online-features, /push, /write-to-online-store, /materialize, /materialize-incremental; GET /health, /health/ready, /metrics`,
      },
    })
  })

  app.post<{ Body: GetOnlineFeaturesBody }>(
    '/get-online-features',
    { schema: { body: getOnlineFeaturesBody } },
    async (request) => {
      const body = request.body
      const n = rowCount(body.entities)
      if (n > maxEntityRows) {
        throw new HttpError(
          413,
          'TOO_MANY_ENTITY_ROWS',
          `${n} entity rows is more than the limit of ${maxEntityRows} per request (option maxEntityRows): split the request`,
        )
      }
      const response = await withDeadline(
        store.getOnlineFeatures({
          entities: body.entities,
          ...(body.features !== undefined && { features: body.features }),
          ...(body.feature_service !== undefined && { featureService: body.feature_service }),
          fullFeatureNames: body.full_feature_names ?? false,
        }),
        requestTimeoutMs,
        'the online read',
      )
      metrics.entityRows.inc(response.rowCount)
      return response.toJSON()
    },
  )

  app.post<{ Body: PushBody }>('/push', { schema: { body: pushBody } }, async (request) => {
    const { push_source_name: name, df, to = 'online' } = request.body
    const key = request.headers['idempotency-key']
    if (Array.isArray(key)) {
      throw new HttpError(400, 'INVALID_INPUT', 'give the Idempotency-Key header once')
    }
    // A push cut by the deadline may still finish: a retry with the same Idempotency-Key
    // is exact either way.
    const result = await withDeadline(
      store.push(name, df, { to, ...(key !== undefined && { idempotencyKey: key }) }),
      requestTimeoutMs,
      'the push',
    )
    metrics.rowsPushed.inc({ push_source: name, to }, result.rows)
    return {
      push_source_name: name,
      to,
      feature_views: result.views,
      rows: result.rows,
      online_rows_written: result.onlineRowsWritten,
      offline_rows_written: result.offlineRowsWritten,
    }
  })

  app.post<{ Body: WriteToOnlineStoreBody }>(
    '/write-to-online-store',
    { schema: { body: writeToOnlineStoreBody } },
    async (request) => {
      const { feature_view_name: view, df } = request.body
      const result = await withDeadline(
        store.writeToOnlineStore(view, df),
        requestTimeoutMs,
        'the online write',
      )
      return { feature_view_name: view, rows: result.rows, rows_written: result.rowsWritten }
    },
  )

  const materialized = (results: Awaited<ReturnType<FeatureStore['materialize']>>) => {
    return {
      feature_views: results.map((r) => ({
        feature_view_name: r.view,
        start_ts: formatTime(r.start),
        end_ts: formatTime(r.end),
        rows_read: r.rowsRead,
        rows_written: r.rowsWritten,
        seconds: r.seconds,
      })),
    }
  }

  app.post<{ Body: MaterializeBody }>(
    '/materialize',
    { schema: { body: materializeBody } },
    async (request) => {
      const { start_ts, end_ts, feature_views } = request.body
      return materialized(
        await store.materialize(start_ts, end_ts, {
          ...(feature_views !== undefined && { views: feature_views }),
        }),
      )
    },
  )

  app.post<{ Body: MaterializeIncrementalBody }>(
    '/materialize-incremental',
    { schema: { body: materializeIncrementalBody } },
    async (request) => {
      const { end_ts, feature_views } = request.body
      return materialized(
        await store.materializeIncremental(end_ts, {
          ...(feature_views !== undefined && { views: feature_views }),
        }),
      )
    },
  )

  // Liveness: the process answers. No I/O, so a slow store never makes it fail.
  let registryVersion: number | undefined
  // Liveness, with the registry snapshot's state: a registry that cannot be read keeps the
  // last good snapshot serving, and says so here (registry_stale) and in the metrics.
  const registryState = () => {
    const status = store.registryStatus()
    return {
      ...(registryVersion !== undefined && { registry_version: registryVersion }),
      registry_stale: status.stale,
      ...(status.lastError !== undefined && {
        registry_error: scrubMessage(status.lastError, repoPath),
      }),
    }
  }
  app.get('/health', async () => ({
    status: 'ok',
    project: store.project,
    ...registryState(),
  }))

  // Readiness: the registry reads and the online store answers, within the deadline.
  app.get('/health/ready', async (request, reply) => {
    try {
      const ready = await checkReadiness(store, Math.min(requestTimeoutMs || 5000, 5000))
      return {
        status: 'ready',
        project: store.project,
        registry_version: ready.version,
        registry_stale: ready.stale,
        ...(ready.error !== undefined && { registry_error: scrubMessage(ready.error, repoPath) }),
      }
    } catch (err) {
      const { body } = toErrorAnswer(err, request.id, bodyLimit, repoPath)
      request.log.warn({ err }, 'readiness check failed')
      reply.header('retry-after', '1')
      return reply.code(503).send(body)
    }
  })

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics()
    return reply.header('content-type', metrics.registry.contentType).send(text)
  })

  // The registry snapshot: loaded now, then reloaded every ttl in the background.
  const refresh = async () => {
    try {
      const index = await store.refreshRegistry()
      metrics.registryRefreshes.inc({ result: 'ok' })
      metrics.registryVersion.set(index.data.version)
      registryVersion = index.data.version
      metrics.registryLastRefresh.set(Date.now() / 1000)
      metrics.registryStale.set(0)
    } catch (err) {
      metrics.registryRefreshes.inc({ result: 'error' })
      metrics.registryStale.set(1)
      app.log.warn({ err }, 'registry refresh failed; serving the previous snapshot')
    }
  }
  await refresh()
  const timer = setInterval(() => void refresh(), Math.max(10, ttlSeconds * 1000))
  timer.unref()
  const unobserve = metrics.observe(store.config.onlineStore)

  try {
    await app.listen({ host, port })
  } catch (err) {
    clearInterval(timer)
    unobserve()
    await app.close()
    throw err
  }
  const address = app.server.address() as AddressInfo
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `${options.tls ? 'https' : 'http'}://${shownHost}:${address.port}`
  if (!tokenDigest && host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    app.log.warn(
      { host },
      'listening beyond loopback without authToken: anyone who can reach it can read and write features',
    )
  }

  let closing: Promise<void> | undefined
  const close = () => {
    closing ??= (async () => {
      clearInterval(timer)
      draining = true
      const force = setTimeout(() => app.server.closeAllConnections?.(), drainTimeoutMs)
      force.unref()
      // Connections that finish their last request while draining are idle: close them too.
      const idle = setInterval(() => app.server.closeIdleConnections?.(), 50)
      idle.unref()
      try {
        await app.close()
      } finally {
        clearTimeout(force)
        clearInterval(idle)
        unobserve()
        if (options.closeStore ?? true) await store.close()
      }
    })()
    return closing
  }
  return { app, url, metrics, close }
}

/** Options of {@link startFeatureServer}. */
export interface StartFeatureServerOptions extends FeatureServerOptions {
  /**
   * On SIGTERM or SIGINT: stop accepting, drain in-flight requests, close the store, then
   * let the process exit. A second signal kills the process at once.
   * @default true
   */
  handleSignals?: boolean
  /** Called once the server has shut down after a signal (e.g. to set an exit code). */
  onShutdown?: (signal: NodeJS.Signals, error?: unknown) => void
}

/**
 * Starts the feature server (see {@link createFeatureServer}) and, unless told otherwise,
 * shuts it down gracefully on SIGTERM/SIGINT.
 * @example
 * const store = await FeatureStore.open('feature_repo')
 * const server = await startFeatureServer(store, { port: 6566 })
 * // logs: feature server listening { url: 'http://127.0.0.1:6566' }
 */
export async function startFeatureServer(
  store: FeatureStore,
  options: StartFeatureServerOptions = {},
): Promise<FeatureServer> {
  const server = await createFeatureServer(store, options)
  server.app.log.info(
    { url: server.url, auth: Boolean(options.authToken ?? process.env.LARDER_AUTH_TOKEN) },
    'feature server listening',
  )
  if (options.handleSignals ?? true) {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
      server.app.log.info({ signal }, 'shutting down: draining in-flight requests')
      server.close().then(
        () => {
          server.app.log.info({ signal }, 'feature server stopped')
          options.onShutdown?.(signal)
        },
        (err: unknown) => {
          server.app.log.error({ err }, 'shutdown failed')
          options.onShutdown?.(signal, err)
        },
      )
    }
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
    const close = server.close
    server.close = () => {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
      return close()
    }
  }
  return server
}
