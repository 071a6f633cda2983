/**
 * The Redis online store, in Feast's Redis layout (see README.md, "Byte layout"): one hash
 * per entity key and project, shared by every view of that entity; a field per feature
 * named by the murmur3 hash of `view:feature` holding a `feast.types.Value`, and
 * `_ts:<view>` holding the event time as a `google.protobuf.Timestamp`.
 */
import { createHash } from 'node:crypto'
import type { ConnectionOptions } from 'node:tls'
import {
  isLarderError,
  LarderError,
  type OnlineRow,
  OnlineStoreBase,
  type OnlineStoreCapabilities,
  type OnlineStoreUpdate,
  type OnlineValue,
  type StoredViewSpec,
  type ValueTypeName,
} from '@larder/core'
import { Cluster, type ClusterNode, Redis, type RedisOptions, type SentinelAddress } from 'ioredis'
import { decodeTimestamp, decodeValue, encodeTimestamp, encodeValue, ProtoWriter } from './codec.js'
import { featureFieldName } from './murmur3.js'
import { DROP_SCRIPT, WRITE_SCRIPT } from './scripts.js'

/** The component named in this package's errors. */
const COMPONENT = 'redis'

/** Options of {@link redisOnlineStore}. */
export interface RedisOnlineStoreOptions {
  /**
   * The server to connect to (`redis://[:password@]host:port[/db]`, `rediss://` for TLS).
   * Ignored when `client`, `sentinels` or `cluster` is given.
   * A library reads no environment: pass `url: process.env.REDIS_URL` from the config.
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string
  /**
   * An ioredis client (`Redis` or `Cluster`) to use instead of creating one. The store
   * connects it if needed but never closes it: its owner does.
   */
  client?: Redis | Cluster
  /**
   * Sentinels to ask for the master named `name` (Redis Sentinel high availability).
   * @example [{ host: '127.0.0.1', port: 26379 }]
   */
  sentinels?: Array<Partial<SentinelAddress>>
  /**
   * The Sentinel master group name.
   * @default 'mymaster'
   */
  name?: string
  /**
   * Startup nodes of a Redis Cluster. Every key of Larder is one hash, so each lives in one
   * slot and the per-key scripts run on Cluster unchanged (no hash tags needed).
   * @example [{ host: '127.0.0.1', port: 7000 }]
   */
  cluster?: ClusterNode[]
  /** Password (for Sentinel, the data nodes' password; for Cluster, every node's). */
  password?: string
  /** TLS options passed to ioredis (`true` = TLS with Node's defaults). */
  tls?: boolean | ConnectionOptions
  /**
   * Expire each entity's hash this many seconds after its last write (Feast's
   * `key_ttl_seconds`: the EXPIRE covers every view of the entity). Unset: keys never expire.
   * @default undefined
   */
  keyTtlSeconds?: number
  /**
   * Keys per pipeline (writes and reads).
   * @default 1000
   */
  batchSize?: number
  /**
   * Keys per call of the write script on a standalone or Sentinel server (each key is still
   * checked and written atomically; on Cluster it is always 1).
   * @default 100
   */
  keysPerScript?: number
  /**
   * How long the first connection may take before the store gives up, in milliseconds.
   * @default 5000
   */
  connectTimeoutMs?: number
  /**
   * How long one command (or pipeline) may wait for Redis's answer before it fails with
   * BACKEND_UNAVAILABLE, in milliseconds: a hung or unreachable Redis never hangs reads,
   * pushes or materialization. Raise it for very large batches on a slow link.
   * @default 5000
   */
  commandTimeoutMs?: number
}

const UINT32 = 4

/** ioredis and socket messages of a Redis that is down, unreachable or too slow. */
const UNAVAILABLE =
  /max retries per request|timed out|connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|isn't writeable|connection closed/i

/** One call of the write script: its keys, then its arguments. */
interface WriteCall {
  numKeys: number
  args: Array<string | Buffer>
}

/** A view's field names and feature types, cached per view. */
interface ViewFields {
  tsField: Buffer
  fields: Map<string, Buffer>
  types: Map<string, ValueTypeName>
}

/** One command: its name and arguments. */
type Command = [name: string, ...args: Array<string | Buffer | number>]

/**
 * Sends commands and returns `[error, reply]` per command, in order, replies as Buffers.
 * Standalone/Sentinel: one pipeline. Cluster: commands one by one, all in flight at once
 * (an ioredis pipeline must stay on one node there).
 */
