/**
 * The Kinesis stream consumer: reads every shard of one stream for one stream feature view
 * with the AWS SDK v3 and hands the records to core's ingestion pipeline, which commits their
 * positions (per-shard checkpoints) only after its writes. Resharding keeps each key's order:
 * a child shard is read only after all its parents reached SHARD_END and were checkpointed.
 */
import { mkdir, open } from 'node:fs/promises'
import { dirname, isAbsolute, resolve } from 'node:path'
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  KinesisClient,
  type KinesisClientConfig,
  ListShardsCommand,
  PutRecordsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis'
import {
  type DeadLetter,
  LarderError,
  type StreamConnector,
  StreamConsumerBase,
  type StreamConsumerRequest,
  type StreamHandlers,
  type StreamSeek,
} from '@larder/core'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { type CheckpointStore, fileCheckpointStore, type ShardCheckpoint } from './checkpoints.js'
import type { KinesisSourceSpec } from './kinesis-source.js'

const COMPONENT = 'kinesis'

/** Options of {@link kinesisConnector}: settings that never go into the registry. */
export interface KinesisConnectorOptions {
  /**
   * A Kinesis client, or a function making one per source. When absent a client is made for
   * the source's region and endpoint with credentials from {@link credentials} or the AWS
   * default chain (environment, shared config files, SSO, container and instance roles).
   */
  client?: KinesisClient | ((source: { region: string; endpoint?: string }) => KinesisClient)
  /** Credentials (or a provider) instead of the AWS default chain. */
  credentials?: KinesisClientConfig['credentials']
  /**
   * Folder of the checkpoint files (one per view: `<project>.<view>.json`), relative to the
   * repo. @default 'data/kinesis-checkpoints'
   */
  checkpointDir?: string
  /** Another checkpoint store (for example in a database) instead of the files. */
  checkpoints?: (request: StreamConsumerRequest) => CheckpointStore
  /** Records asked for per GetRecords call (the service allows 10,000). @default 10000 */
  maxRecordsPerCall?: number
  /**
   * Least time between two GetRecords calls on one shard (the service allows 5 per second).
   * @default 200
   */
  minCallIntervalMs?: number
  /** Wait after a GetRecords call that returned nothing. @default 1000 */
  idleTimeBetweenReadsMs?: number
  /** How often the shard list is read again (new shards, ended parents). @default 10000 */
  shardSyncIntervalMs?: number
  /** Longest back-off after throttling (ProvisionedThroughputExceeded). @default 5000 */
  maxBackoffMs?: number
}

/**
 * The connector for Kinesis sources: put it in the config's `streams` section to give
 * credentials, a client or checkpoint settings; sources without one use the defaults.
 * @example
 * export default defineConfig({
 *   project: 'rides', offlineStore: fileOfflineStore(), onlineStore: sqliteOnlineStore(),
 *   streams: { connectors: [kinesisConnector({ checkpointDir: 'state/kinesis' })] },
 * })
 */
export function kinesisConnector(options: KinesisConnectorOptions = {}): StreamConnector {
  return {
    kind: 'kinesis',
    createConsumer: (request) => new KinesisStreamConsumer(request, options),
    checkSource: async (source) => {
      const spec = source as KinesisSourceSpec
      const { client, owned } = clientFor(spec, options)
      try {
        await client.send(new DescribeStreamSummaryCommand({ StreamName: spec.streamName }))
      } catch (err) {
        throw kinesisError(err, spec, 'apply --skip-source-validation registers it anyway')
      } finally {
        if (owned) client.destroy()
      }
    },
  }
}

