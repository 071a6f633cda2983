import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { SnowflakeEmulator } from '../src/snowflake/index.js'
import { startSnowflakeEmulator } from '../src/snowflake/index.js'
import { recordOutboundConnections } from '../src/warehouse/loopback-guard.js'

// Every TCP connection the client makes during these tests must go to loopback.
const connections = recordOutboundConnections()

// Never let the driver probe cloud platforms (metadata endpoints) from tests.
process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION = 'true'

const snowflake = (await import('snowflake-sdk')).default
snowflake.configure({ logLevel: 'OFF' } as never)

type Connection = ReturnType<typeof snowflake.createConnection>
type Row = Record<string, unknown>

let emulator: SnowflakeEmulator
let conn: Connection

/** Runs one statement with the official driver and resolves its rows. */
function run(sqlText: string, binds?: unknown[]): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    conn.execute({
      sqlText,
      ...(binds ? { binds: binds as never } : {}),
      complete: (err, _stmt, rows) => (err ? reject(err) : resolve((rows ?? []) as Row[])),
    })
  })
}

beforeAll(async () => {
  emulator = await startSnowflakeEmulator()
  conn = snowflake.createConnection({
    accessUrl: emulator.url,
    account: 'emulator',
    username: 'larder',
    password: 'not-checked',
    database: 'LARDER',
    schema: 'PUBLIC',
  })
  await conn.connectAsync(() => undefined)
  // connectAsync resolves even when the login failed: check the session is really up.
  expect(conn.isUp()).toBe(true)
})

afterAll(async () => {
  connections.restore()
  expect(connections.hosts.length).toBeGreaterThan(0)
  expect(connections.nonLoopback()).toEqual([])
  if (conn?.isUp()) {
    await new Promise<void>((resolve) => conn.destroy(() => resolve()))
  }
  await emulator?.close()
})

