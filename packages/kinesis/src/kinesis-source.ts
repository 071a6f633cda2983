/**
 * `kinesisSource()`: a Kinesis data stream feeding stream feature views, described as data (a
 * serializable spec with `kind: 'kinesis'`) plus the code the registry never holds (its
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
import { kinesisConnector } from './kinesis-consumer.js'

const COMPONENT = 'kinesis'

/**
 * Where a shard with no checkpoint starts: its oldest record (`TRIM_HORIZON`), the records
 * written after ingestion started (`LATEST`), or the first record at or after a time. Child
 * shards of a split or merge always start at their oldest record.
 */
export type KinesisStartFrom = 'TRIM_HORIZON' | 'LATEST' | { timestamp: Date | string | number }

/** {@link KinesisStartFrom} as the registry stores it (a time as an RFC 3339 string). */
export type KinesisStoredStartFrom = 'TRIM_HORIZON' | 'LATEST' | { timestamp: string }

/** The spec of a Kinesis source, as the registry stores it. */
export interface KinesisSourceSpec extends StreamSourceSpec {
  kind: 'kinesis'
  streamName: string
  region: string
  /** Endpoint override (local stand-ins such as kinesalite, VPC endpoints). */
  endpoint?: string
  timestampField: string
  startFrom: KinesisStoredStartFrom
  /** A Kinesis stream receiving records that cannot be ingested. */
  deadLetterStream?: string
  /**
   * The JSON-lines file (relative to the repo) receiving records that cannot be ingested when
   * there is no `deadLetterStream`.
   */
  deadLetterPath?: string
}

