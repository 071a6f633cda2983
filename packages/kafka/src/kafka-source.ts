/**
 * `kafkaSource()`: a Kafka topic feeding stream feature views, described as data (a
 * serializable spec with `kind: 'kafka'`) plus the code the registry never holds (its
 * format object and a default connector), attached out of sight of the spec.
 */
import {
  attachStreamRuntime,
  checkSource,
  type Duration,
  durationToSeconds,
  isStreamFormat,
  LarderError,
  type SourceKind,
  type SourceSpec,
  type StreamFormat,
  type StreamSourceSpec,
} from '@larder/core'
import { kafkaConnector } from './kafka-consumer.js'

const COMPONENT = 'kafka'

/** Where a new consumer group starts reading a topic. */
export type KafkaStartFrom = 'earliest' | 'latest'

/** The spec of a Kafka source, as the registry stores it. */
export interface KafkaSourceSpec extends StreamSourceSpec {
  kind: 'kafka'
  /** Bootstrap brokers, `host:port`. */
  bootstrapServers: string[]
  topic: string
  timestampField: string
  /** Consumer group; absent = `larder.<project>.<view>` (one group per view). */
  groupId?: string
  startFrom: KafkaStartFrom
  /** Where records that cannot be ingested go. */
  deadLetterTopic: string
}

/** Options of {@link kafkaSource}. */
export interface KafkaSourceOptions {
  /** Source name, unique in the repo. */
  name: string
  /** Bootstrap brokers, e.g. `['127.0.0.1:9092']`. Credentials go in the config, never here. */
  bootstrapServers: string[]
  /** The topic to read. */
  topic: string
  /** How record values are encoded: `jsonFormat()`, `avroFormat(...)`, `protobufFormat(...)`. */
  format: StreamFormat
  /** The event-timestamp field of a decoded record (source name). */
  timestampField: string
  /** Field breaking ties between events with equal event timestamps. */
  createdTimestampColumn?: string
  /** `record field -> larder name`. */
  fieldMapping?: Record<string, string>
  /**
   * The offline log: historical retrieval reads it and ingestion appends every event to it
   * (through the offline store), with its stream position in a hidden column.
   */
  batchSource: SourceSpec
  /** Events more than this behind the newest of their partition are counted as late. */
  watermarkDelay?: Duration
  /** @default `larder.<project>.<view>` */
  groupId?: string
  /**
   * Where a group with no committed offsets starts.
   * @default 'earliest' (nothing produced before the first run is lost)
   */
  startFrom?: KafkaStartFrom
  /** @default `<topic>.dlq` */
  deadLetterTopic?: string
  description?: string
  tags?: Record<string, string>
  owner?: string
}

function invalid(reason: string, hint?: string): LarderError {
  return new LarderError('INVALID_DEFINITION', reason, {
    component: COMPONENT,
    ...(hint ? { hint } : {}),
  })
}

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/

/**
 * A Kafka topic as a stream source. Ingest it with `larder ingest` (or `store.ingest()`).
 * @throws LarderError INVALID_DEFINITION naming the bad field.
 * @example
 * const log = fileSource({ name: 'trips_log', path: 'data/log', timestampField: 'event_timestamp' })
 * export const trips = kafkaSource({
 *   name: 'trips', bootstrapServers: ['127.0.0.1:9092'], topic: 'trips',
 *   format: jsonFormat(), timestampField: 'event_timestamp', batchSource: log,
 *   watermarkDelay: { minutes: 5 },
 * })
 */
