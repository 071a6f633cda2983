/**
 * The SQL compiler through the offline conformance suite: its portable strategy on DuckDB
 * (in-process) and on PostgreSQL, and DuckDB's ASOF hook (defined inline: @larder/testing
 * cannot import @larder/file, whose own tests run the suite with its `duckdbDialect`).
 * Plus hostile names: no feature or entity name can inject SQL.
 */
import { DuckDBInstance, DuckDBTimestampTZValue, DuckDBTimestampValue } from '@duckdb/node-api'
import {
  ansiStringLiteral,
  compilePointInTimeSql,
  type EpochMicros,
  elementType,
  fromArrowType,
  isLarderError,
  isoMicros,
  planHistoricalRetrieval,
  postgresDialect,
  quoteAnsiIdentifier,
  type SqlDialect,
  type ValueTypeName,
} from '@larder/core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  at,
  checkOutcome,
  driver,
  findPostgres,
  type HistoricalCase,
  literalTable,
  offlineStoreConformance,
  runOnStore,
  runReference,
} from '../src/index.js'
import { type SqlRunner, SqlTestStore } from './sql-stores.js'

const DUCK_TYPES: Record<string, string> = {
  int32: 'INTEGER',
  int64: 'BIGINT',
  float32: 'FLOAT',
  float64: 'DOUBLE',
  string: 'VARCHAR',
  bytes: 'BLOB',
  bool: 'BOOLEAN',
  timestamp: 'TIMESTAMPTZ',
}

/** DuckDB, portable strategy (what packages/file's duckdbPortableDialect does). */
const duckPortable: SqlDialect = {
  name: 'duckdb',
  quoteIdentifier: (name) => quoteAnsiIdentifier(name),
  stringLiteral: ansiStringLiteral,
  timestampLiteral: (micros: EpochMicros) => `TIMESTAMPTZ '${isoMicros(micros)}'`,
  subtractMicroseconds: (expr, micros) =>
    `(${expr} - to_microseconds(CAST(${BigInt(micros)} AS BIGINT)))`,
  placeholder: (i) => `$${i}`,
  createTempTable: (name, query) => `CREATE TEMP TABLE ${quoteAnsiIdentifier(name)} AS ${query}`,
  typeName: (type: ValueTypeName) => {
    const e = elementType(type)
    return e ? `${DUCK_TYPES[e]}[]` : (DUCK_TYPES[type] as string)
  },
}

/** DuckDB with the ASOF hook (what packages/file's duckdbDialect does). */
const duckAsof: SqlDialect = {
  ...duckPortable,
  asofJoin: (j) =>
    `${j.left} ASOF LEFT JOIN ${j.right} ON ${[...j.equalities.map(([l, r]) => `${l} = ${r}`), `${j.leftTime} >= ${j.rightTime}`].join(' AND ')}`,
}

async function duckRunner(): Promise<{ runner: SqlRunner; close: () => void }> {
  const instance = await DuckDBInstance.create(':memory:')
  const conn = await instance.connect()
  await conn.run("SET TimeZone = 'UTC'")
  return {
    runner: {
      exec: async (sql) => {
        await conn.run(sql)
      },
      query: async (sql) => {
        const reader = await conn.runAndReadAll(sql)
        return reader
          .getRows()
          .map((row) =>
            row.map((v) =>
              v instanceof DuckDBTimestampTZValue || v instanceof DuckDBTimestampValue
                ? v.micros
                : v,
            ),
          )
      },
    },
    close: () => {
      conn.closeSync()
      instance.closeSync()
    },
  }
}

describe('compiled SQL on DuckDB', async () => {
  const duck = await duckRunner()
  afterAll(() => duck.close())
  for (const [label, dialect] of [
    ['portable', duckPortable],
    ['asof', duckAsof],
  ] as const) {
    const store = new SqlTestStore(`duck_${label}`, duck.runner, dialect)
    offlineStoreConformance({
      name: `SQL compiler, DuckDB ${label}`,
      createStore: () => store,
      loadSource: async (name, table, fields) => {
        await store.loadTable(name, table)
        const keyTypes = Object.fromEntries(
          table.schema.fields.map((f) => [
            fields.fieldMapping?.[f.name] ?? f.name,
            fromArrowType(f.type),
          ]),
        )
        return { kind: 'sqltest', table: name, keyTypes, ...fields }
      },
      propertyRuns: 300,
      // The real-data case loads 57k rows through literal INSERTs (~30 s): the ASOF run and
      // PostgreSQL's portable run cover both strategies.
      capabilities: { realData: label === 'asof' },
    })
  }
})

