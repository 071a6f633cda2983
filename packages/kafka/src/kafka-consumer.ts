/**
 * The Kafka stream consumer: one consumer-group member per stream feature view, reading raw
 * records with a KafkaJS-compatible client (kafkajs 2.2 by default) and handing them to
 * core's ingestion pipeline, which commits their offsets only after its writes.
 */
import {
  type DeadLetter,
  LarderError,
  type Logger,
  type StreamConnector,
  StreamConsumerBase,
  type StreamConsumerRequest,
  type StreamHandlers,
  type StreamRecord,
  type StreamSeek,
} from '@larder/core'
import { Kafka, logLevel } from 'kafkajs'
import type {
  KafkaAdminLike,
  KafkaClientLike,
  KafkaConsumerLike,
  KafkaMessageLike,
  KafkaProducerLike,
} from './client.js'
import type { KafkaSourceSpec } from './kafka-source.js'

const COMPONENT = 'kafka'

/** Headers added to every dead letter (beside the record's own headers). */
export const DEAD_LETTER_HEADERS = {
  /** Why: `DECODE_ERROR`, `INVALID_RECORD`, `TRANSFORM_ERROR`. */
  code: 'larder.errors.code',
  /** One line naming the field and what was wrong. */
  message: 'larder.errors.message',
  topic: 'larder.errors.topic',
  partition: 'larder.errors.partition',
  offset: 'larder.errors.offset',
  /** The stream feature view that could not ingest it. */
  view: 'larder.errors.view',
} as const

/** SASL settings, as kafkajs takes them. */
export type KafkaSasl =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | { mechanism: string; [setting: string]: unknown }

/** Options of {@link kafkaConnector}: settings that never go into the registry. */
export interface KafkaConnectorOptions {
  /**
   * A KafkaJS-compatible client (kafkajs' `new Kafka(...)`, or for example
   * @confluentinc/kafka-javascript's KafkaJS API), or a function making one per source from
   * its bootstrap servers. When absent a kafkajs client is made with the settings below.
   */
  client?: KafkaClientLike | ((source: { bootstrapServers: string[] }) => KafkaClientLike)
  /** @default 'larder' */
  clientId?: string
  /** TLS: `true` or Node `tls.connect` options. */
  ssl?: boolean | Record<string, unknown>
  /** SASL authentication (credentials: pass them from the environment in larder.config.ts). */
  sasl?: KafkaSasl
  /** Consumer session timeout (ms). @default 10000 */
  sessionTimeout?: number
  /** @default 1000 */
  heartbeatInterval?: number
  /** Longest a fetch waits for data (ms). @default 500 */
  maxWaitTimeInMs?: number
  /**
   * Bytes fetched per partition per request: with the records in one pipeline batch, this
   * bounds memory. @default 4194304 (4 MiB)
   */
  maxBytesPerPartition?: number
  /** Records handed to the pipeline (and committed) at most at once. @default 20000 */
  maxBatchRecords?: number
  /** Partitions processed at the same time by one consumer. @default 1 */
  partitionsConsumedConcurrently?: number
  /** Create the dead-letter topic when it does not exist. @default true */
  createDeadLetterTopic?: boolean
}

/**
 * The connector for Kafka sources: put it in the config's `streams` section to give
 * credentials, TLS or your own client; sources without one use the defaults.
 * @example
 * export default defineConfig({
 *   project: 'rides', offlineStore: fileOfflineStore(), onlineStore: sqliteOnlineStore(),
 *   streams: {
 *     kafka: kafkaConnector({
 *       ssl: true,
 *       sasl: { mechanism: 'scram-sha-512', username: process.env.KAFKA_USER ?? '', password: process.env.KAFKA_PASSWORD ?? '' },
 *     }),
 *   },
 * })
 */
export function kafkaConnector(options: KafkaConnectorOptions = {}): StreamConnector {
  return {
    kind: 'kafka',
    createConsumer: (request) => new KafkaStreamConsumer(request, options),
    checkSource: (source) => checkKafkaSource(source as KafkaSourceSpec, options),
  }
}

