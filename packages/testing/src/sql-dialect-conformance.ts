/**
 * The SQL dialect conformance suite: what core's SQL compiler needs of a dialect, checked on
 * the real engine (or its stand-in). Every dialect runs it in a few lines:
 *
 * ```ts
 * sqlDialectConformance({ name: 'postgres', dialect: postgresDialect, query: (sql, params) => ... })
 * ```
 */
import {
  isLarderError,
  isoMicros,
  parseTime,
  quoteRelationName,
  type SqlDialect,
  type ValueTypeName,
} from '@larder/core'
import { describe, expect, test } from 'vitest'

/** A query's result as the suite reads it. */
export interface DialectQueryResult {
  /** Column names as the engine returns them. */
  columns: string[]
  /**
   * Rows of plain values: integers as bigint (or number when exact), floats as number,
   * strings, booleans, timestamps as epoch-microsecond bigints, NULL as null.
   */
  rows: unknown[][]
}

/** Options of {@link sqlDialectConformance}. */
export interface SqlDialectConformanceOptions {
  /** The engine's name, used in the suite's title. */
  name: string
  dialect: SqlDialect
  /** Runs a query with its parameters (in placeholder order) on the engine. */
  query: (sql: string, params: readonly unknown[]) => Promise<DialectQueryResult>
  /**
   * Runs a statement without a result. With it, the suite also creates a temporary table
   * with a hostile name through `createTempTable` and reads it back.
   */
  execute?: (sql: string) => Promise<void>
  /** Case names to skip (say why in the test). */
  skip?: string[]
}

const BASE = parseTime('2026-01-01T00:00:00Z')

/** Identifiers no dialect may let through unquoted or mangle. */
export const HOSTILE_IDENTIFIERS = [
  `x"; DROP TABLE "victim"; --`,
  "a'b",
  'select',
  'Mixed Case é',
  'semi;colon',
  '"',
  'back\\slash',
  'a`b',
  'dot.ted',
  '日本語',
]

/** String values every literal must carry unchanged. */
export const HOSTILE_STRINGS = [
  '',
  "it's",
  "''",
  'back\\slash',
  "\\'",
  '-- comment',
  '/* c */',
  'line\nbreak\ttab',
  'é 日本語 🙂',
  '$1 ? :p1 @p1',
]

/** Instants with microseconds, before and after 1970. */
export const INSTANTS: bigint[] = [
  BASE,
  BASE + 1n,
  BASE + 999_999n,
  BASE + 86_399_999_999n,
  0n,
  -1n,
  parseTime('1969-07-20T20:17:40.123456Z'),
  parseTime('2099-12-31T23:59:59.999999Z'),
]

function asBigint(value: unknown): bigint {
  if (typeof value === 'bigint') return value
  if (typeof value === 'number') return BigInt(value)
  if (typeof value === 'string') return BigInt(value)
  throw new Error(`expected an integer, got ${String(value)}`)
}

/**
 * Registers the dialect conformance suite (vitest) for one dialect on its engine: quoting
 * (hostile identifiers come back as the column names, unquotable ones are refused), string
 * literals, timestamp literals and parameters with microseconds, interval subtraction, the
 * type names of every scalar value type, multi-part relation names and temporary tables.
 */
