/**
 * JSON records: one UTF-8 JSON object per record value.
 */
import {
  type DecodedRow,
  type EpochUnit,
  type FormatContext,
  type FormatSchema,
  type JsonFormatSpec,
  LarderError,
  parseTime,
  recordError,
  type StreamFormat,
} from '@larder/core'
import { SyncFirstDecoder } from './decoder.js'
import { epochToMicros, parseRfc3339Micros } from './timestamps.js'

const COMPONENT = 'json'
const UNITS: ReadonlyArray<EpochUnit | 'auto'> = [
  'auto',
  'seconds',
  'milliseconds',
  'microseconds',
  'nanoseconds',
]

/** Options of {@link jsonFormat}. */
export interface JsonFormatOptions {
  /**
   * Unit of epoch numbers in timestamp fields. `auto` decides per value by its magnitude:
   * below 10^11 seconds, below 10^14 milliseconds, below 10^17 microseconds, else nanoseconds
   * (right for any time from 1973-03-03 to 5138-11-16). Say the unit when your times can
   * fall outside that range.
   * @default 'auto'
   */
  timestampUnit?: EpochUnit | 'auto'
}

// Integers of 16 digits or more may lie beyond 2^53: only then parse with source access
// (digits after a decimal point, as in 0.12345678901234567, do not count).
const LONG_DIGITS = /(?:^|[^.\d])\d{16}/

function reviveBigIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (
    typeof value === 'number' &&
    !Number.isSafeInteger(value) &&
    context?.source !== undefined &&
    /^-?\d+$/.test(context.source)
  ) {
    return BigInt(context.source)
  }
  return value
}

function show(value: unknown): string {
  const text = typeof value === 'bigint' ? `${value}` : JSON.stringify(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** One timestamp field value -> epoch microseconds (bigint); null stays null. */
function toMicros(value: unknown, field: string, unit: EpochUnit | 'auto'): bigint | null {
  if (value === null) return null
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') {
    return epochToMicros(value, unit) as bigint
  }
  if (typeof value === 'string') {
    const fast = parseRfc3339Micros(value)
    if (fast !== undefined) return fast
    const text = value.trim()
    if (/^-?\d+(\.\d+)?$/.test(text)) return epochToMicros(text, unit) as bigint
    if (text !== 'now') {
      try {
        return parseTime(text, `field '${field}'`)
      } catch {
        // fall through to the record error below
      }
    }
  }
  throw recordError(
    COMPONENT,
    `field '${field}': ${show(value)} is not a timestamp (use RFC 3339, e.g. 2026-01-31T12:00:00.123456Z, or epoch ${unit === 'auto' ? 'seconds/milliseconds/microseconds/nanoseconds' : unit})`,
  )
}

class JsonDecoder extends SyncFirstDecoder {
  readonly #text = new TextDecoder('utf-8', { fatal: true })
  readonly #timestampFields: readonly string[]
  readonly #unit: EpochUnit | 'auto'

  constructor(unit: EpochUnit | 'auto', context: FormatContext) {
    super()
    this.#unit = unit
    this.#timestampFields = context.timestampFields ?? []
  }

  /** JSON needs no I/O: always synchronous. */
  decodeNow(value: Uint8Array): DecodedRow {
    let text: string
    try {
      text = this.#text.decode(value)
    } catch (err) {
      throw recordError(COMPONENT, 'record is not valid UTF-8', err)
    }
    let parsed: unknown
    try {
      parsed = LONG_DIGITS.test(text)
        ? JSON.parse(text, reviveBigIntegers as (k: string, v: unknown) => unknown)
        : JSON.parse(text)
    } catch (err) {
      const preview = text.length > 40 ? `${text.slice(0, 37)}...` : text
      throw recordError(
        COMPONENT,
        `record is not JSON (${(err as Error).message}): ${JSON.stringify(preview)}`,
        err,
      )
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      const kind = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed
      throw recordError(COMPONENT, `record is JSON ${kind}, expected an object`)
    }
    const row = parsed as DecodedRow
    for (const field of this.#timestampFields) {
      if (Object.hasOwn(row, field)) row[field] = toMicros(row[field], field, this.#unit)
    }
    return row
  }
}

/**
 * JSON records: each record value is one UTF-8 JSON object; field names are the object's
 * keys. Integers beyond 2^53 are read exactly as `bigint`. Timestamp fields (the source's
 * timestamp and created columns and timestamp-typed features, which the pipeline names) accept
 * RFC 3339 strings (`2026-01-31T12:00:00.123456Z`; no zone = UTC) or epoch numbers in
 * `timestampUnit`, and are decoded to `bigint` epoch microseconds.
 *
 * @example
 * kafkaSource({ name: 'trips', topic: 'trips', format: jsonFormat(), ... })
 * jsonFormat({ timestampUnit: 'milliseconds' }) // producers writing Date.now()
 */
export function jsonFormat(options: JsonFormatOptions = {}): StreamFormat<JsonFormatSpec> {
  const unit = options.timestampUnit ?? 'auto'
  if (!UNITS.includes(unit)) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `jsonFormat: timestampUnit must be one of ${UNITS.join(', ')}, got ${JSON.stringify(unit)}`,
    )
  }
  const spec: JsonFormatSpec = { kind: 'json' }
  if (options.timestampUnit !== undefined) spec.timestampUnit = unit
  return {
    spec,
    createDecoder: (context: FormatContext = {}) => new JsonDecoder(unit, context),
    describe: async (): Promise<FormatSchema | undefined> => undefined,
  }
}