/** The connector's client for a source: the given one, or a kafkajs client. */
function clientFor(
  source: KafkaSourceSpec,
  options: KafkaConnectorOptions,
  logger: Logger | undefined,
  retries = 5,
): KafkaClientLike {
  const given = options.client
  if (typeof given === 'function') return given({ bootstrapServers: source.bootstrapServers })
  if (given) return given
  return new Kafka({
    clientId: options.clientId ?? 'larder',
    brokers: source.bootstrapServers,
    ...(options.ssl === undefined ? {} : { ssl: options.ssl as never }),
    ...(options.sasl === undefined ? {} : { sasl: options.sasl as never }),
    connectionTimeout: 3000,
    retry: { retries, initialRetryTime: 200 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      const { message, ...rest } = entry.log
      if (entry.level <= logLevel.ERROR)
        logger?.warn({ ...rest, kafka: entry.namespace }, `kafkajs: ${message}`)
      else logger?.debug({ ...rest, kafka: entry.namespace }, `kafkajs: ${message}`)
    },
  }) as unknown as KafkaClientLike
}

/**
 * Apply-time check: the topic exists and the brokers answer.
 * @throws LarderError BACKEND_UNAVAILABLE naming the brokers, NOT_FOUND naming the topic.
 */
async function checkKafkaSource(
  source: KafkaSourceSpec,
  options: KafkaConnectorOptions,
): Promise<void> {
  const admin = clientFor(source, options, undefined, 1).admin()
  let topics: string[]
  try {
    await admin.connect()
    topics = await admin.listTopics()
  } catch (err) {
    throw new LarderError(
      'BACKEND_UNAVAILABLE',
      `cannot reach Kafka at ${source.bootstrapServers.join(', ')} for source '${source.name}': ${messageOf(err)}`,
      {
        component: COMPONENT,
        hint: 'start the brokers or fix bootstrapServers; apply --skip-source-validation registers it anyway',
        cause: err,
      },
    )
  } finally {
    await admin.disconnect().catch(() => {})
  }
  if (!topics.includes(source.topic)) {
    throw new LarderError(
      'NOT_FOUND',
      `topic '${source.topic}' of source '${source.name}' does not exist on ${source.bootstrapServers.join(', ')}`,
      {
        component: COMPONENT,
        hint: 'create it, or apply --skip-source-validation to register the source anyway',
      },
    )
  }
}

