/**
 * Result checks: a row count and a SHA-256 over a canonical form of every value, in order,
 * so that two subjects of a benchmark can be shown to have produced the same result.
 *
 * Canonical form: null and undefined are one token; numbers and bigints print as decimals
 * (so an int64 read as `bigint` on one side and as `number` on the other agree); strings are
 * JSON-quoted; bytes are hex; dates and timestamps are epoch microseconds.
 */
import { createHash, type Hash } from 'node:crypto'
import type { DuckDBConnection } from '@duckdb/node-api'
import * as arrow from 'apache-arrow'

/** What a subject's run produced: how many rows and a digest of their values. */
export interface ResultCheck {
  rows: number
  digest: string
}

/** The canonical text of one value (see the module comment). */
export function canonical(value: unknown): string {
  if (value === null || value === undefined) return '\u2205'
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value)
    case 'bigint':
      return value.toString()
    case 'string':
      return JSON.stringify(value)
    case 'boolean':
      return value ? 'true' : 'false'
    default:
      break
  }
  if (value instanceof Uint8Array) return `0x${Buffer.from(value).toString('hex')}`
  if (value instanceof Date) return String(BigInt(value.getTime()) * 1000n)
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (typeof value === 'object' && 'micros' in value) return String(value.micros)
  return JSON.stringify(value)
}

/** Accumulates rows (or whole texts) into a {@link ResultCheck}. */
export class Digest {
  #hash: Hash = createHash('sha256')
  #buf = ''
  #rows = 0

  /** Adds one row of values. */
  row(values: readonly unknown[]): void {
    let line = ''
    for (const v of values) line += `${canonical(v)}\u001f`
    this.#buf += `${line}\u001e`
    this.#rows++
    if (this.#buf.length > 1 << 16) this.#flush()
  }

  /** Adds a text as it is (e.g. a serialized JSON answer) and counts `rows` rows. */
  text(text: string, rows: number): void {
    this.#flush()
    this.#hash.update(text)
    this.#hash.update('\u001e')
    this.#rows += rows
  }

  #flush(): void {
    if (this.#buf.length > 0) this.#hash.update(this.#buf)
    this.#buf = ''
  }

  /** The row count and the hex digest (the digest can be taken once). */
  result(): ResultCheck {
    this.#flush()
    return { rows: this.#rows, digest: this.#hash.digest('hex') }
  }
}

/** Reads one value of an Arrow column; timestamps as epoch microseconds (`bigint`). */
function columnReader(vector: arrow.Vector): (i: number) => unknown {
  const type = vector.type as arrow.DataType
  if (arrow.DataType.isTimestamp(type)) {
    const factor = [1_000_000n, 1000n, 1n, 1n][type.unit] as bigint
    const divide = type.unit === arrow.TimeUnit.NANOSECOND
    const chunks = vector.data.map((d) => ({ data: d, values: d.values as BigInt64Array }))
    return (i) => {
      let at = i
      for (const c of chunks) {
        if (at < c.data.length) {
          if (!c.data.getValid(at)) return null
          const v = c.values[c.data.offset + at] as bigint
          return divide ? v / 1000n : v * factor
        }
        at -= c.data.length
      }
      return null
    }
  }
  return (i) => vector.get(i)
}

/** The result check of an Arrow table, every column, in row order. */
export function digestArrow(table: arrow.Table): ResultCheck {
  const readers = table.schema.fields.map((f) => columnReader(table.getChild(f.name)!))
  const d = new Digest()
  const row: unknown[] = new Array(readers.length)
  for (let i = 0; i < table.numRows; i++) {
    for (let c = 0; c < readers.length; c++) row[c] = readers[c]!(i)
    d.row(row)
  }
  return d.result()
}

/**
 * The result check of a DuckDB query's rows, in the query's order. Write timestamps as
 * `epoch_us(col)` in the query so that both sides print microseconds.
 */
export async function digestDuck(connection: DuckDBConnection, sql: string): Promise<ResultCheck> {
  const result = await connection.stream(sql)
  const d = new Digest()
  for (;;) {
    const chunk = await result.fetchChunk()
    if (!chunk || chunk.rowCount === 0) break
    for (const row of chunk.getRows()) d.row(row)
  }
  return d.result()
}
