/**
 * Seeded, reproducible data generators for tests and benchmarks. Columnar (typed arrays
 * straight into Arrow), so that 10M-row tables take a second or two, not minutes.
 */
import * as arrow from 'apache-arrow'

/** A small, fast, seeded PRNG (mulberry32). `next()` is uniform in [0, 1). */
export class Rng {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
}

/** The key column type of generated tables. */
export type GeneratedKeyType = 'int64' | 'int32' | 'string'

/** Options of {@link generateFeatureTable}. */
export interface FeatureTableOptions {
  /** Number of rows. */
  rows: number
  /** Number of distinct entity keys (keys are 0..entities-1, uniformly drawn). */
  entities: number
  /** Number of float64 features `f0`, `f1`... @default 3 */
  features?: number
  /** Also an int64 feature `count` and a string feature `label`. @default false */
  mixedTypes?: boolean
  /** Key column name. @default 'entity_id' */
  keyName?: string
  /** @default 'int64' */
  keyType?: GeneratedKeyType
  /** Earliest event timestamp, epoch micros. @default 2026-01-01T00:00:00Z */
  startMicros?: number
  /** Event timestamps spread uniformly over this many seconds. @default 30 days */
  spreadSeconds?: number
  /** Timestamps are whole multiples of this many seconds (coarse = many ties). @default 0 (micros) */
  granularitySeconds?: number
  /** Adds a `created` column (event ts + 0..60 s + the row number in micros). @default true */
  created?: boolean
  /** Fraction of feature values that are null. @default 0 */
  nullRate?: number
  /** Fraction of rows that are exact copies of an earlier row. @default 0 */
  duplicateRate?: number
  /** Sort rows by event timestamp (as most sources are). @default false */
  sorted?: boolean
  seed?: number
}

const DEFAULT_START = Date.UTC(2026, 0, 1) * 1000

function keyVector(keys: Int32Array, type: GeneratedKeyType): arrow.Vector {
  const n = keys.length
  if (type === 'int32') {
    return new arrow.Vector([arrow.makeData({ type: new arrow.Int32(), length: n, data: keys })])
  }
  if (type === 'int64') {
    const out = new BigInt64Array(n)
    const words = new Int32Array(out.buffer)
    for (let i = 0; i < n; i++) words[2 * i] = keys[i] as number
    return new arrow.Vector([arrow.makeData({ type: new arrow.Int64(), length: n, data: out })])
  }
  const parts: string[] = []
  for (let i = 0; i < n; i++) parts.push(`k${keys[i] as number}`)
  return arrow.vectorFromArray(parts, new arrow.Utf8())
}

/** A timestamp[us, UTC] vector of float64 epoch micros (NaN = null). */
export function microsVector(micros: Float64Array): arrow.Vector {
  const n = micros.length
  const out = new BigInt64Array(n)
  const words = new Int32Array(out.buffer)
  const bitmap = new Uint8Array(((n + 63) >> 6) << 3)
  let nulls = 0
  for (let i = 0; i < n; i++) {
    const v = micros[i] as number
    if (Number.isNaN(v)) {
      nulls++
      continue
    }
    bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7))
    const hi = Math.floor(v / 4294967296)
    words[2 * i] = (v - hi * 4294967296) | 0
    words[2 * i + 1] = hi
  }
  return new arrow.Vector([
    arrow.makeData({
      type: new arrow.TimestampMicrosecond('UTC'),
      length: n,
      nullCount: nulls,
      nullBitmap: bitmap,
      data: out,
    }),
  ])
}

function withNulls<T extends arrow.DataType>(
  type: T,
  data: T['TArray'],
  valid: Uint8Array | undefined,
  n: number,
): arrow.Vector {
  if (!valid) return new arrow.Vector([arrow.makeData({ type, length: n, data } as never)])
  const bitmap = new Uint8Array(((n + 63) >> 6) << 3)
  let nulls = 0
  for (let i = 0; i < n; i++) {
    if (valid[i]) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7))
    else nulls++
  }
  return new arrow.Vector([
    arrow.makeData({ type, length: n, nullCount: nulls, nullBitmap: bitmap, data } as never),
  ])
}

/**
 * A feature table: `keyName`, `event_timestamp`, [`created`], `f0..fk` (float64),
 * [`count` int64, `label` string]. Same options and seed, same table.
 *
 * @example
 * const table = generateFeatureTable({ rows: 10_000_000, entities: 100_000, seed: 1 })
 */
