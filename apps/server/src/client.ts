/**
 * A small typed client of the feature server for Node callers (uses `fetch`).
 */
import {
  type FeastOnlineJson,
  isLarderErrorCode,
  LarderError,
  type LarderErrorCode,
} from '@larder/core'
import type { ServerErrorCode } from './errors.js'
import { jsonReplacer } from './json.js'

/** Options of {@link featureServerClient}. */
export interface FeatureServerClientOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:6566`. */
  url: string
  /** Bearer token, when the server has one. @default undefined */
  authToken?: string
  /** Per-request timeout in milliseconds. @default 30000 */
  timeoutMs?: number
  /** The fetch implementation (tests). @default globalThis.fetch */
  fetch?: typeof fetch
}

/** What `getOnlineFeatures` asks for (values may be bigint or Uint8Array: encoded for JSON). */
export interface OnlineFeaturesQuery {
  /** Entity rows column-major (and request data for on-demand views). */
  entities: Record<string, readonly unknown[]>
  /** `view:feature` references (or `featureService`). */
  features?: readonly string[]
  featureService?: string
  /** @default false */
  fullFeatureNames?: boolean
}

/** Push destination. */
export type PushTarget = 'online' | 'offline' | 'online_and_offline'

/** A client of one feature server. */
export interface FeatureServerClient {
  /** POST /get-online-features: Feast's column-major JSON response. */
  getOnlineFeatures(query: OnlineFeaturesQuery): Promise<FeastOnlineJson>
  /** POST /push. */
  push(
    pushSourceName: string,
    df: Record<string, readonly unknown[]>,
    options?: { to?: PushTarget },
  ): Promise<{
    feature_views: string[]
    rows: number
    online_rows_written: number
    offline_rows_written: number
  }>
  /** POST /write-to-online-store. */
  writeToOnlineStore(
    featureViewName: string,
    df: Record<string, readonly unknown[]>,
  ): Promise<{ rows: number; rows_written: number }>
  /** POST /materialize. */
  materialize(startTs: string, endTs: string, featureViews?: string[]): Promise<unknown>
  /** POST /materialize-incremental. */
  materializeIncremental(endTs: string, featureViews?: string[]): Promise<unknown>
  /** GET /health: resolves when the server answers 200, else throws. */
  health(): Promise<{ status: 'ok'; project: string; registry_version: number }>
}

/**
 * An error answer of the server. `code` is a Larder error code (server-only codes map to
 * INVALID_INPUT for 4xx and BACKEND_ERROR for 5xx); `serverCode` is the code as sent.
 */
export class FeatureServerError extends LarderError {
  /** HTTP status. */
  readonly status: number
  /** `error.code` exactly as the server sent it (e.g. `UNAUTHORIZED`). */
  readonly serverCode: ServerErrorCode | string

  constructor(status: number, serverCode: string, message: string) {
    const code: LarderErrorCode = isLarderErrorCode(serverCode)
      ? serverCode
      : status >= 500
        ? 'BACKEND_ERROR'
        : 'INVALID_INPUT'
    super(code, `${message} (HTTP ${status}${serverCode !== code ? ` ${serverCode}` : ''})`, {
      component: 'server-client',
    })
    this.name = 'FeatureServerError'
    this.status = status
    this.serverCode = serverCode
  }
}

/**
 * Creates a client of a feature server. Request values may be bigint (sent as a number when
 * exact, else a decimal string) or Uint8Array (sent as base64).
 * @example
 * const client = featureServerClient({ url: 'http://127.0.0.1:6566' })
 * const res = await client.getOnlineFeatures({
 *   entities: { driver_id: [1001n] },
 *   features: ['driver_hourly_stats:conv_rate'],
 * })
 * res.results[1]?.values // [0.52]
 */
export function featureServerClient(options: FeatureServerClientOptions): FeatureServerClient {
  const base = options.url.replace(/\/+$/, '')
  const doFetch = options.fetch ?? globalThis.fetch
  const timeoutMs = options.timeoutMs ?? 30_000
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (options.authToken) headers.authorization = `Bearer ${options.authToken}`

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body, jsonReplacer) }),
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (err) {
      throw new LarderError('BACKEND_UNAVAILABLE', `cannot reach the feature server at ${base}`, {
        component: 'server-client',
        cause: err,
        hint: 'is `larder serve` running there?',
      })
    }
    const text = await res.text()
    let json: unknown
    try {
      json = text ? JSON.parse(text) : undefined
    } catch {
      json = undefined
    }
    if (!res.ok) {
      const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error
      throw new FeatureServerError(
        res.status,
        typeof error?.code === 'string' ? error.code : 'INTERNAL',
        typeof error?.message === 'string'
          ? error.message
          : `${method} ${path}: ${text.slice(0, 200)}`,
      )
    }
    return json as T
  }

  return {
    getOnlineFeatures: (query) =>
      call('POST', '/get-online-features', {
        entities: query.entities,
        ...(query.features !== undefined && { features: query.features }),
        ...(query.featureService !== undefined && { feature_service: query.featureService }),
        ...(query.fullFeatureNames !== undefined && {
          full_feature_names: query.fullFeatureNames,
        }),
      }),
    push: (pushSourceName, df, pushOptions = {}) =>
      call('POST', '/push', {
        push_source_name: pushSourceName,
        df,
        to: pushOptions.to ?? 'online',
      }),
    writeToOnlineStore: (featureViewName, df) =>
      call('POST', '/write-to-online-store', { feature_view_name: featureViewName, df }),
    materialize: (startTs, endTs, featureViews) =>
      call('POST', '/materialize', {
        start_ts: startTs,
        end_ts: endTs,
        ...(featureViews && { feature_views: featureViews }),
      }),
    materializeIncremental: (endTs, featureViews) =>
      call('POST', '/materialize-incremental', {
        end_ts: endTs,
        ...(featureViews && { feature_views: featureViews }),
      }),
    health: () => call('GET', '/health'),
  }
}