async function send(
  client: Redis | Cluster,
  commands: Command[],
): Promise<Array<[Error | null, unknown]>> {
  if (client instanceof Cluster) {
    return Promise.all(
      commands.map(([name, ...args]) =>
        clusterCall(client, name, args).then(
          (reply): [Error | null, unknown] => [null, reply],
          (err: Error): [Error | null, unknown] => [err, null],
        ),
      ),
    )
  }
  const pipe = client.pipeline()
  for (const [name, ...args] of commands) pipe.callBuffer(name, ...args)
  return ((await pipe.exec()) ?? []) as Array<[Error | null, unknown]>
}

/**
 * One command on a Cluster through its named method: ioredis 6 auto-pipelining drops the
 * command name of `callBuffer`, so the generic form cannot be used there.
 */
function clusterCall(
  client: Cluster,
  name: string,
  args: Array<string | Buffer | number>,
): Promise<unknown> {
  const [first, second, ...rest] = args
  switch (name) {
    case 'EVALSHA':
      return client.evalsha(first as string, second as number, ...rest)
    case 'EVAL':
      return client.eval(first as string, second as number, ...rest)
    case 'HMGET':
      return client.hmgetBuffer(first as Buffer, ...(args.slice(1) as Buffer[]))
    default:
      return client.callBuffer(name, ...args)
  }
}

function isNoScript(err: Error | null | undefined): boolean {
  return err !== null && err !== undefined && String(err.message).startsWith('NOSCRIPT')
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex')
}

/** Hides a URL's password. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString().replace(/\/$/, '')
  } catch {
    return url
  }
}

/** Escapes Redis glob characters of a byte pattern. */
function escapeGlob(bytes: Uint8Array): Buffer {
  const out: number[] = []
  for (const b of bytes) {
    // * ? [ ] \
    if (b === 0x2a || b === 0x3f || b === 0x5b || b === 0x5d || b === 0x5c) out.push(0x5c)
    out.push(b)
  }
  return Buffer.from(out)
}

/**
 * Length of the serialized (Feast v3) entity key at the start of `key`, or -1 when `key`
 * does not start with one.
 */
export function entityKeyLength(key: Uint8Array): number {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength)
  if (key.length < UINT32) return -1
  const count = view.getUint32(0, true)
  let o = UINT32
  for (let i = 0; i < 2 * count; i++) {
    if (o + 8 > key.length) return -1
    const len = view.getUint32(o + 4, true)
    o += 8 + len
    if (o > key.length) return -1
  }
  return o
}

/** The Feast v3 serialization of the join-key names alone: the prefix of every key of them. */
export function entityKeyPrefix(joinKeys: readonly string[]): Buffer {
  const names = [...joinKeys].sort().map((k) => Buffer.from(k, 'utf8'))
  const parts: Buffer[] = []
  const count = Buffer.alloc(4)
  count.writeUInt32LE(names.length, 0)
  parts.push(count)
  for (const n of names) {
    const head = Buffer.alloc(8)
    head.writeUInt32LE(2, 0)
    head.writeUInt32LE(n.length, 4)
    parts.push(head, n)
  }
  return Buffer.concat(parts)
}

/** The online store on Redis. Create it with {@link redisOnlineStore}. */
export class RedisOnlineStore extends OnlineStoreBase {
  readonly name = COMPONENT
  override readonly capabilities: OnlineStoreCapabilities
  /** Where the store connects, for messages (password hidden). */
  readonly target: string
  readonly #options: RedisOnlineStoreOptions
  readonly #batchSize: number
  readonly #keysPerCall: number
  readonly #ttl: string
  #client: Redis | Cluster | undefined
  readonly #ownsClient: boolean
  #connecting: Promise<Redis | Cluster> | undefined
  #everReady = false
  /** The last error the client emitted (ioredis reports connection failures as events). */
  #lastError: Error | undefined
  readonly #writeSha = sha1(WRITE_SCRIPT)
  readonly #dropSha = sha1(DROP_SCRIPT)
  readonly #viewFields = new Map<string, ViewFields>()
  readonly #joinKeys = new Map<string, string[]>()
  #projectBytes: Buffer | undefined

