import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { SnowflakeBind } from '../src/snowflake/index.js'
import { translateSnowflake } from '../src/snowflake/index.js'
import { WarehouseDb } from '../src/warehouse/duckdb.js'
import { SqlRejection } from '../src/warehouse/sql.js'

let db: WarehouseDb
const context = { database: 'DB', schema: 'PUBLIC' }

beforeAll(async () => {
  db = await WarehouseDb.open()
  await db.run(`CREATE SCHEMA "PUBLIC"; CREATE TABLE "PUBLIC".T (ID BIGINT, TS TIMESTAMP, NAME VARCHAR, F DOUBLE);
    INSERT INTO "PUBLIC".T VALUES (1, '2024-01-01 00:00:00', 'a', NULL), (2, '2024-01-02 06:30:00', 'b', 2.5)`)
})
afterAll(() => db?.close())

/** Translates Snowflake SQL, runs it on DuckDB and returns the first row's values as strings. */
async function first(sql: string, bindings?: Record<string, SnowflakeBind>): Promise<string[]> {
  const t = translateSnowflake(sql, { ...context, ...(bindings ? { bindings } : {}) })
  const r = await db.run(t.sql, t.params[0] ?? [])
  return (r.rows[0] ?? []).map((v) => String(v))
}

function rejection(sql: string): SqlRejection {
  try {
    translateSnowflake(sql, context)
  } catch (err) {
    if (err instanceof SqlRejection) return err
    throw err
  }
  throw new Error(`expected a rejection for: ${sql}`)
}