/** Options of {@link kinesisSource}. Feast's KinesisSource fields map one to one. */
export interface KinesisSourceOptions {
  /** Source name, unique in the repo. */
  name: string
  /** The data stream to read (Feast: `stream_name`). */
  streamName: string
  /** AWS region of the stream (Feast: `region`). Credentials come from the AWS default chain. */
  region: string
  /** Endpoint override, e.g. `http://127.0.0.1:4567` for kinesalite. */
  endpoint?: string
  /** How record data is encoded (Feast: `record_format`): `jsonFormat()`, `avroFormat(...)`... */
  format: StreamFormat
  /** The event-timestamp field of a decoded record (source name). */
  timestampField: string
  /** Field breaking ties between events with equal event timestamps. */
  createdTimestampColumn?: string
  /** `record field -> larder name`. */
  fieldMapping?: Record<string, string>
  /** The offline log: historical retrieval reads it and ingestion appends every event to it. */
  batchSource: SourceSpec
  /** Events more than this behind the newest of their shard are counted as late. */
  watermarkDelay?: Duration
  /** @default 'TRIM_HORIZON' (nothing written before the first run is lost) */
  startFrom?: KinesisStartFrom
  /** A Kinesis stream for dead letters; without one they go to `deadLetterPath`. */
  deadLetterStream?: string
  /** @default `data/dead-letters/<name>.jsonl` (relative to the repo) */
  deadLetterPath?: string
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

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/

function storedStartFrom(
  name: string,
  value: KinesisStartFrom | undefined,
): KinesisStoredStartFrom {
  if (value === undefined) return 'TRIM_HORIZON'
  if (value && typeof value === 'object' && 'timestamp' in value) {
    const t = value.timestamp
    const date = t instanceof Date ? t : new Date(t)
    if (Number.isNaN(date.getTime()))
      throw invalid(
        `kinesis source '${name}': startFrom.timestamp ${JSON.stringify(t)} is not a time`,
        "e.g. startFrom: { timestamp: '2026-01-01T00:00:00Z' }",
      )
    return { timestamp: date.toISOString() }
  }
  return value as KinesisStoredStartFrom
}

/**
 * An Amazon Kinesis data stream as a stream source. Ingest it with `larder ingest` (or
 * `store.ingest()`).
 * @throws LarderError INVALID_DEFINITION naming the bad field.
 * @example
 * const log = fileSource({ name: 'trips_log', path: 'data/log', timestampField: 'event_timestamp' })
 * export const trips = kinesisSource({
 *   name: 'trips', streamName: 'drivers', region: 'us-east-1',
 *   format: jsonFormat(), timestampField: 'event_timestamp', batchSource: log,
 * })
 */
export function kinesisSource(options: KinesisSourceOptions): KinesisSourceSpec {
  if (!options || typeof options !== 'object')
    throw invalid('kinesisSource() needs an options object')
  const format = options.format
  if (!isStreamFormat(format)) {
    throw invalid(
      `kinesis source '${options.name}': format is required`,
      'e.g. format: jsonFormat() from @larder/formats',
    )
  }
  const batch = options.batchSource
  const spec: KinesisSourceSpec = {
    kind: 'kinesis',
    name: options.name,
    streamName: options.streamName,
    region: options.region,
    format: structuredClone(format.spec),
    timestampField: options.timestampField,
    batchSource:
      batch && typeof batch === 'object' ? (structuredClone({ ...batch }) as SourceSpec) : batch,
    startFrom: storedStartFrom(options.name, options.startFrom),
  }
  const optional = [
    'endpoint',
    'createdTimestampColumn',
    'fieldMapping',
    'deadLetterStream',
    'description',
    'tags',
    'owner',
  ] as const
  for (const key of optional) {
    const value = options[key]
    if (value !== undefined) (spec as Record<string, unknown>)[key] = structuredClone(value)
  }
  if (spec.deadLetterStream === undefined)
    spec.deadLetterPath = options.deadLetterPath ?? `data/dead-letters/${options.name}.jsonl`
  if (options.watermarkDelay !== undefined) {
    spec.watermarkDelaySeconds = durationToSeconds(
      options.watermarkDelay,
      `kinesis source '${options.name}': watermarkDelay`,
    )
  }
  checkSource(spec, kinesisSourceKind)
  return attachStreamRuntime(spec, { connector: kinesisConnector(), format })
}

/**
 * The `kinesis` source kind: checks a Kinesis source's own fields (core checks the common
 * ones, on definition and on stored specs).
 */
export const kinesisSourceKind: SourceKind<KinesisSourceSpec> = {
  kind: 'kinesis',
  validate(spec: KinesisSourceSpec): void {
    const what = `kinesis source '${spec.name}'`
    if (typeof spec.streamName !== 'string' || !STREAM_NAME.test(spec.streamName))
      throw invalid(
        `${what}: streamName ${JSON.stringify(spec.streamName)} is not a valid Kinesis stream name`,
        'letters, digits, dots, underscores and dashes, up to 128 characters',
      )
    if (typeof spec.region !== 'string' || !REGION.test(spec.region))
      throw invalid(
        `${what}: region ${JSON.stringify(spec.region)} is not an AWS region`,
        "e.g. region: 'us-east-1' (the stream's region, even with an endpoint override)",
      )
    if (spec.endpoint !== undefined) {
      let ok = false
      try {
        ok = ['http:', 'https:'].includes(new URL(spec.endpoint).protocol)
      } catch {}
      if (!ok)
        throw invalid(
          `${what}: endpoint ${JSON.stringify(spec.endpoint)} is not an http(s) URL`,
          "e.g. endpoint: 'http://127.0.0.1:4567'",
        )
    }
    const from = spec.startFrom as unknown
    const timeOk =
      !!from &&
      typeof from === 'object' &&
      typeof (from as { timestamp?: unknown }).timestamp === 'string' &&
      !Number.isNaN(Date.parse((from as { timestamp: string }).timestamp))
    if (from !== 'TRIM_HORIZON' && from !== 'LATEST' && !timeOk)
      throw invalid(
        `${what}: startFrom must be 'TRIM_HORIZON', 'LATEST' or { timestamp }, got ${JSON.stringify(from)}`,
      )
    if (spec.deadLetterStream !== undefined) {
      if (typeof spec.deadLetterStream !== 'string' || !STREAM_NAME.test(spec.deadLetterStream))
        throw invalid(
          `${what}: deadLetterStream ${JSON.stringify(spec.deadLetterStream)} is not a valid Kinesis stream name`,
        )
      if (spec.deadLetterStream === spec.streamName)
        throw invalid(`${what}: deadLetterStream is the source stream itself`)
    } else if (typeof spec.deadLetterPath !== 'string' || spec.deadLetterPath === '')
      throw invalid(
        `${what}: deadLetterPath must be a file path (or set deadLetterStream)`,
        `e.g. deadLetterPath: 'data/dead-letters/${spec.name}.jsonl'`,
      )
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