function clientFor(
  source: KinesisSourceSpec,
  options: KinesisConnectorOptions,
): { client: KinesisClient; owned: boolean } {
  const given = options.client
  const where = {
    region: source.region,
    ...(source.endpoint === undefined ? {} : { endpoint: source.endpoint }),
  }
  if (typeof given === 'function') return { client: given(where), owned: false }
  if (given) return { client: given, owned: false }
  return {
    client: new KinesisClient({
      ...where,
      // HTTP/1.1: every Kinesis call here is request/response, and stand-ins speak only it.
      requestHandler: new NodeHttpHandler({ connectionTimeout: 3000, requestTimeout: 30_000 }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    }),
    owned: true,
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function nameOf(err: unknown): string {
  return (err as { name?: string } | null)?.name ?? ''
}

/**
 * A Kinesis or SDK error as one clear LarderError naming the stream, the region and what to
 * do (a missing stream, missing or rejected credentials, an unreachable endpoint).
 */
export function kinesisError(err: unknown, source: KinesisSourceSpec, extraHint?: string) {
  const at = `region ${source.region}${source.endpoint ? ` (endpoint ${source.endpoint})` : ''}`
  const opts = (hint: string) => ({
    component: COMPONENT,
    hint: extraHint ? `${hint}; ${extraHint}` : hint,
    cause: err,
  })
  const name = nameOf(err)
  const message = messageOf(err)
  if (name === 'ResourceNotFoundException')
    return new LarderError(
      'NOT_FOUND',
      `kinesis stream '${source.streamName}' of source '${source.name}' does not exist in ${at}`,
      opts('create it, or fix streamName and region in the source'),
    )
  if (
    name === 'CredentialsProviderError' ||
    /credential/i.test(name) ||
    /Could not load credentials/i.test(message)
  )
    return new LarderError(
      'INVALID_CONFIG',
      `no AWS credentials for kinesis source '${source.name}' (stream '${source.streamName}', ${at}): ${message}`,
      opts(
        'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or pass credentials to kinesisConnector() in larder.config.ts',
      ),
    )
  if (
    [
      'UnrecognizedClientException',
      'InvalidSignatureException',
      'AccessDeniedException',
      'ExpiredTokenException',
    ].includes(name)
  )
    return new LarderError(
      'INVALID_CONFIG',
      `AWS rejected the credentials for kinesis stream '${source.streamName}' of source '${source.name}' (${at}): ${name}: ${message}`,
      opts('check the access key, its secret and its permissions (kinesis:GetRecords and friends)'),
    )
  const code = (err as { code?: string } | null)?.code
  if (
    code &&
    ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH'].includes(code)
  )
    return new LarderError(
      'BACKEND_UNAVAILABLE',
      `cannot reach Kinesis in ${at} for source '${source.name}': ${message}`,
      opts('check the endpoint and the network'),
    )
  return new LarderError(
    'BACKEND_ERROR',
    `kinesis stream '${source.streamName}' of source '${source.name}' (${at}): ${name ? `${name}: ` : ''}${message}`,
    { component: COMPONENT, cause: err },
  )
}

const THROTTLED = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'KMSThrottlingException',
  'ThrottlingException',
])

/** One shard being read. */
interface ShardReader {
  shard: Shard
  /** The next read starts here (set by seek), else after the checkpoint. */
  seek?: Pick<
    GetShardIteratorCommandInput,
    'ShardIteratorType' | 'StartingSequenceNumber' | 'Timestamp'
  >
  done: Promise<void>
}

/** The default checkpoint file of a view: `<repo>/data/kinesis-checkpoints/<project>.<view>.json`. */
export function defaultCheckpointPath(
  repoPath: string,
  request: Pick<StreamConsumerRequest, 'project'> & { view: { name: string } },
  dir = 'data/kinesis-checkpoints',
): string {
  const base = isAbsolute(dir) ? dir : resolve(repoPath, dir)
  return resolve(base, `${request.project}.${request.view.name}.json`)
}

/** Reads one Kinesis source for one stream feature view (every shard, in one process). */
export class KinesisStreamConsumer extends StreamConsumerBase {
  readonly name = COMPONENT
  readonly #request: StreamConsumerRequest
  readonly #source: KinesisSourceSpec
  readonly #options: KinesisConnectorOptions
  #client: KinesisClient | undefined
  #ownsClient = false
  #checkpoints: CheckpointStore | undefined
  #state: Record<string, ShardCheckpoint> = {}
  readonly #readers = new Map<string, ShardReader>()
  readonly #stop = new AbortController()
  #handlers: StreamHandlers | undefined
  #syncTimer: NodeJS.Timeout | undefined
  #syncing: Promise<void> | undefined
  #closing: Promise<void> | undefined
  #failed = false

  constructor(request: StreamConsumerRequest, options: KinesisConnectorOptions = {}) {
    super()
    this.#request = request
    this.#source = request.source as KinesisSourceSpec
    this.#options = options
  }

  #clientOf(): KinesisClient {
    if (!this.#client) {
      const { client, owned } = clientFor(this.#source, this.#options)
      this.#client = client
      this.#ownsClient = owned
    }
    return this.#client
  }

  #checkpointStore(): CheckpointStore {
    if (!this.#checkpoints) {
      const make = this.#options.checkpoints
      this.#checkpoints = make
        ? make(this.#request)
        : fileCheckpointStore(
            defaultCheckpointPath(
              this.context?.repoPath ?? process.cwd(),
              this.#request,
              this.#options.checkpointDir,
            ),
            this.#source.streamName,
          )
    }
    return this.#checkpoints
  }

  async #send<T>(command: { input: unknown }): Promise<T> {
    return (await this.#clientOf().send(command as never, {
      abortSignal: this.#stop.signal,
    })) as T
  }

  /** Every shard of the stream (ListShards, all pages). */
  async #listShards(): Promise<Shard[]> {
    const shards: Shard[] = []
    let token: string | undefined
    do {
      const page = await this.#send<{ Shards?: Shard[]; NextToken?: string }>(
        new ListShardsCommand(
          token ? { NextToken: token } : { StreamName: this.#source.streamName },
        ),
      )
      shards.push(...(page.Shards ?? []))
      token = page.NextToken
    } while (token)
    return shards
  }

  async start(handlers: StreamHandlers): Promise<void> {
    this.#handlers = handlers
    try {
      this.#state = await this.#checkpointStore().load()
      await this.#sync()
    } catch (err) {
      throw err instanceof LarderError ? err : kinesisError(err, this.#source)
    }
    this.#syncTimer = setInterval(() => {
      this.#resync()
    }, this.#options.shardSyncIntervalMs ?? 10_000)
    this.#syncTimer.unref()
  }

  #resync(): void {
    if (this.#stop.signal.aborted || this.#syncing) return
    this.#syncing = this.#sync()
      .catch((err: unknown) => {
        if (!this.#stop.signal.aborted)
          this.context?.logger.warn(
            { err, stream: this.#source.streamName },
            `kinesis: cannot list the shards of '${this.#source.streamName}' (retrying): ${messageOf(err)}`,
          )
      })
      .finally(() => {
        this.#syncing = undefined
      })
  }

  /** Starts a reader for every shard that is open to reading (its parents all ended). */
  async #sync(): Promise<void> {
    const shards = await this.#listShards()
    const ids = new Set(shards.map((s) => s.ShardId!))
    let started = false
    for (const shard of shards) {
      const id = shard.ShardId!
      if (this.#readers.has(id) || this.#state[id]?.ended) continue
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter(
        (p): p is string => p !== undefined && ids.has(p),
      )
      if (!parents.every((p) => this.#state[p]?.ended)) continue
      const reader: ShardReader = { shard, done: Promise.resolve() }
      this.#readers.set(id, reader)
      reader.done = this.#read(reader, parents.length > 0)
      started = true
    }
    if (started) this.#handlers?.onAssigned?.([...this.#readers.keys()].sort())
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      if (this.#stop.signal.aborted) return done()
      const timer = setTimeout(finish, ms)
      function finish() {
        clearTimeout(timer)
        done()
      }
      this.#stop.signal.addEventListener('abort', finish, { once: true })
    })
  }

  async #iterator(reader: ShardReader, child: boolean): Promise<string | undefined> {
    const id = reader.shard.ShardId!
    const seq = this.#state[id]?.sequenceNumber
    const from = this.#source.startFrom
    let position: Pick<
      GetShardIteratorCommandInput,
      'ShardIteratorType' | 'StartingSequenceNumber' | 'Timestamp'
    >
    if (reader.seek) position = reader.seek
    else if (seq !== undefined)
      position = { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: seq }
    else if (child || from === 'TRIM_HORIZON') position = { ShardIteratorType: 'TRIM_HORIZON' }
    else if (from === 'LATEST') position = { ShardIteratorType: 'LATEST' }
    else position = { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(from.timestamp) }
    reader.seek = undefined
    const out = await this.#send<{ ShardIterator?: string }>(
      new GetShardIteratorCommand({
        StreamName: this.#source.streamName,
        ShardId: id,
        ...position,
      }),
    )
    return out.ShardIterator
  }

  /** The GetRecords loop of one shard, until it ends or the consumer closes. */
  async #read(reader: ShardReader, child: boolean): Promise<void> {
    const id = reader.shard.ShardId!
    const o = this.#options
    const minInterval = o.minCallIntervalMs ?? 200
    const limit = Math.min(o.maxRecordsPerCall ?? 10_000, 10_000)
    let iterator: string | undefined
    let failures = 0
    let lastCall = 0
    while (!this.#stop.signal.aborted) {
      try {
        if (iterator === undefined || reader.seek) iterator = await this.#iterator(reader, child)
        if (iterator === undefined) {
          // A closed shard whose records are all past the checkpoint: it has ended.
          await this.#end(id)
          return
        }
        const wait = lastCall + minInterval - Date.now()
        if (wait > 0) await this.#sleep(wait)
        if (this.#stop.signal.aborted) return
        lastCall = Date.now()
        const out = await this.#send<GetRecordsCommandOutput>(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }),
        )
        failures = 0
        const records = out.Records ?? []
        const ended = !out.NextShardIterator
        if (records.length > 0) {
          const last = records[records.length - 1]!.SequenceNumber!
          let committed = false
          await this.#handlers!.onBatch({
            stream: this.#source.streamName,
            partition: id,
            records: records.map((r) => ({
              key: r.PartitionKey === undefined ? null : Buffer.from(r.PartitionKey),
              value: r.Data ?? null,
              headers: [],
              partition: id,
              position: r.SequenceNumber!,
              timestamp:
                r.ApproximateArrivalTimestamp === undefined
                  ? null
                  : BigInt(r.ApproximateArrivalTimestamp.getTime()) * 1000n,
            })),
            ...(out.MillisBehindLatest === undefined ? {} : { lag: out.MillisBehindLatest }),
            commit: async () => {
              await this.#save(id, { sequenceNumber: last, ...(ended ? { ended: true } : {}) })
              committed = true
            },
          })
          if (!committed) {
            // Not written (stopping): read again from the checkpoint next time.
            iterator = undefined
            continue
          }
        }
        if (ended) {
          if (records.length === 0) await this.#end(id)
          this.#readers.delete(id)
          this.context?.logger.info(
            { shard: id, stream: this.#source.streamName },
            `kinesis: shard ${id} of '${this.#source.streamName}' ended (children may start)`,
          )
          this.#handlers?.onRevoked?.([id])
          this.#resync()
          return
        }
        iterator = out.NextShardIterator
        if (records.length === 0) await this.#sleep(o.idleTimeBetweenReadsMs ?? 1000)
      } catch (err) {
        if (this.#stop.signal.aborted) return
        const name = nameOf(err)
        if (name === 'ExpiredIteratorException') {
          iterator = undefined // re-got from the checkpoint
          continue
        }
        if (THROTTLED.has(name)) {
          failures++
          const cap = Math.min(o.maxBackoffMs ?? 5000, minInterval * 2 ** failures)
          const delay = cap / 2 + Math.random() * (cap / 2)
          this.context?.logger.debug({ shard: id, delayMs: delay }, `kinesis: ${name}, backing off`)
          await this.#sleep(delay)
          continue
        }
        if (++failures >= 5 || err instanceof LarderError || name === 'ResourceNotFoundException') {
          this.#fatal(err instanceof LarderError ? err : kinesisError(err, this.#source))
          return
        }
        this.context?.logger.warn(
          { err, shard: id },
          `kinesis: reading shard ${id} failed (retrying): ${messageOf(err)}`,
        )
        iterator = undefined
        await this.#sleep(Math.min(o.maxBackoffMs ?? 5000, 250 * 2 ** failures))
      }
    }
  }

  #fatal(err: unknown): void {
    if (this.#failed || this.#stop.signal.aborted) return
    this.#failed = true
    this.#handlers?.onError?.(err)
  }

  async #save(id: string, checkpoint: ShardCheckpoint): Promise<void> {
    await this.#checkpointStore().save(id, checkpoint)
    this.#state[id] = checkpoint
  }

  async #end(id: string): Promise<void> {
    await this.#save(id, { ...this.#state[id], ended: true })
  }

  override async seek(target: StreamSeek): Promise<void> {
    if ('partition' in target) {
      const reader = this.#readers.get(target.partition)
      if (!reader)
        throw new LarderError(
          'NOT_FOUND',
          `kinesis: shard '${target.partition}' is not being read`,
          {
            component: COMPONENT,
          },
        )
      reader.seek = {
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        StartingSequenceNumber: target.position,
      }
      return
    }
    const at = new Date(Number(target.timestamp / 1000n))
    for (const reader of this.#readers.values())
      reader.seek = { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: at }
  }

  async deadLetter(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return
    const view = this.#request.view.name
    const entries = letters.map(({ record, code, error }) => ({
      code,
      error,
      view,
      stream: this.#source.streamName,
      shardId: record.partition,
      sequenceNumber: record.position,
      partitionKey: record.key === null ? null : Buffer.from(record.key).toString(),
      arrivalTimestamp:
        record.timestamp === null ? null : new Date(Number(record.timestamp / 1000n)).toISOString(),
      data: record.value === null ? null : Buffer.from(record.value).toString('base64'),
    }))
    const target = this.#source.deadLetterStream
    if (target !== undefined) {
      let pending = entries
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt === 5)
          throw new LarderError(
            'BACKEND_ERROR',
            `kinesis: ${pending.length} dead letters not accepted by stream '${target}'`,
            { component: COMPONENT, hint: 'the batch is read again; check the stream' },
          )
        const out = await this.#clientOf().send(
          new PutRecordsCommand({
            StreamName: target,
            Records: pending.map((e) => ({
              PartitionKey: e.partitionKey || e.shardId,
              Data: Buffer.from(JSON.stringify(e)),
            })),
          }),
        )
        pending = pending.filter((_, i) => out.Records?.[i]?.ErrorCode !== undefined)
        if (pending.length > 0) await this.#sleep(100 * 2 ** attempt)
      }
      return
    }
    const path = resolve(this.context?.repoPath ?? process.cwd(), this.#source.deadLetterPath!)
    await mkdir(dirname(path), { recursive: true })
    const handle = await open(path, 'a')
    try {
      await handle.writeFile(entries.map((e) => `${JSON.stringify(e)}\n`).join(''))
      await handle.sync()
    } finally {
      await handle.close()
    }
  }

  async close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#syncTimer) clearInterval(this.#syncTimer)
      this.#stop.abort()
      // Each reader finishes (and commits) its in-flight batch before returning.
      await Promise.allSettled([...this.#readers.values()].map((r) => r.done))
      await this.#syncing
      if (this.#ownsClient) this.#client?.destroy()
    })()
    return this.#closing
  }
}
