/**
 * The stream format contract: how the bytes of a stream record (a Kafka message value, a
 * Kinesis record) become a row object, once, in core's ingestion pipeline, whatever the
 * source. Implementations live in `@larder/formats` (`jsonFormat`, `avroFormat`,
 * `protobufFormat`); a stream source carries a {@link StreamFormat} and the registry stores
 * only its JSON-serializable {@link FormatSpec}.
 *
 * Decoded rows use the values of core's write path (values.ts): field names exactly as
 * written in the schema (or the JSON object), int64 as `bigint` (exact), timestamps as
 * `bigint` epoch microseconds (UTC), bytes as `Uint8Array`, nested records as plain objects,
 * repeated fields as arrays, absent optional values as `null`.
 */
import { isLarderError, LarderError } from './errors.js'
import type { ValueTypeName } from './types.js'

/** The format kinds Larder knows how to rebuild from a stored spec. */
export type FormatKind = 'json' | 'avro' | 'protobuf'

/** The unit of epoch numbers in JSON timestamp fields. */
export type EpochUnit = 'seconds' | 'milliseconds' | 'microseconds' | 'nanoseconds'

/**
 * Where a format finds a Confluent Schema Registry. Only the URL is stored in the registry;
 * credentials are {@link SchemaRegistryRuntimeOptions} given at run time.
 */
export interface SchemaRegistryRef {
  /** Base URL, e.g. `http://127.0.0.1:8081`. */
  url: string
  /**
   * The subject whose latest version describes the records, for apply's check of a view's
   * features (decoding always uses the schema id in each record).
   * @default `<topic>-value` (Confluent's TopicNameStrategy)
   */
  subject?: string
}

/** JSON objects, one per record. */
export interface JsonFormatSpec {
  kind: 'json'
  /**
   * Unit of epoch numbers in timestamp fields; `auto` decides per value by magnitude (see
   * `@larder/formats`). RFC 3339 strings are always accepted.
   * @default 'auto'
   */
  timestampUnit?: EpochUnit | 'auto'
}

/** Avro binary: plain with an inline writer schema, or framed for a Schema Registry. */
export interface AvroFormatSpec {
  kind: 'avro'
  /** The writer schema (Avro JSON), for records that are plain Avro binary. */
  schema?: unknown
  /** Records are framed for a Confluent Schema Registry (magic byte 0, schema id). */
  schemaRegistry?: SchemaRegistryRef
}

/** Protobuf binary: plain with a .proto file, or framed for a Schema Registry. */
export interface ProtobufFormatSpec {
  kind: 'protobuf'
  /** Path of the .proto file (relative paths resolve against the feature repository). */
  protoFile?: string
  /** Fully qualified message type, e.g. `trips.v1.Trip`. */
  messageType?: string
  /** Records are framed for a Confluent Schema Registry (magic byte 0, id, message indexes). */
  schemaRegistry?: SchemaRegistryRef
}

/** A format as data: what the registry stores inside a stream source's spec (no code). */
export type FormatSpec = JsonFormatSpec | AvroFormatSpec | ProtobufFormatSpec

/** Credentials for a Schema Registry: HTTP basic (Confluent Cloud API key) or a bearer token. */
export type SchemaRegistryAuth = { username: string; password: string } | { bearerToken: string }

/** Run-time Schema Registry settings that must never be stored in the registry. */
export interface SchemaRegistryRuntimeOptions {
  /** Credentials sent with every request to the Schema Registry. */
  auth?: SchemaRegistryAuth
  /** Extra HTTP headers. */
  headers?: Record<string, string>
  /**
   * Time limit of one request to the Schema Registry, in milliseconds.
   * @default 10000
   */
  timeoutMs?: number
}

/** What the pipeline tells a format when it creates a decoder. Every field is optional. */
export interface FormatContext {
  /** Folder that relative paths (`protoFile`) resolve against: the feature repository. */
  baseDir?: string
  /**
   * Fields to read as timestamps (names as in the record, before field mapping): the source's
   * timestamp and created columns and the timestamp-typed features. Formats without a schema
   * (JSON) convert these to epoch microseconds; formats with one use their own types.
   */
  timestampFields?: readonly string[]
  /** Schema Registry credentials and settings, from the app's config or environment. */
  schemaRegistry?: SchemaRegistryRuntimeOptions
  /** The topic or stream name, for error messages and default registry subjects. */
  stream?: string
}