export function sqlDialectConformance(options: SqlDialectConformanceOptions): void {
  const d = options.dialect
  const q = (name: string) => d.quoteIdentifier(name)
  const skip = new Set(options.skip ?? [])
  const run = (name: string, body: () => Promise<void> | void) =>
    test.skipIf(skip.has(name))(name, body, 60_000)

  describe(`SQL dialect conformance: ${options.name}`, () => {
    run('hostile identifiers are quoted and come back unchanged', async () => {
      const usable = HOSTILE_IDENTIFIERS.filter(
        (n) => d.maxIdentifierLength === undefined || Buffer.byteLength(n) <= d.maxIdentifierLength,
      )
      const select = usable.map((n, i) => `${i} AS ${q(n)}`).join(', ')
      const result = await options.query(`SELECT ${select}`, [])
      expect(result.columns).toEqual(usable)
      expect(result.rows[0]?.map(asBigint)).toEqual(usable.map((_, i) => BigInt(i)))
    })

    run('identifiers that cannot be quoted are refused before any SQL runs', () => {
      for (const bad of ['', 'a\u0000b', 'line\nbreak', 'tab\there']) {
        let error: unknown
        try {
          q(bad)
        } catch (err) {
          error = err
        }
        expect(isLarderError(error, 'INVALID_INPUT'), JSON.stringify(bad)).toBe(true)
      }
      if (d.maxIdentifierLength !== undefined) {
        expect(() => q('x'.repeat(d.maxIdentifierLength! + 1))).toThrow()
        expect(q('x'.repeat(d.maxIdentifierLength))).toContain('x')
      }
    })

    run('string literals carry every character unchanged', async () => {
      const select = HOSTILE_STRINGS.map((s, i) => `${d.stringLiteral(s)} AS ${q(`s${i}`)}`)
      const result = await options.query(`SELECT ${select.join(', ')}`, [])
      expect(result.rows[0]).toEqual(HOSTILE_STRINGS)
      expect(() => d.stringLiteral('a\u0000b')).toThrow()
    })

    run('timestamp literals keep microseconds, before and after 1970', async () => {
      const select = INSTANTS.map((m, i) => `${d.timestampLiteral(m)} AS ${q(`t${i}`)}`)
      const result = await options.query(`SELECT ${select.join(', ')}`, [])
      expect(result.rows[0]?.map(asBigint)).toEqual(INSTANTS)
    })

    run('timestamp parameters keep microseconds (when the dialect has placeholders)', async () => {
      const placeholder = d.placeholder
      if (!placeholder) return
      const ts = d.typeName('timestamp')
      const select = INSTANTS.map((_, i) => `CAST(${placeholder(i + 1)} AS ${ts}) AS ${q(`t${i}`)}`)
      const result = await options.query(
        `SELECT ${select.join(', ')}`,
        INSTANTS.map((m) => isoMicros(m)),
      )
      expect(result.rows[0]?.map(asBigint)).toEqual(INSTANTS)
    })

    run('subtracting microseconds is exact (1 us to years)', async () => {
      const amounts = [0n, 1n, 1_500_000n, 86_400_000_000n, 3_650n * 86_400_000_000n]
      const t = BASE + 123_456n
      const select = amounts.map(
        (a, i) => `${d.subtractMicroseconds(d.timestampLiteral(t), a)} AS ${q(`d${i}`)}`,
      )
      const result = await options.query(`SELECT ${select.join(', ')}`, [])
      expect(result.rows[0]?.map(asBigint)).toEqual(amounts.map((a) => t - a))
    })

    run('comparisons on the timestamp type: inclusive bounds at the microsecond', async () => {
      const t = d.timestampLiteral(BASE + 1n)
      const before = d.timestampLiteral(BASE)
      const sql = `SELECT CASE WHEN ${t} >= ${t} AND ${t} <= ${t} AND ${before} < ${t} THEN 1 ELSE 0 END AS ${q('ok')}`
      const result = await options.query(sql, [])
      expect(asBigint(result.rows[0]?.[0])).toBe(1n)
    })

    run('every scalar value type has a type name the engine casts to', async () => {
      const values: Array<[ValueTypeName, string, unknown]> = [
        ['int32', d.stringLiteral('-2147483648'), -2147483648n],
        ['int64', d.stringLiteral('9007199254740993'), 9007199254740993n],
        ['float64', d.stringLiteral('0.1'), 0.1],
        ['string', d.stringLiteral('x'), 'x'],
        ['bool', d.stringLiteral('true'), true],
        ['timestamp', d.timestampLiteral(BASE + 7n), BASE + 7n],
      ]
      const select = values.map(
        ([type, literal], i) => `CAST(${literal} AS ${d.typeName(type)}) AS ${q(`v${i}`)}`,
      )
      const nulls = (
        ['int32', 'int64', 'float32', 'float64', 'string', 'bytes', 'bool', 'timestamp'] as const
      ).map((type, i) => `CAST(NULL AS ${d.typeName(type)}) AS ${q(`n${i}`)}`)
      const result = await options.query(`SELECT ${[...select, ...nulls].join(', ')}`, [])
      const row = result.rows[0] as unknown[]
      values.forEach(([type, , expected], i) => {
        const got = row[i]
        if (type === 'int32' || type === 'int64' || type === 'timestamp') {
          expect(asBigint(got), type).toBe(expected)
        } else expect(got, type).toEqual(expected)
      })
      expect(row.slice(values.length)).toEqual(nulls.map(() => null))
    })

    run('multi-part relation names are quoted part by part', async () => {
      const text = quoteRelationName(d, ['a"b', 'c.d', 'e'])
      expect(text.startsWith('(')).toBe(false)
      // The quoted name must keep every part intact: the engine reports it as unknown, not as
      // a syntax error, when it does not exist.
      let error: unknown
      try {
        await options.query(`SELECT * FROM ${text}`, [])
      } catch (err) {
        error = err
      }
      expect(error, 'selecting from a missing relation must fail').toBeDefined()
      expect(String((error as Error).message)).not.toMatch(/syntax/i)
    })

    run('a temporary table with a hostile name is created and read back', async () => {
      const execute = options.execute
      if (!execute) return
      const name = `tmp ${HOSTILE_IDENTIFIERS[0]} ${Date.now()}`.slice(
        0,
        d.maxIdentifierLength ?? 60,
      )
      await execute(d.createTempTable(name, `SELECT 42 AS ${q('answer')}`))
      const result = await options.query(
        `SELECT ${q('answer')} FROM ${quoteRelationName(d, [name])}`,
        [],
      )
      expect(result.rows.map((r) => asBigint(r[0]))).toEqual([42n])
      await execute(`DROP TABLE ${quoteRelationName(d, [name])}`)
    })
  })
}