describe('Snowflake emulator with snowflake-sdk', () => {
  test('DDL, inserts with binds, typed results', async () => {
    const created = await run(
      'CREATE TABLE driver_stats (driver_id NUMBER, event_ts TIMESTAMP_NTZ, conv_rate FLOAT, active BOOLEAN, d DATE, label VARCHAR, raw BINARY, amount NUMBER(10,2))',
    )
    expect(created).toEqual([{ status: 'Table DRIVER_STATS successfully created.' }])
    const inserted = await run(
      "INSERT INTO driver_stats VALUES (1, '2024-01-01 00:00:00', 0.5, TRUE, '2024-01-01', 'a', TO_BINARY_PLACEHOLDER, 12.5)".replace(
        'TO_BINARY_PLACEHOLDER',
        "'ab'::BINARY",
      ),
    )
    expect(inserted).toEqual([{ 'number of rows inserted': 1 }])
    // Array binds insert several rows in one request.
    const many = await run(
      'INSERT INTO driver_stats (driver_id, event_ts, conv_rate, label) VALUES (?, ?, ?, ?)',
      [
        [2, '2024-01-02 00:00:00', 0.25, 'b'],
        [3, '2024-01-03 00:00:00', 0.75, 'c'],
      ],
    )
    expect(many).toEqual([{ 'number of rows inserted': 2 }])

    const rows = await run(
      'SELECT driver_id, event_ts, conv_rate, active, d, label, amount FROM larder.public.driver_stats WHERE driver_id = ? OR label = :2 ORDER BY driver_id',
      [1, 'c'],
    )
    expect(rows).toHaveLength(2)
    const first = rows[0]!
    expect(first.DRIVER_ID).toBe(1)
    expect((first.EVENT_TS as Date).toISOString()).toBe('2024-01-01T00:00:00.000Z')
    expect(first.CONV_RATE).toBe(0.5)
    expect(first.ACTIVE).toBe(true)
    expect(first.LABEL).toBe('a')
    expect(first.AMOUNT).toBe(12.5)
    expect((first.D as Date).toISOString()).toBe('2024-01-01T00:00:00.000Z')
    expect(rows[1]!.DRIVER_ID).toBe(3)

    const [bin] = await run('SELECT raw FROM driver_stats WHERE driver_id = 1')
    expect(Buffer.isBuffer(bin!.RAW)).toBe(true)
    expect((bin!.RAW as Buffer).toString('utf8')).toBe('ab')

    const [ltz] = await run("SELECT '2024-01-01 12:00:00+00'::TIMESTAMP_LTZ AS t")
    expect((ltz!.T as Date).toISOString()).toBe('2024-01-01T12:00:00.000Z')

    const updated = await run(
      'UPDATE driver_stats SET conv_rate = conv_rate * 2 WHERE driver_id > ?',
      [1],
    )
    expect(updated[0]).toMatchObject({ 'number of rows updated': 2 })
    const deleted = await run('DELETE FROM driver_stats WHERE driver_id = 3')
    expect(deleted).toEqual([{ 'number of rows deleted': 1 }])
  })

  test('schemas and USE SCHEMA', async () => {
    await run('CREATE SCHEMA features')
    await run('USE SCHEMA features')
    await run('CREATE TABLE t (x INT)')
    await run('INSERT INTO t VALUES (1), (2)')
    expect(await run('SELECT COUNT(*) AS n FROM larder.features.t')).toEqual([{ N: 2 }])
    await run('USE SCHEMA public')
  })

  test('large results arrive in chunks (150k rows)', async () => {
    await emulator.query(
      'CREATE TABLE "PUBLIC"."NUMBERS" AS SELECT range AS "N", range % 7 AS "K" FROM range(150000)',
    )
    const rows = await run('SELECT n, k FROM numbers ORDER BY n')
    expect(rows).toHaveLength(150000)
    expect(rows[0]).toEqual({ N: 0, K: 0 })
    expect(rows[149999]).toEqual({ N: 149999, K: 149999 % 7 })
    // The wire format: 1,000 rows inline, the rest in chunks the driver downloads.
    const raw = await fetch(`${emulator.url}/queries/v1/query-request?requestId=raw`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sqlText: 'SELECT n FROM numbers' }),
    })
    const body = (await raw.json()) as {
      data: { rowset: unknown[]; total: number; chunks: Array<{ rowCount: number }> }
    }
    expect(body.data.rowset).toHaveLength(1000)
    expect(body.data.total).toBe(150000)
    expect(body.data.chunks.reduce((n, c) => n + c.rowCount, 0)).toBe(149000)
    // Rows generated in the Snowflake dialect itself.
    const generated = await run('SELECT SEQ4() AS i FROM TABLE(GENERATOR(ROWCOUNT => 5000))')
    expect(generated).toHaveLength(5000)
    expect(generated[4999]).toEqual({ I: 4999 })
  }, 60_000) // 150k rows in chunks through the driver: seconds, more on a loaded machine

  test('errors arrive in Snowflake format with code and sqlState', async () => {
    await expect(run('SELEC 1')).rejects.toMatchObject({
      name: 'OperationFailedError',
      code: '001003',
      sqlState: '42000',
      message: expect.stringContaining('syntax error'),
    })
    await expect(run('SELECT * FROM does_not_exist')).rejects.toMatchObject({
      name: 'OperationFailedError',
      code: '002003',
      sqlState: '42S02',
      message: expect.stringContaining(
        "Object 'LARDER.PUBLIC.DOES_NOT_EXIST' does not exist or not authorized.",
      ),
    })
    await expect(run('SELECT nope FROM numbers')).rejects.toMatchObject({
      code: '000904',
      message: expect.stringContaining("invalid identifier 'NOPE'"),
    })
    await expect(run('SELECT list_value(1)')).rejects.toMatchObject({
      code: '002140',
      message: expect.stringContaining('Unknown function LIST_VALUE'),
    })
    await expect(run('CREATE TABLE v (x VARIANT)')).rejects.toMatchObject({ code: '000002' })
    await expect(run('SELECT ?', [])).rejects.toMatchObject({ sqlState: '07002' })
  })

  test('point-in-time join: CTEs + UNION ALL + ROW_NUMBER window + DATEADD range join', async () => {
    await run('CREATE TABLE features (driver_id NUMBER, event_ts TIMESTAMP_NTZ, rating FLOAT)')
    await run(`INSERT INTO features VALUES
      (1, '2024-01-01 00:00:00', 1.0), (1, '2024-01-01 10:00:00', 2.0),
      (1, '2024-01-02 00:00:00', 3.0), (2, '2024-01-01 00:00:00', 9.0)`)
    await run('CREATE TABLE entities (driver_id NUMBER, ts TIMESTAMP_NTZ)')
    await run(
      "INSERT INTO entities VALUES (1, '2024-01-01 12:00:00'), (2, '2024-01-03 00:00:00'), (3, '2024-01-01 00:00:00')",
    )
    const sql = `
      WITH entity_df AS (
        SELECT driver_id, ts AS entity_ts, ROW_NUMBER() OVER (ORDER BY driver_id) AS row_id FROM entities
      ),
      feature_rows AS (
        SELECT driver_id, event_ts, rating, 0 AS src FROM larder.public.features
        UNION ALL
        SELECT driver_id, event_ts, rating, 1 AS src FROM features WHERE 1 = 0
      ),
      joined AS (
        SELECT e.row_id, e.driver_id, e.entity_ts, f.rating, f.event_ts,
          ROW_NUMBER() OVER (PARTITION BY e.row_id ORDER BY f.event_ts DESC) AS rn
        FROM entity_df e
        LEFT JOIN feature_rows f
          ON f.driver_id = e.driver_id
          AND f.event_ts <= e.entity_ts
          AND f.event_ts > DATEADD(hour, -?, e.entity_ts)
      )
      SELECT driver_id, entity_ts, rating FROM joined WHERE rn = 1 ORDER BY driver_id`
    const rows = await run(sql, [24])
    expect(rows.map((r) => [r.DRIVER_ID, r.RATING])).toEqual([
      [1, 2],
      [2, null], // latest feature is 48h old: outside the 24h TTL
      [3, null],
    ])
    expect((rows[0]!.ENTITY_TS as Date).toISOString()).toBe('2024-01-01T12:00:00.000Z')
    const latest = await run(
      'SELECT driver_id, rating FROM features QUALIFY ROW_NUMBER() OVER (PARTITION BY driver_id ORDER BY event_ts DESC) = 1 ORDER BY driver_id',
    )
    expect(latest).toEqual([
      { DRIVER_ID: 1, RATING: 3 },
      { DRIVER_ID: 2, RATING: 9 },
    ])
  })
})