/** One decoded record: field name -> value (see the module doc for the value forms). */
export type DecodedRow = Record<string, unknown>

/** The outcome of decoding one record of a batch: a row, or the reason it is bad. */
export type DecodeResult =
  | { row: DecodedRow; error?: undefined }
  | { row?: undefined; error: LarderError }

/**
 * Decodes record values. Errors about a record (garbage bytes, an unknown schema id, a value
 * that does not fit the schema) are LarderErrors with code `INVALID_RECORD`: the pipeline
 * dead-letters the record and goes on. Any other error (Schema Registry unreachable, a bug)
 * is a fault: the pipeline must not commit past the record.
 */
export interface StreamDecoder {
  /**
   * Decodes one record value.
   * @throws LarderError INVALID_RECORD when the record is bad; other errors are faults.
   */
  decode(value: Uint8Array): Promise<DecodedRow>
  /**
   * Decodes a batch, one result per value in order; a bad record yields `{ error }` and does
   * not stop the others.
   * @throws faults only (never INVALID_RECORD).
   */
  decodeBatch(values: readonly Uint8Array[]): Promise<DecodeResult[]>
}

/**
 * Defaults for decoders: `decodeBatch` over `decode`. Extend it so methods added to the
 * contract later get safe defaults.
 */
export abstract class StreamDecoderBase implements StreamDecoder {
  abstract decode(value: Uint8Array): Promise<DecodedRow>
  async decodeBatch(values: readonly Uint8Array[]): Promise<DecodeResult[]> {
    const out: DecodeResult[] = []
    for (const value of values) {
      try {
        out.push({ row: await this.decode(value) })
      } catch (err) {
        if (isRecordError(err)) out.push({ error: err })
        else throw err
      }
    }
    return out
  }
}

/** One column a format yields, when its schema is known. */
export interface FormatField {
  /** Field name as written in the schema. */
  name: string
  /** The Larder value type its values fit, or undefined when none does (records, maps...). */
  type: ValueTypeName | undefined
  /** The type as the schema writes it (`long`, `timestamp-micros`, `google.protobuf.Timestamp`). */
  sourceType: string
  /** Whether the value can be null (Avro union with null, Protobuf message or optional). */
  nullable: boolean
}

/** The top-level columns of a format's records. */
export interface FormatSchema {
  fields: FormatField[]
}

/**
 * A record format as the definitions carry it (`kafkaSource({ format })`): its stored
 * {@link FormatSpec}, a decoder factory and, when known, the columns it yields (apply checks
 * a view's features against them).
 */
export interface StreamFormat<S extends FormatSpec = FormatSpec> {
  /** What the registry stores; the format can be rebuilt from it (`formatFromSpec`). */
  readonly spec: S
  /**
   * Creates a decoder. Cheap: schemas are loaded (file, Schema Registry) on first use and
   * cached by the format, so decoders created from one format share them.
   */
  createDecoder(context?: FormatContext): StreamDecoder
  /**
   * The columns records of this format yield, when known without reading records (an inline
   * Avro schema, a .proto file, the latest version of a registry subject); undefined when not
   * (JSON).
   * @throws LarderError when a schema cannot be read (file missing, registry unreachable).
   */
  describe(context?: FormatContext): Promise<FormatSchema | undefined>
}

/** True when `value` looks like a {@link StreamFormat} (a spec with a kind and the methods). */
export function isStreamFormat(value: unknown): value is StreamFormat {
  if (!value || typeof value !== 'object') return false
  const v = value as Partial<StreamFormat>
  return (
    typeof v.createDecoder === 'function' &&
    typeof v.describe === 'function' &&
    !!v.spec &&
    typeof v.spec === 'object' &&
    typeof (v.spec as { kind?: unknown }).kind === 'string'
  )
}

/**
 * A bad-record error (code `INVALID_RECORD`) for a format to throw; `component` names the
 * format (`json`, `avro`, `protobuf`) and `reason` says what was wrong with the bytes.
 *
 * @example
 * throw recordError('avro', 'expected magic byte 0, got 0x7b (is this JSON?)')
 */
export function recordError(component: string, reason: string, cause?: unknown): LarderError {
  return new LarderError('INVALID_RECORD', reason, { component, cause })
}

/** True for a bad-record error (code `INVALID_RECORD`): dead-letter the record, go on. */
export function isRecordError(err: unknown): err is LarderError {
  return isLarderError(err, 'INVALID_RECORD')
}