  constructor(options: RedisOnlineStoreOptions = {}) {
    super()
    this.#options = options
    this.#batchSize = Math.max(1, options.batchSize ?? 1000)
    this.#keysPerCall = Math.max(1, options.keysPerScript ?? 100)
    const ttl = options.keyTtlSeconds
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) {
      throw new LarderError(
        'INVALID_CONFIG',
        `keyTtlSeconds must be a positive integer, got ${ttl}`,
        {
          component: COMPONENT,
        },
      )
    }
    this.#ttl = String(ttl ?? 0)
    this.capabilities = { keyTtl: ttl !== undefined, concurrentWriters: true }
    this.#ownsClient = options.client === undefined
    if (options.client) {
      this.#client = options.client
      this.target = describeClient(options.client)
    } else if (options.cluster) {
      this.target = `redis cluster ${options.cluster.map((n) => (typeof n === 'object' ? `${n.host ?? '127.0.0.1'}:${n.port ?? 6379}` : String(n))).join(',')}`
    } else if (options.sentinels) {
      this.target = `redis sentinel master '${options.name ?? 'mymaster'}' via ${options.sentinels.map((s) => `${s.host ?? '127.0.0.1'}:${s.port ?? 26379}`).join(',')}`
    } else {
      this.target = safeUrl(this.url)
    }
  }

  /** The URL a standalone client connects to. */
  get url(): string {
    return this.#options.url ?? 'redis://127.0.0.1:6379'
  }

  /**
   * The ioredis client, created (not connected) on first call. Exposed for tools and tests.
   */
  get redis(): Redis | Cluster {
    if (!this.#client) {
      const client = this.#createClient()
      // Without a listener ioredis prints every connection error; keep the last for messages.
      client.on('error', (err: Error) => {
        this.#lastError = err
      })
      this.#client = client
    }
    return this.#client
  }

  #createClient(): Redis | Cluster {
    const o = this.#options
    const tls = o.tls === true ? {} : o.tls === false ? undefined : o.tls
    const connectTimeout = o.connectTimeoutMs ?? 5000
    // Before the first successful connection, do not retry: fail fast with a clear error.
    // Afterwards, reconnect with a capped backoff.
    const retry = (times: number) => (this.#everReady ? Math.min(times * 100, 2000) : null)
    const common: RedisOptions = {
      lazyConnect: true,
      connectTimeout,
      commandTimeout: o.commandTimeoutMs ?? 5000,
      maxRetriesPerRequest: 3,
      retryStrategy: retry,
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(tls ? { tls } : {}),
    }
    if (o.cluster) {
      const { retryStrategy: _ignored, ...redisOptions } = common
      return new Cluster(o.cluster, {
        lazyConnect: true,
        // Not auto-pipelining: ioredis 6 computes its slot from the key as a UTF-8 string,
        // which is wrong for binary keys like ours.
        enableAutoPipelining: false,
        clusterRetryStrategy: retry,
        redisOptions,
      })
    }
    if (o.sentinels) {
      return new Redis({
        ...common,
        sentinels: o.sentinels,
        name: o.name ?? 'mymaster',
        sentinelRetryStrategy: retry,
        ...(tls ? { enableTLSForSentinelMode: true } : {}),
      })
    }
    return new Redis(this.url, common)
  }

  /** Connects on first use; a LarderError naming the target when Redis is unreachable. */
  async #ready(): Promise<Redis | Cluster> {
    const client = this.redis
    const status = client.status
    if (status === 'ready') return client
    // Connected before and now reconnecting: ioredis queues the commands and retries them
    // (up to maxRetriesPerRequest), so a lasting outage surfaces as a failed command.
    if (this.#everReady && status !== 'end' && status !== 'wait') return client
    this.#connecting ??= (async () => {
      try {
        if (status === 'wait' || status === 'end' || status === 'close') {
          this.#lastError = undefined
          await client.connect()
        } else {
          // A client passed in that is connecting already: wait for it, not forever.
          const limit = (this.#options.connectTimeoutMs ?? 5000) + 1000
          await new Promise<void>((resolve, reject) => {
            const done = (err?: Error) => {
              clearTimeout(timer)
              client.off('ready', onReady)
              client.off('end', onEnd)
              if (err) reject(err)
              else resolve()
            }
            const onReady = () => done()
            const onEnd = () => done(new Error('connection closed'))
            const timer = setTimeout(() => done(new Error(`not ready after ${limit} ms`)), limit)
            client.once('ready', onReady)
            client.once('end', onEnd)
          })
        }
        this.#everReady = true
        return client
      } catch (err) {
        if (this.#ownsClient) client.disconnect()
        const cause = this.#lastError ?? err
        this.#lastError = undefined
        const reason = cause instanceof Error ? cause.message : String(cause)
        throw new LarderError(
          'BACKEND_UNAVAILABLE',
          `cannot connect to ${this.target}: ${reason || 'connection refused'}; pass redisOnlineStore({ url }) (e.g. url: process.env.REDIS_URL in larder.config.ts)`,
          { component: COMPONENT, cause },
        )
      } finally {
        this.#connecting = undefined
      }
    })()
    return this.#connecting
  }

  get #project(): Buffer {
    if (!this.#projectBytes) {
      if (!this.context) {
        throw new LarderError('INTERNAL', 'the store was used before configure()', {
          component: COMPONENT,
        })
      }
      this.#projectBytes = Buffer.from(this.context.project, 'utf8')
    }
    return this.#projectBytes
  }

  override configure(context: Parameters<OnlineStoreBase['configure']>[0]): void {
    super.configure(context)
    this.#projectBytes = undefined
  }

  /** The Redis key of an entity: its serialized key followed by the project name. */
  redisKey(entityKey: Uint8Array): Buffer {
    const project = this.#project
    const out = Buffer.allocUnsafe(entityKey.length + project.length)
    out.set(entityKey, 0)
    project.copy(out, entityKey.length)
    return out
  }

  #fieldsOf(view: StoredViewSpec): ViewFields {
    let vf = this.#viewFields.get(view.name)
    if (!vf) {
      vf = { tsField: Buffer.from(`_ts:${view.name}`, 'utf8'), fields: new Map(), types: new Map() }
      this.#viewFields.set(view.name, vf)
    }
    for (const f of view.features) vf.types.set(f.name, f.valueType)
    return vf
  }

  #field(vf: ViewFields, view: string, feature: string): Buffer {
    let f = vf.fields.get(feature)
    if (!f) {
      f = featureFieldName(view, feature)
      vf.fields.set(feature, f)
    }
    return f
  }

  #failure(action: string, view: string | undefined, err: unknown): LarderError {
    if (isLarderError(err)) return err
    const reason = err instanceof Error ? err.message : String(err)
    const what = view === undefined ? action : `${action} view '${view}'`
    // Redis down, unreachable or not answering in time: retryable, unlike an error reply.
    if (UNAVAILABLE.test(reason)) {
      return new LarderError(
        'BACKEND_UNAVAILABLE',
        `${what} on ${this.target} failed: Redis did not answer (${reason})`,
        {
          component: 'redis',
          cause: err,
          hint: 'retry later; check that Redis is up and reachable (option commandTimeoutMs bounds the wait)',
        },
      )
    }
    return new LarderError('BACKEND_ERROR', `${what} on ${this.target} failed: ${reason}`, {
      component: COMPONENT,
      cause: err,
    })
  }

  async update(change: OnlineStoreUpdate): Promise<void> {
    for (const e of change.entities) this.#joinKeys.set(e.name, e.joinKeys)
    for (const v of change.keep) this.#fieldsOf(v)
    if (change.drop.length > 0) await this.teardown(change.drop)
  }

  async writeBatch(view: StoredViewSpec, features: string[], rows: OnlineRow[]): Promise<number> {
    if (rows.length === 0) return 0
    const vf = this.#fieldsOf(view)
    const types = features.map((f) => {
      const type = vf.types.get(f)
      if (!type) {
        throw new LarderError('NOT_FOUND', `feature '${f}' is not in view '${view.name}'`, {
          component: COMPONENT,
        })
      }
      return type
    })
    const names = features.map((f) => this.#field(vf, view.name, f))
    const client = await this.#ready()
    // Standalone and Sentinel: many keys per script call (fewer commands, same per-key
    // atomicity). Cluster: one key per call, as keys of one call must share a slot.
    const perCall = client instanceof Cluster ? 1 : Math.min(this.#keysPerCall, this.#batchSize)
    const head: Array<string | Buffer> = [
      view.name,
      this.#ttl,
      String(features.length),
      '0',
      ...names,
    ]
    const w = new ProtoWriter(1 << 16)
    let written = 0
    let pending: Promise<number> | undefined
    try {
      for (let start = 0; start < rows.length; start += this.#batchSize) {
        const calls: WriteCall[] = []
        const end = Math.min(rows.length, start + this.#batchSize)
        for (let from = start; from < end; from += perCall) {
          const to = Math.min(end, from + perCall)
          const keys: Buffer[] = []
          const argv: Array<string | Buffer> = [...head]
          for (let i = from; i < to; i++) {
            const row = rows[i]!
            keys.push(this.redisKey(row.key))
            w.reset()
            encodeTimestamp(w, row.eventTs)
            const tsEnd = w.pos
            if (row.createdTs !== null) encodeTimestamp(w, row.createdTs)
            const createdEnd = w.pos
            const bounds: number[] = []
            for (let j = 0; j < features.length; j++) {
              encodeValue(w, types[j]!, row.values[j] ?? null, features[j])
              bounds.push(w.pos)
            }
            // One copy of the row's encoded bytes; the arguments are views into it.
            const bytes = Buffer.from(w.buf.subarray(0, w.pos))
            argv.push(bytes.subarray(0, tsEnd))
            argv.push(row.createdTs === null ? '' : bytes.subarray(tsEnd, createdEnd))
            let at = createdEnd
            for (let j = 0; j < features.length; j++) {
              argv.push(bytes.subarray(at, bounds[j]!))
              at = bounds[j]!
            }
          }
          calls.push({ numKeys: keys.length, args: [...keys, ...argv] })
        }
        // Keep one pipeline in flight while the next one is encoded.
        const sent = this.#runWrites(client, calls)
        if (pending) written += await pending
        pending = sent
      }
      if (pending) written += await pending
    } catch (err) {
      await pending?.catch(() => 0)
      throw this.#failure('writing', view.name, err)
    }
    return written
  }

  /**
   * Runs write script calls; re-sends those that met NOSCRIPT with EVAL. When the connection
   * closes before the replies came (the scripts may have run), the calls are sent again as
   * retries (up to 3 times): a key already holding exactly the row then counts as written,
   * so the count is right after a reconnect (ioredis's own re-send of the lost calls would
   * find the rows written and count them as not).
   */
  async #runWrites(client: Redis | Cluster, batch: WriteCall[]): Promise<number> {
    let written = 0
    let pending = batch.map((call) => ({ call, eval: false }))
    for (let attempt = 0; pending.length > 0; attempt++) {
      // Only calls written to a live connection can be lost with their replies; calls queued
      // while reconnecting are sent once, when the connection is back.
      const onWire = client.status === 'ready'
      let onClose = () => {}
      const lost = new Promise<'lost'>((resolve) => {
        onClose = () => resolve('lost')
        if (onWire) client.once('close', onClose)
      })
      const sent = send(
        client,
        pending.map(
          ({ call, eval: asEval }): Command =>
            asEval
              ? ['EVAL', WRITE_SCRIPT, call.numKeys, ...call.args]
              : ['EVALSHA', this.#writeSha, call.numKeys, ...call.args],
        ),
      )
      const results = await Promise.race([sent, lost]).finally(() => client.off('close', onClose))
      if (results === 'lost') {
        sent.catch(() => undefined)
        if (attempt >= 3) throw new Error('Connection is closed (3 retries of lost writes)')
        for (const p of pending) p.call.args[p.call.numKeys + 3] = '1'
        continue
      }
      const again: typeof pending = []
      results.forEach(([err, value], i) => {
        if (!err) written += Number(value)
        // The script cache was flushed (or this is a new node): EVAL caches it again.
        else if (isNoScript(err)) again.push({ call: pending[i]!.call, eval: true })
        else throw err
      })
      pending = again
    }
    return written
  }

  async read(
    view: StoredViewSpec,
    keys: Uint8Array[],
    features: string[],
  ): Promise<Array<OnlineValue | undefined>> {
    if (keys.length === 0) return []
    const vf = this.#fieldsOf(view)
    const fields = [vf.tsField, ...features.map((f) => this.#field(vf, view.name, f))]
    const types = features.map((f) => vf.types.get(f))
    const client = await this.#ready()
    const batches: Array<Promise<Array<[Error | null, unknown]>>> = []
    try {
      for (let start = 0; start < keys.length; start += this.#batchSize) {
        const end = Math.min(keys.length, start + this.#batchSize)
        const commands: Command[] = []
        for (let i = start; i < end; i++)
          commands.push(['HMGET', this.redisKey(keys[i]!), ...fields])
        batches.push(send(client, commands))
      }
      const out: Array<OnlineValue | undefined> = []
      for (const results of await Promise.all(batches)) {
        for (const [err, reply] of results) {
          if (err) throw err
          const values = reply as Array<Buffer | null>
          const ts = values[0]
          if (ts === null || ts === undefined) {
            out.push(undefined)
            continue
          }
          const decoded: unknown[] = new Array(features.length)
          for (let j = 0; j < features.length; j++) {
            const raw = values[j + 1]
            decoded[j] = raw === null || raw === undefined ? null : decodeValue(raw, types[j])
          }
          out.push({ values: decoded, eventTs: decodeTimestamp(ts) })
        }
      }
      return out
    } catch (err) {
      throw this.#failure('reading', view.name, err)
    }
  }

  /**
   * Removes the views' fields from every hash of the project. Keys are found with SCAN
   * MATCH `<join-key prefix>*<project>` (all keys ending with the project when a view's
   * entities are unknown to this store), on every master of a Cluster, then checked to be
   * exactly `entity key + project`. Cost: one pass over the whole keyspace per group of
   * dropped views sharing join keys.
   */
  async teardown(views: StoredViewSpec[]): Promise<void> {
    if (views.length === 0) return
    const client = await this.#ready()
    const project = this.#project
    const groups = new Map<string, { prefix: Buffer; views: StoredViewSpec[] }>()
    for (const v of views) {
      const joinKeys: string[] = []
      let known = v.entities.length > 0
      for (const e of v.entities) {
        const keys = this.#joinKeys.get(e)
        if (keys) joinKeys.push(...keys)
        else known = false
      }
      const prefix = known ? entityKeyPrefix(joinKeys) : Buffer.alloc(0)
      const id = prefix.toString('hex')
      const group = groups.get(id) ?? { prefix, views: [] }
      group.views.push(v)
      groups.set(id, group)
    }
    try {
      for (const { prefix, views: group } of groups.values()) {
        const args: Array<string | Buffer> = group.map((v) => v.name)
        args.push('--')
        for (const v of group)
          for (const f of v.features) args.push(featureFieldName(v.name, f.name))
        const pattern = Buffer.concat([escapeGlob(prefix), Buffer.from('*'), escapeGlob(project)])
        const nodes = client instanceof Cluster ? client.nodes('master') : [client]
        for (const node of nodes) {
          let cursor = '0'
          do {
            const [next, found] = await node.scanBuffer(
              cursor,
              'MATCH',
              // ioredis sends Buffers as they are; its typing only lists strings here.
              pattern as unknown as string,
              'COUNT',
              1000,
            )
            cursor = String(next)
            const keys = found.filter(
              (k) =>
                k.length > project.length &&
                entityKeyLength(k) === k.length - project.length &&
                k.subarray(k.length - project.length).equals(project),
            )
            if (keys.length === 0) continue
            const results = await send(
              client,
              keys.map((k): Command => ['EVALSHA', this.#dropSha, 1, k, ...args]),
            )
            const retry = keys.filter((_, i) => {
              const err = results[i]?.[0]
              if (err && !isNoScript(err)) throw err
              return isNoScript(err)
            })
            if (retry.length > 0) {
              const again = await send(
                client,
                retry.map((k): Command => ['EVAL', DROP_SCRIPT, 1, k, ...args]),
              )
              for (const [err] of again) if (err) throw err
            }
          } while (cursor !== '0')
        }
      }
    } catch (err) {
      throw this.#failure('dropping', views.map((v) => v.name).join("', '"), err)
    }
  }

  async close(): Promise<void> {
    const client = this.#client
    if (!client || !this.#ownsClient) return
    this.#client = undefined
    this.#everReady = false
    if (client.status === 'ready') {
      try {
        await client.quit()
        return
      } catch {
        // Fall through to a hard disconnect.
      }
    }
    client.disconnect()
  }
}

function describeClient(client: Redis | Cluster): string {
  if (client instanceof Cluster) {
    return `redis cluster ${client
      .nodes()
      .map((n) => `${n.options.host}:${n.options.port}`)
      .join(',')}`
  }
  const o = client.options
  return `redis://${o.host ?? '127.0.0.1'}:${o.port ?? 6379}`
}

/**
 * Creates the Redis online store (Feast-compatible layout: Feast reads what Larder writes
 * and the other way round). Connects lazily, on first use.
 *
 * @example
 * // larder.config.ts: the quickstart on Redis instead of SQLite
 * export default defineConfig({
 *   project: 'quickstart',
 *   offlineStore: fileOfflineStore(),
 *   onlineStore: redisOnlineStore({ url: 'redis://127.0.0.1:6379' }),
 * })
 */
export function redisOnlineStore(options: RedisOnlineStoreOptions = {}): RedisOnlineStore {
  return new RedisOnlineStore(options)
}
