/**
 * SQL dialects: what the point-in-time SQL compiler needs to know about a database.
 * Warehouse backends supply one (PostgreSQL/Redshift, DuckDB, BigQuery, Snowflake...).
 */
import type { EpochMicros } from '../duration.js'
import { formatTime } from '../duration.js'
import { LarderError } from '../errors.js'
import type { ValueTypeName } from '../types.js'

/** An ASOF join the compiler asks a dialect for (see {@link SqlDialect.asofJoin}). */
export interface AsofJoinSpec {
  /** The left (entity) relation, already quoted, with its alias: `"__larder_entity" AS e`. */
  left: string
  /** The right (feature) relation with its alias. */
  right: string
  /** Equality conditions, as qualified expressions `[left, right]`. */
  equalities: Array<[string, string]>
  /** Left time expression (the entity timestamp). */
  leftTime: string
  /** Right time expression (the event timestamp): matches the greatest right <= left. */
  rightTime: string
}

/**
 * What the SQL compiler needs to know about a database. Implement it for a warehouse; see
 * `postgresDialect` for a complete example.
 */
export interface SqlDialect {
  /** For messages, e.g. `postgres`. */
  readonly name: string
  /** Longest identifier in bytes the database keeps intact (PostgreSQL: 63). */
  readonly maxIdentifierLength?: number
  /** Quotes an identifier; must reject what cannot be quoted safely (see `quoteAnsiIdentifier`). */
  quoteIdentifier(name: string): string
  /** A string literal with every special character escaped. */
  stringLiteral(value: string): string
  /** A timestamp-with-zone literal of an instant (microseconds kept). */
  timestampLiteral(micros: EpochMicros): string
  /** `expr - micros microseconds` on a timestamp expression. */
  subtractMicroseconds(expr: string, micros: bigint): string
  /**
   * The placeholder of the 1-based parameter `index` (`$1`, `?`, `:p1`, `@p1`...). When a
   * dialect has one, the compiler binds values (time bounds) as parameters: a timestamp
   * parameter is its `isoMicros` text (`2026-01-01 00:00:00.000001+00:00`) inside
   * `CAST(<placeholder> AS <typeName('timestamp')>)`. Absent: values are inlined as literals.
   */
  placeholder?(index: number): string
  /**
   * Quotes a multi-part relation name (`project.dataset.table`, `database.schema.table`).
   * @default each part quoted with `quoteIdentifier`, joined with `.`
   */
  quoteRelation?(parts: readonly string[]): string
  /**
   * A date literal (`YYYY-MM-DD`), compared with a `datePartitionColumn`.
   * @default the string literal of the date (Feast compares partition columns with strings)
   */
  dateLiteral?(isoDate: string): string
  /** DDL creating a temporary table from a query. */
  createTempTable(name: string, query: string): string
  /** The SQL type of a Larder value type, for output casts. */
  typeName(type: ValueTypeName): string
  /**
   * A native ASOF join (DuckDB): the FROM clause joining `left` to, per left row, the right
   * row with the greatest `rightTime <= leftTime` and equal keys (LEFT semantics: unmatched
   * left rows kept). Undefined or absent: the portable ranking strategy is used.
   */
  asofJoin?(join: AsofJoinSpec): string | undefined
}

/**
 * Quotes a relation name part by part with the dialect (its `quoteRelation`, else each part
 * with `quoteIdentifier`, joined with `.`).
 * @throws LarderError INVALID_INPUT when there is no part or a part cannot be quoted.
 */
export function quoteRelationName(dialect: SqlDialect, parts: readonly string[]): string {
  if (parts.length === 0) {
    throw new LarderError('INVALID_INPUT', 'a relation name needs at least one part', {
      component: 'sql',
    })
  }
  if (dialect.quoteRelation) return dialect.quoteRelation(parts)
  return parts.map((p) => dialect.quoteIdentifier(p)).join('.')
}

/**
 * Splits a dotted relation name as users write it (`project.dataset.table`,
 * `db.schema."my.table"`): dots inside double quotes or backticks do not split, and the
 * quotes are removed (a doubled quote inside stands for one).
 * @throws LarderError INVALID_INPUT naming the text when a part is empty or a quote is open.
 */
export function parseRelationName(text: string): string[] {
  const parts: string[] = []
  let current = ''
  let quote: string | undefined
  let quoted = false
  const bad = (why: string) =>
    new LarderError('INVALID_INPUT', `relation name '${text}' ${why}`, {
      component: 'sql',
      hint: "write it as 'table', 'schema.table' or 'project.dataset.table'",
    })
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string
    if (quote !== undefined) {
      if (ch === quote) {
        if (text[i + 1] === quote) {
          current += ch
          i++
        } else quote = undefined
      } else current += ch
    } else if (ch === '"' || ch === '`') {
      quote = ch
      quoted = true
    } else if (ch === '.') {
      if (current === '' && !quoted) throw bad('has an empty part')
      parts.push(current)
      current = ''
      quoted = false
    } else current += ch
  }
  if (quote !== undefined) throw bad('has an unclosed quote')
  if (current === '' && !quoted) throw bad('has an empty part')
  parts.push(current)
  return parts
}

/** `YYYY-MM-DD` of an instant, in UTC. */
export function isoDate(micros: EpochMicros): string {
  return formatTime(micros).slice(0, 10)
}

/**
 * Quotes an identifier the ANSI way (`"name"`, inner quotes doubled), after checking it:
 * not empty, no NUL or other control character, not longer than `maxLength` bytes.
 * @throws LarderError INVALID_INPUT naming the identifier.
 */
export function quoteAnsiIdentifier(name: string, maxLength?: number, quote = '"'): string {
  checkIdentifier(name, maxLength)
  return quote + name.replaceAll(quote, quote + quote) + quote
}

/**
 * Checks an identifier before it goes into SQL.
 * @throws LarderError INVALID_INPUT naming it.
 */
export function checkIdentifier(name: string, maxLength?: number): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new LarderError('INVALID_INPUT', 'an empty name cannot be used as a SQL identifier', {
      component: 'sql',
    })
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw new LarderError(
      'INVALID_INPUT',
      `name ${JSON.stringify(name)} contains a control character and cannot be used as a SQL identifier`,
      { component: 'sql', hint: 'rename the column or feature' },
    )
  }
  if (maxLength !== undefined && new TextEncoder().encode(name).length > maxLength) {
    throw new LarderError(
      'INVALID_INPUT',
      `name '${name}' is longer than ${maxLength} bytes, the longest identifier the database keeps`,
      { component: 'sql', hint: 'use a shorter name' },
    )
  }
}

/** A standard SQL string literal: single quotes doubled; NUL rejected. */
export function ansiStringLiteral(value: string): string {
  if (value.includes('\u0000')) {
    throw new LarderError('INVALID_INPUT', 'a SQL string literal cannot contain NUL', {
      component: 'sql',
    })
  }
  return `'${value.replaceAll("'", "''")}'`
}

/** RFC 3339 with microseconds and `+00:00`, e.g. `2026-01-01 00:00:00.000001+00:00`. */
export function isoMicros(micros: EpochMicros): string {
  const text = formatTime(micros)
  const body = text.slice(0, -1).replace('T', ' ')
  return `${body.includes('.') ? body : `${body}.000000`}+00:00`
}