export function generateFeatureTable(options: FeatureTableOptions): arrow.Table {
  const n = options.rows
  const rng = new Rng(options.seed ?? 1)
  const k = options.features ?? 3
  const start = options.startMicros ?? DEFAULT_START
  const spread = (options.spreadSeconds ?? 30 * 86400) * 1e6
  const gran = (options.granularitySeconds ?? 0) * 1e6
  const nullRate = options.nullRate ?? 0
  const dupRate = options.duplicateRate ?? 0
  const keys = new Int32Array(n)
  const ts = new Float64Array(n)
  const created = new Float64Array(n)
  const src = new Int32Array(n) // row copied from (itself unless a duplicate)
  for (let i = 0; i < n; i++) {
    if (i > 0 && dupRate > 0 && rng.next() < dupRate) {
      const j = rng.int(i)
      src[i] = src[j] as number
    } else src[i] = i
    keys[i] = rng.int(options.entities)
    let t = Math.floor(rng.next() * spread)
    if (gran > 0) t = Math.floor(t / gran) * gran
    ts[i] = start + t
    // + i micros: two distinct rows never fully tie (only exact duplicates do).
    created[i] = (ts[i] as number) + Math.floor(rng.next() * 60) * 1e6 + (i % 1_000_000)
  }
  for (let i = 0; i < n; i++) {
    const j = src[i] as number
    if (j !== i) {
      keys[i] = keys[j] as number
      ts[i] = ts[j] as number
      created[i] = created[j] as number
    }
  }
  let perm: Int32Array | undefined
  if (options.sorted) {
    const idx = Array.from({ length: n }, (_, i) => i).sort(
      (a, b) => (ts[a] as number) - (ts[b] as number) || a - b,
    )
    perm = Int32Array.from(idx)
  }
  const at = (i: number) => (perm ? (perm[i] as number) : i)
  const record: Record<string, arrow.Vector> = {}
  const pk = new Int32Array(n)
  const pts = new Float64Array(n)
  const pcr = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const r = at(i)
    pk[i] = keys[r] as number
    pts[i] = ts[r] as number
    pcr[i] = created[r] as number
  }
  record[options.keyName ?? 'entity_id'] = keyVector(pk, options.keyType ?? 'int64')
  record.event_timestamp = microsVector(pts)
  if (options.created ?? true) record.created = microsVector(pcr)
  const baseValues = new Float64Array(n)
  for (let f = 0; f < k; f++) {
    for (let i = 0; i < n; i++) baseValues[i] = Math.round(rng.next() * 1e6) / 1e3
    const data = new Float64Array(n)
    const valid = nullRate > 0 ? new Uint8Array(n) : undefined
    const nullDraw = nullRate > 0 ? Float64Array.from({ length: n }, () => rng.next()) : undefined
    for (let i = 0; i < n; i++) {
      const r = src[at(i)] as number
      data[i] = baseValues[r] as number
      if (valid && nullDraw) valid[i] = (nullDraw[r] as number) >= nullRate ? 1 : 0
    }
    record[`f${f}`] = withNulls(new arrow.Float64(), data, valid, n)
  }
  if (options.mixedTypes) {
    const counts = new BigInt64Array(n)
    const words = new Int32Array(counts.buffer)
    const labels: Array<string | null> = []
    for (let i = 0; i < n; i++) {
      const r = src[at(i)] as number
      words[2 * i] = r * 7 + 1
      words[2 * i + 1] = r % 3 === 0 ? 1 : 0 // beyond 2^32: exercises int64
      labels.push(nullRate > 0 && r % 11 === 0 ? null : `label-${r % 97}`)
    }
    record.count = new arrow.Vector([
      arrow.makeData({ type: new arrow.Int64(), length: n, data: counts }),
    ])
    record.label = arrow.vectorFromArray(labels, new arrow.Utf8())
  }
  return new arrow.Table(record)
}

/** Options of {@link generateEntityTable}. */
export interface EntityTableOptions {
  rows: number
  /** Keys drawn uniformly from 0..entities-1 (a few beyond it when `unknownRate` > 0). */
  entities: number
  /** @default 'entity_id' */
  keyName?: string
  /** @default 'int64' */
  keyType?: GeneratedKeyType
  /** @default 2026-01-01T00:00:00Z */
  startMicros?: number
  /** @default 30 days */
  spreadSeconds?: number
  /** @default 0 */
  granularitySeconds?: number
  /** Fraction of rows with a key no feature row has. @default 0 */
  unknownRate?: number
  seed?: number
}

/**
 * An entity table: `keyName`, `event_timestamp` (timestamp[us, UTC]).
 *
 * @example
 * const entities = generateEntityTable({ rows: 1_000_000, entities: 100_000, seed: 2 })
 */
export function generateEntityTable(options: EntityTableOptions): arrow.Table {
  const n = options.rows
  const rng = new Rng(options.seed ?? 2)
  const start = options.startMicros ?? DEFAULT_START
  const spread = (options.spreadSeconds ?? 30 * 86400) * 1e6
  const gran = (options.granularitySeconds ?? 0) * 1e6
  const keys = new Int32Array(n)
  const ts = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const unknown = (options.unknownRate ?? 0) > 0 && rng.next() < (options.unknownRate ?? 0)
    keys[i] = unknown ? options.entities + rng.int(1000) : rng.int(options.entities)
    let t = Math.floor(rng.next() * spread)
    if (gran > 0) t = Math.floor(t / gran) * gran
    ts[i] = start + t
  }
  return new arrow.Table({
    [options.keyName ?? 'entity_id']: keyVector(keys, options.keyType ?? 'int64'),
    event_timestamp: microsVector(ts),
  })
}