describe('compiled SQL on PostgreSQL', async () => {
  const found = await findPostgres()
  if (!found.available) {
    test.skip(`PostgreSQL unavailable: ${found.reason}`, () => {})
    return
  }
  const client = new pg.Client({ connectionString: found.url })
  const schema = `larder_pit_${process.pid}_${Date.now()}`
  // int8 as string (exact), timestamptz as text (microseconds kept).
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') => {
      if (oid === 20) return (v: string) => BigInt(v)
      if (oid === 1184) return (v: string) => v
      return pg.types.getTypeParser(oid, format as 'text')
    },
  }
  beforeAll(async () => {
    await client.connect()
    await client.query(`CREATE SCHEMA ${quoteAnsiIdentifier(schema)}`)
    await client.query(`SET search_path TO ${quoteAnsiIdentifier(schema)}`)
    await client.query("SET TimeZone = 'UTC'")
  })
  afterAll(async () => {
    await client.query(`DROP SCHEMA ${quoteAnsiIdentifier(schema)} CASCADE`)
    await client.end()
    await found.stop()
  })
  const toMicros = (text: string): bigint => {
    // 2026-01-01 00:00:10.000001+00
    const m = /^(.*?)(\.\d+)?([+-]\d{2})(:?\d{2})?$/.exec(text)
    if (!m) throw new Error(`unexpected timestamp ${text}`)
    const ms = Date.parse(
      `${(m[1] as string).replace(' ', 'T')}${m[3]}:${(m[4] ?? '00').replace(':', '')}`,
    )
    return BigInt(ms) * 1000n + BigInt((m[2] ?? '.0').slice(1).padEnd(6, '0'))
  }
  const runner: SqlRunner = {
    exec: async (sql) => {
      await client.query(sql)
    },
    query: async (sql, ts) => {
      const res = await client.query({ text: sql, rowMode: 'array', types })
      return (res.rows as unknown[][]).map((row) =>
        row.map((v, i) => (ts.has(i) && typeof v === 'string' ? toMicros(v) : v)),
      )
    },
  }
  const store = new SqlTestStore('pg', runner, postgresDialect)
  offlineStoreConformance({
    name: 'SQL compiler, PostgreSQL',
    createStore: () => store,
    loadSource: async (name, table, fields) => {
      await store.loadTable(name, table)
      const keyTypes = Object.fromEntries(
        table.schema.fields.map((f) => [
          fields.fieldMapping?.[f.name] ?? f.name,
          fromArrowType(f.type),
        ]),
      )
      return { kind: 'sqltest', table: name, keyTypes, ...fields }
    },
    propertyRuns: 200,
  })
})

describe('hostile names cannot inject SQL', async () => {
  const duck = await duckRunner()
  afterAll(() => duck.close())
  const hostile = [
    `x"; DROP TABLE "victim"; --`,
    "a'b",
    'select',
    'Mixed Case é',
    'semi;colon',
    '"',
    'back\\slash',
  ]
  const c: HistoricalCase = {
    name: 'hostile names',
    rule: 'identifiers are quoted; names never inject SQL',
    entities: [
      { kind: 'entity', name: 'who', joinKeys: [hostile[0] as string], valueType: 'int64' },
    ],
    views: [
      {
        name: hostile[1] as string,
        entities: ['who'],
        features: hostile.slice(2).map((name) => ({ name, valueType: 'string' as const })),
        timestampField: hostile[1] as string,
        table: literalTable({
          [hostile[0] as string]: ['int64', [1, 2]],
          [hostile[1] as string]: ['timestamp', [at(1), at(1)]],
          ...Object.fromEntries(
            hostile.slice(2).map((n, i) => [n, ['string', [`v${i}'1`, `v${i}"2`]] as const]),
          ),
        }),
      },
    ],
    entityTable: literalTable({
      [hostile[0] as string]: ['int64', [2, 1, 3]],
      event_timestamp: ['timestamp', [at(2), at(2), at(2)]],
    }),
    features: [{ view: hostile[1] as string }],
    fullFeatureNames: false,
  }
  const store = new SqlTestStore('duck_hostile', duck.runner, duckPortable)
  const options = {
    loadSource: async (
      name: string,
      table: import('apache-arrow').Table,
      fields: import('@larder/core').CommonSourceFields,
    ) => {
      await store.loadTable(name, table)
      return { kind: 'sqltest', table: name, ...fields }
    },
  }
  test('the result equals the engine and the database is intact', async () => {
    await duck.runner.exec('CREATE TABLE "victim" (x INTEGER)')
    const got = await runOnStore(store, options, c, { dir: '', caseId: 'hostile' })
    const reason = checkOutcome(c, got, await runReference(c))
    expect(reason).toBeUndefined()
    expect('table' in got && got.table.numRows).toBe(3)
    expect(await duck.runner.query('SELECT count(*) FROM "victim"', new Set())).toEqual([[0n]])
  })
  test('a name with a NUL or a control character is rejected before any SQL runs', () => {
    const plan = planHistoricalRetrieval({
      features: ['v:f'],
      views: new Map([
        [
          'v',
          {
            kind: 'featureView',
            name: 'v',
            entities: ['driver'],
            features: [{ name: 'f', valueType: 'int64' }],
            source: {
              kind: 'sqltest',
              name: 'v',
              timestampField: 'ts',
              fieldMapping: { 'bad\u0000col': 'f' },
            },
            ttlSeconds: 0,
            online: false,
            offline: true,
          },
        ],
      ]),
      entities: new Map([['driver', driver]]),
      entityColumns: [
        { name: 'driver_id', valueType: 'int64' },
        { name: 'event_timestamp', valueType: 'timestamp' },
      ],
    })
    try {
      compilePointInTimeSql(
        plan,
        { entity: { table: 'e' }, sources: () => ({ table: 'v' }) },
        duckPortable,
      )
      expect.unreachable('a NUL in a name must be rejected')
    } catch (err) {
      expect(isLarderError(err, 'INVALID_INPUT')).toBe(true)
    }
    expect(() => postgresDialect.quoteIdentifier('x'.repeat(64))).toThrow(/63 bytes/)
    expect(() => ansiStringLiteral('a\u0000b')).toThrow(/NUL/)
  })
})