describe('Snowflake -> DuckDB translation rules (each one executed on DuckDB)', () => {
  test.each([
    ['database.schema.table -> schema.table', 'SELECT COUNT(*) FROM db.public.t', ['2']],
    ['bare names use the session schema', 'SELECT COUNT(*) FROM t', ['2']],
    ['unquoted identifiers fold to upper case', 'select id as x from t where id = 2', ['2']],
    [
      ':: casts with Snowflake type names',
      "SELECT '5'::NUMBER + 1, '2024-01-01'::TIMESTAMP_NTZ, 1.239::NUMBER(10,2)",
      ['6', '2024-01-01 00:00:00', '1.24'],
    ],
    [
      'CAST to TIMESTAMP_LTZ',
      "SELECT CAST('2024-01-01 00:00:00+00' AS TIMESTAMP_LTZ)",
      ['2024-01-01 00:00:00+00'],
    ],
    [
      'DATEADD',
      "SELECT DATEADD(hour, -3, '2024-01-01 00:00:00'::TIMESTAMP_NTZ)",
      ['2023-12-31 21:00:00'],
    ],
    [
      'TIMESTAMPADD with abbreviations',
      "SELECT TIMESTAMPADD(mins, 90, '2024-01-01'::TIMESTAMP)",
      ['2024-01-01 01:30:00'],
    ],
    ['DATEDIFF counts boundaries', 'SELECT DATEDIFF(day, MIN(ts), MAX(ts)) FROM t', ['1']],
    ['DATE_TRUNC', "SELECT DATE_TRUNC('HOUR', MAX(ts)) FROM t", ['2024-01-02 06:00:00']],
    [
      'IFF / NVL / NVL2 / ZEROIFNULL',
      'SELECT IFF(id > 1, 1, 0), NVL(f, -1), NVL2(f, 1, 0), ZEROIFNULL(f) FROM t WHERE id = 1',
      ['0', '-1', '0', '0'],
    ],
    ['DIV0', 'SELECT DIV0(1, 0), DIV0(6, 3)', ['0', '2']],
    [
      'TO_* conversions',
      "SELECT TO_DATE('2024-02-03'), TO_VARCHAR(12), TO_DOUBLE('1.5')",
      ['2024-02-03', '12', '1.5'],
    ],
    ['LEN / STARTSWITH', "SELECT LEN('abc'), STARTSWITH('abc', 'a')", ['3', 'true']],
    ['LISTAGG', "SELECT LISTAGG(name, '|') FROM (SELECT name FROM t ORDER BY id)", ['a|b']],
    [
      'GENERATOR + SEQ4',
      'SELECT MAX(s), COUNT(*) FROM (SELECT SEQ4() AS s FROM TABLE(GENERATOR(ROWCOUNT => 100)))',
      ['99', '100'],
    ],
    ['MINUS', 'SELECT id FROM t MINUS SELECT id FROM t WHERE id = 1', ['2']],
    ['* EXCLUDE', 'SELECT * EXCLUDE (ts, name, f) FROM t WHERE id = 2', ['2']],
    ['QUALIFY', 'SELECT id FROM t QUALIFY ROW_NUMBER() OVER (ORDER BY ts DESC) = 1', ['2']],
    ['strings keep their case; backslash escapes', "SELECT 'It''s', 'a\\tb'", ["It's", 'a\tb']],
  ])('%s', async (_name, sql, expected) => {
    expect(await first(sql)).toEqual(expected)
  })

  test('binds: ? in order, :n by number, typed by the SDK bind type', async () => {
    expect(
      await first('SELECT name FROM t WHERE id = ? AND ts < ?', {
        '1': { type: 'FIXED', value: '2' },
        '2': { type: 'TEXT', value: '2025-01-01 00:00:00' },
      }),
    ).toEqual(['b'])
    expect(
      await first('SELECT :2 || :1', {
        '1': { type: 'TEXT', value: 'x' },
        '2': { type: 'TEXT', value: 'y' },
      }),
    ).toEqual(['yx'])
    const many = translateSnowflake('INSERT INTO t (id) VALUES (?)', {
      ...context,
      bindings: { '1': { type: 'FIXED', value: ['7', '8'] } },
    })
    expect(many.params).toEqual([['7'], ['8']])
  })

  test('DDL types and status messages', () => {
    const t = translateSnowflake(
      'CREATE TABLE db.s.n (a NUMBER, b NUMBER(10,2), c VARCHAR(10), d TIMESTAMP_NTZ(9), e TIMESTAMP_LTZ, f BINARY, g FLOAT)',
      context,
    )
    expect(t.sql).toBe(
      'CREATE TABLE S.N (A DECIMAL(38,0), B DECIMAL(10,2), C VARCHAR, D TIMESTAMP, E TIMESTAMPTZ, F BLOB, G DOUBLE)',
    )
    expect(t.status).toBe('Table N successfully created.')
    expect(translateSnowflake('DROP TABLE IF EXISTS t', context).status).toBe(
      'Table T successfully dropped.',
    )
    expect(translateSnowflake('DELETE FROM t WHERE id = 1', context).kind).toBe('delete')
    expect(translateSnowflake('USE SCHEMA db.features', context).use).toEqual({
      what: 'schema',
      name: 'DB.FEATURES',
    })
  })
})

describe('statements Snowflake would reject (or the emulator does not support)', () => {
  test.each([
    ['syntax error', 'SELEC 1', '001003', 'syntax error line 1 at position 6'],
    ['unknown function', 'SELECT my_udf(1)', '002140', 'Unknown function MY_UDF'],
    ['DuckDB-only function', 'SELECT list_value(1)', '002140', 'Unknown function LIST_VALUE'],
    ['DuckDB-only table function', 'SELECT * FROM range(3)', '002140', 'Unknown function RANGE'],
    ['VARIANT', 'CREATE TABLE v (x VARIANT)', '000002', 'VARIANT'],
    ['unset bind', 'SELECT ?', '002049', 'Bind variable ? not set'],
    ['MERGE', 'MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE', '000002', 'MERGE'],
    ['several statements', 'SELECT 1; SELECT 2', '000002', 'statement count'],
  ])('%s', (_name, sql, code, message) => {
    const err = rejection(sql)
    expect(err.message).toContain(message)
    // The server answers each rejection kind with this Snowflake error code.
    const kinds: Record<string, string[]> = {
      '001003': ['syntax'],
      '002140': ['function'],
      '000002': ['unsupported'],
      '002049': ['parameter'],
    }
    expect(kinds[code]).toContain(err.kind)
  })
})