export function kafkaSource(options: KafkaSourceOptions): KafkaSourceSpec {
  if (!options || typeof options !== 'object')
    throw invalid('kafkaSource() needs an options object')
  const format = options.format
  if (!isStreamFormat(format)) {
    throw invalid(
      `kafka source '${options.name}': format is required`,
      'e.g. format: jsonFormat() from @larder/formats',
    )
  }
  const batch = options.batchSource
  const spec: KafkaSourceSpec = {
    kind: 'kafka',
    name: options.name,
    bootstrapServers: Array.isArray(options.bootstrapServers)
      ? [...options.bootstrapServers]
      : options.bootstrapServers,
    topic: options.topic,
    format: structuredClone(format.spec),
    timestampField: options.timestampField,
    batchSource:
      batch && typeof batch === 'object' ? (structuredClone({ ...batch }) as SourceSpec) : batch,
    startFrom: options.startFrom ?? 'earliest',
    deadLetterTopic: options.deadLetterTopic ?? `${options.topic}.dlq`,
  }
  const optional = [
    'createdTimestampColumn',
    'fieldMapping',
    'groupId',
    'description',
    'tags',
    'owner',
  ] as const
  for (const key of optional) {
    const value = options[key]
    if (value !== undefined) (spec as Record<string, unknown>)[key] = structuredClone(value)
  }
  if (options.watermarkDelay !== undefined) {
    spec.watermarkDelaySeconds = durationToSeconds(
      options.watermarkDelay,
      `kafka source '${options.name}': watermarkDelay`,
    )
  }
  checkSource(spec, kafkaSourceKind)
  return attachStreamRuntime(spec, { connector: kafkaConnector(), format })
}

/**
 * The `kafka` source kind: checks a Kafka source's own fields (core checks the common ones,
 * on definition and on stored specs).
 */
export const kafkaSourceKind: SourceKind<KafkaSourceSpec> = {
  kind: 'kafka',
  validate(spec: KafkaSourceSpec): void {
    const what = `kafka source '${spec.name}'`
    if (
      !Array.isArray(spec.bootstrapServers) ||
      spec.bootstrapServers.length === 0 ||
      !spec.bootstrapServers.every((b) => typeof b === 'string' && /^[^\s:]+:\d+$/.test(b))
    ) {
      throw invalid(
        `${what}: bootstrapServers must be a non-empty list of host:port`,
        "e.g. bootstrapServers: ['127.0.0.1:9092']",
      )
    }
    if (typeof spec.topic !== 'string' || !TOPIC.test(spec.topic))
      throw invalid(
        `${what}: topic ${JSON.stringify(spec.topic)} is not a valid Kafka topic name`,
        'letters, digits, dots, underscores and dashes, up to 249 characters',
      )
    if (typeof spec.deadLetterTopic !== 'string' || !TOPIC.test(spec.deadLetterTopic))
      throw invalid(
        `${what}: deadLetterTopic ${JSON.stringify(spec.deadLetterTopic)} is not a valid Kafka topic name`,
      )
    if (spec.deadLetterTopic === spec.topic)
      throw invalid(`${what}: deadLetterTopic is the source topic itself`)
    if (spec.startFrom !== 'earliest' && spec.startFrom !== 'latest')
      throw invalid(
        `${what}: startFrom must be 'earliest' or 'latest', got ${JSON.stringify(spec.startFrom)}`,
      )
    if (spec.groupId !== undefined && (typeof spec.groupId !== 'string' || spec.groupId === ''))
      throw invalid(`${what}: groupId must be a non-empty string`)
    const batch = spec.batchSource as SourceSpec | undefined
    if (!batch || typeof batch !== 'object' || typeof batch.kind !== 'string')
      throw invalid(
        `${what}: batchSource is required (the offline log historical retrieval reads)`,
        "e.g. batchSource: fileSource({ name: 'trips_log', path: 'data/trips_log', timestampField: 'event_timestamp' })",
      )
    if (batch.kind === 'kafka' || batch.kind === 'kinesis' || batch.kind === 'push')
      throw invalid(
        `${what}: batchSource must be a batch source (file, warehouse), not '${batch.kind}'`,
      )
    if (spec.watermarkDelaySeconds !== undefined && !(spec.watermarkDelaySeconds >= 0))
      throw invalid(`${what}: watermarkDelay must be >= 0`)
  },
}