/** The default consumer group of a view: `larder.<project>.<view>`. */
export function defaultGroupId(project: string, view: string): string {
  return `larder.${project}.${view}`
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** Reads one Kafka source for one stream feature view, as a consumer-group member. */
export class KafkaStreamConsumer extends StreamConsumerBase {
  readonly name = COMPONENT
  readonly #source: KafkaSourceSpec
  readonly #view: string
  readonly #groupId: string
  readonly #options: KafkaConnectorOptions
  #client: KafkaClientLike | undefined
  #consumer: KafkaConsumerLike | undefined
  #producer: Promise<KafkaProducerLike> | undefined
  #assigned: number[] = []
  #closing: Promise<void> | undefined

  constructor(request: StreamConsumerRequest, options: KafkaConnectorOptions = {}) {
    super()
    this.#source = request.source as KafkaSourceSpec
    this.#view = request.view.name
    this.#groupId = this.#source.groupId ?? defaultGroupId(request.project, request.view.name)
    this.#options = options
  }

  /** The consumer group this member joins. */
  get groupId(): string {
    return this.#groupId
  }

  #fail(
    code: 'BACKEND_UNAVAILABLE' | 'BACKEND_ERROR' | 'NOT_FOUND',
    reason: string,
    hint?: string,
    cause?: unknown,
  ) {
    return new LarderError(code, reason, {
      component: COMPONENT,
      ...(hint ? { hint } : {}),
      ...(cause === undefined ? {} : { cause }),
    })
  }

  #clientOf(): KafkaClientLike {
    this.#client ??= clientFor(this.#source, this.#options, this.context?.logger)
    return this.#client
  }

  /** Checks the topic exists and creates the dead-letter topic when missing. */
  async #checkTopics(admin: KafkaAdminLike): Promise<void> {
    const { topic, deadLetterTopic, bootstrapServers } = this.#source
    let topics: string[]
    try {
      await admin.connect()
      topics = await admin.listTopics()
    } catch (err) {
      throw this.#fail(
        'BACKEND_UNAVAILABLE',
        `cannot reach Kafka at ${bootstrapServers.join(', ')} for source '${this.#source.name}': ${messageOf(err)}`,
        'check bootstrapServers and that the brokers are up (credentials: the streams section of larder.config.ts)',
        err,
      )
    }
    if (!topics.includes(topic)) {
      throw this.#fail(
        'NOT_FOUND',
        `topic '${topic}' of source '${this.#source.name}' does not exist on ${bootstrapServers.join(', ')}`,
        'create it (or fix the topic name in the source)',
      )
    }
    if (!topics.includes(deadLetterTopic)) {
      if (this.#options.createDeadLetterTopic === false) {
        throw this.#fail(
          'NOT_FOUND',
          `dead-letter topic '${deadLetterTopic}' of source '${this.#source.name}' does not exist`,
          'create it, or let ingest create it (createDeadLetterTopic: true)',
        )
      }
      try {
        await admin.createTopics({
          topics: [{ topic: deadLetterTopic, numPartitions: 1 }],
          waitForLeaders: true,
        })
        this.context?.logger.info(
          { topic: deadLetterTopic },
          `created dead-letter topic '${deadLetterTopic}'`,
        )
      } catch (err) {
        // Another member may have created it meanwhile.
        if (!(await admin.listTopics()).includes(deadLetterTopic)) {
          throw this.#fail(
            'BACKEND_ERROR',
            `cannot create dead-letter topic '${deadLetterTopic}': ${messageOf(err)}`,
            'create it yourself, or set deadLetterTopic on the source',
            err,
          )
        }
      }
    }
  }

  async start(handlers: StreamHandlers): Promise<void> {
    const client = this.#clientOf()
    const admin = client.admin()
    try {
      await this.#checkTopics(admin)
    } finally {
      await admin.disconnect().catch(() => {})
    }
    const o = this.#options
    const consumer = client.consumer({
      groupId: this.#groupId,
      sessionTimeout: o.sessionTimeout ?? 10_000,
      heartbeatInterval: o.heartbeatInterval ?? 1000,
      maxWaitTimeInMs: o.maxWaitTimeInMs ?? 500,
      maxBytesPerPartition: o.maxBytesPerPartition ?? 4_194_304,
    })
    this.#consumer = consumer
    const { topic } = this.#source
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const now = [
        ...((event.payload.memberAssignment as Record<string, number[]>)[topic] ?? []),
      ].sort((a, b) => a - b)
      const revoked = this.#assigned.filter((p) => !now.includes(p))
      this.#assigned = now
      // kafkajs rejoins only after the running batch returned (and our commit inside it).
      if (revoked.length > 0) handlers.onRevoked?.(revoked.map(String))
      handlers.onAssigned?.(now.map(String))
    })
    consumer.on(consumer.events.CRASH, (event) => {
      if (!event.payload.restart && !this.#closing) handlers.onError?.(event.payload.error)
    })
    try {
      await consumer.connect()
      await consumer.subscribe({
        topics: [topic],
        fromBeginning: this.#source.startFrom !== 'latest',
      })
    } catch (err) {
      throw this.#fail(
        'BACKEND_UNAVAILABLE',
        `cannot join consumer group '${this.#groupId}' on ${this.#source.bootstrapServers.join(', ')}: ${messageOf(err)}`,
        undefined,
        err,
      )
    }
    const maxRecords = o.maxBatchRecords ?? 20_000
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently ?? 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const partition = String(batch.partition)
        const high = BigInt(batch.highWatermark)
        for (let i = 0; i < batch.messages.length; i += maxRecords) {
          if (!isRunning() || isStale()) return
          const chunk = batch.messages.slice(i, i + maxRecords)
          const last = chunk[chunk.length - 1]!.offset
          const records = chunk.map((m) => toRecord(m, partition))
          // Heartbeats while the pipeline writes, so a slow write is not taken for a dead member.
          const beat = setInterval(() => heartbeat().catch(() => {}), o.heartbeatInterval ?? 1000)
          try {
            await handlers.onBatch({
              stream: topic,
              partition,
              records,
              lag: Number(high - BigInt(last) - 1n),
              commit: async () => {
                const next = (BigInt(last) + 1n).toString()
                await consumer.commitOffsets([{ topic, partition: batch.partition, offset: next }])
                resolveOffset(last)
              },
            })
          } finally {
            clearInterval(beat)
          }
        }
      },
    })
  }

  override async seek(target: StreamSeek): Promise<void> {
    const consumer = this.#consumer
    if (!consumer)
      throw this.#fail('BACKEND_ERROR', 'seek before start: the consumer is not running')
    const { topic } = this.#source
    if ('partition' in target) {
      consumer.seek({ topic, partition: Number(target.partition), offset: target.position })
      return
    }
    const admin = this.#clientOf().admin()
    try {
      await admin.connect()
      const ms = Number(target.timestamp / 1000n)
      const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, ms)
      for (const { partition, offset } of offsets) {
        if (this.#assigned.includes(partition)) consumer.seek({ topic, partition, offset })
      }
    } finally {
      await admin.disconnect().catch(() => {})
    }
  }

  async deadLetter(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return
    this.#producer ??= (async () => {
      const p = this.#clientOf().producer({ allowAutoTopicCreation: false })
      await p.connect()
      return p
    })()
    const producer = await this.#producer
    const { topic, deadLetterTopic } = this.#source
    await producer.send({
      topic: deadLetterTopic,
      acks: -1,
      messages: letters.map(({ record, code, error }) => {
        const headers: Record<string, Buffer | Buffer[]> = {}
        for (const [name, value] of record.headers) {
          const prev = headers[name]
          const b = Buffer.from(value)
          headers[name] = prev === undefined ? b : Array.isArray(prev) ? [...prev, b] : [prev, b]
        }
        headers[DEAD_LETTER_HEADERS.code] = Buffer.from(code)
        headers[DEAD_LETTER_HEADERS.message] = Buffer.from(error)
        headers[DEAD_LETTER_HEADERS.topic] = Buffer.from(topic)
        headers[DEAD_LETTER_HEADERS.partition] = Buffer.from(record.partition)
        headers[DEAD_LETTER_HEADERS.offset] = Buffer.from(record.position)
        headers[DEAD_LETTER_HEADERS.view] = Buffer.from(this.#view)
        return {
          key: record.key === null ? null : Buffer.from(record.key),
          value: record.value === null ? null : Buffer.from(record.value),
          headers,
          ...(record.timestamp === null ? {} : { timestamp: String(record.timestamp / 1000n) }),
        }
      }),
    })
  }

  async close(): Promise<void> {
    this.#closing ??= (async () => {
      // kafkajs' disconnect waits for the running batch (which commits), then leaves the group.
      const results = await Promise.allSettled([
        this.#consumer?.disconnect(),
        this.#producer?.then((p) => p.disconnect()),
      ])
      const failed = results.find((r) => r.status === 'rejected')
      if (failed)
        this.context?.logger.warn({ err: failed.reason }, 'kafka consumer did not close cleanly')
    })()
    return this.#closing
  }
}

function toRecord(m: KafkaMessageLike, partition: string): StreamRecord {
  const headers: Array<readonly [string, Uint8Array]> = []
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value])
      headers.push([name, typeof v === 'string' ? Buffer.from(v) : v])
  }
  const ts = m.timestamp === undefined || m.timestamp === '' ? null : BigInt(m.timestamp) * 1000n
  return {
    key: m.key ?? null,
    value: m.value ?? null,
    headers,
    partition,
    position: m.offset,
    timestamp: ts,
  }
}
