/**
 * Drives the Redshift Data API emulator with the unmodified @aws-sdk/client-redshift-data over
 * HTTP on 127.0.0.1 (explicit endpoint, region and credentials: nothing reaches AWS or IMDS).
 */
import type {
  DescribeStatementCommandOutput,
  Field,
  SqlParameter,
} from '@aws-sdk/client-redshift-data'
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  DescribeTableCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
  ListDatabasesCommand,
  ListSchemasCommand,
  ListStatementsCommand,
  ListTablesCommand,
  RedshiftDataClient,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-redshift-data'
import { findPostgres } from '@larder/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RedshiftEmulator } from '../src/redshift/index.js'
import { startRedshiftEmulator } from '../src/redshift/index.js'

const postgres = await findPostgres()

const TERMINAL = new Set(['FINISHED', 'FAILED', 'ABORTED'])
const target = { ClusterIdentifier: 'larder-test', Database: 'dev', DbUser: 'awsuser' }

describe.skipIf(!postgres.available)('Redshift Data API emulator', () => {
  let emulator: RedshiftEmulator
  let client: RedshiftDataClient

  beforeAll(async () => {
    if (!postgres.available) return
    emulator = await startRedshiftEmulator({ postgresUrl: postgres.url })
    client = new RedshiftDataClient({
      endpoint: emulator.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    })
  }, 30_000)

  afterAll(async () => {
    client?.destroy()
    await emulator?.close()
    if (postgres.available) await postgres.stop()
  }, 30_000)

  async function wait(id: string): Promise<DescribeStatementCommandOutput> {
    for (let i = 0; i < 600; i++) {
      const d = await client.send(new DescribeStatementCommand({ Id: id }))
      if (TERMINAL.has(d.Status ?? '')) return d
      await new Promise((r) => setTimeout(r, 25))
    }
    throw new Error(`statement ${id} did not finish`)
  }

  async function run(sql: string, parameters?: SqlParameter[]) {
    const { Id } = await client.send(
      new ExecuteStatementCommand({ ...target, Sql: sql, Parameters: parameters }),
    )
    return wait(Id!)
  }

  async function batch(sqls: string[]) {
    const { Id } = await client.send(new BatchExecuteStatementCommand({ ...target, Sqls: sqls }))
    return wait(Id!)
  }

  /** Every record of a result, following NextToken. */
  async function records(id: string): Promise<{ rows: Field[][]; pages: number; types: string[] }> {
    const rows: Field[][] = []
    let token: string | undefined
    let pages = 0
    let types: string[] = []
    do {
      const page = await client.send(new GetStatementResultCommand({ Id: id, NextToken: token }))
      rows.push(...(page.Records ?? []))
      types = (page.ColumnMetadata ?? []).map((c) => c.typeName ?? '?')
      token = page.NextToken
      pages++
    } while (token)
    return { rows, pages, types }
  }

  it('runs statements asynchronously: SUBMITTED/STARTED first, results only once FINISHED', async () => {
    const { Id } = await client.send(
      new ExecuteStatementCommand({
        ...target,
        Sql: 'SELECT 42 AS answer FROM (SELECT pg_sleep(0.5)) s',
      }),
    )
    const early = await client.send(new DescribeStatementCommand({ Id }))
    expect(['SUBMITTED', 'STARTED']).toContain(early.Status)
    await expect(client.send(new GetStatementResultCommand({ Id }))).rejects.toBeInstanceOf(
      ValidationException,
    )
    const done = await wait(Id!)
    expect(done.Status).toBe('FINISHED')
    expect(done.HasResultSet).toBe(true)
    expect(done.ResultRows).toBe(1)
    expect(done.Duration).toBeGreaterThan(450_000_000) // nanoseconds
    expect(done.CreatedAt).toBeInstanceOf(Date)
    expect(done.UpdatedAt!.getTime()).toBeGreaterThanOrEqual(done.CreatedAt!.getTime())
    const result = await client.send(new GetStatementResultCommand({ Id }))
    expect(result.Records).toEqual([[{ longValue: 42 }]])
    expect(result.ColumnMetadata?.[0]).toMatchObject({ name: 'answer', typeName: 'int4' })
  })

  it('creates a table, loads it with a batch, and answers a parameterized query with typed fields', async () => {
    const created = await run(`
      CREATE TABLE public.driver_stats (
        driver_id BIGINT NOT NULL ENCODE az64,
        name VARCHAR(64),
        rating DOUBLE PRECISION,
        active BOOLEAN,
        trips DECIMAL(10, 2),
        event_ts TIMESTAMP,
        created TIMESTAMPTZ
      ) DISTKEY (driver_id) SORTKEY (event_ts)`)
    expect(created.Status).toBe('FINISHED')
    expect(created.HasResultSet).toBe(false)

    const loaded = await batch([
      "INSERT INTO driver_stats VALUES (1, 'ann', 4.5, true, 10.50, '2024-01-01 10:00:00', '2024-01-01 10:00:00+00')",
      "INSERT INTO driver_stats VALUES (2, 'bob', 3.25, false, 3.00, '2024-01-02 11:30:00', '2024-01-02 11:30:00+00'), (3, NULL, NULL, NULL, NULL, NULL, NULL)",
    ])
    expect(loaded.Status).toBe('FINISHED')
    expect(loaded.SubStatements?.map((s) => [s.Id, s.Status, s.ResultRows])).toEqual([
      [`${loaded.Id}:1`, 'FINISHED', 1],
      [`${loaded.Id}:2`, 'FINISHED', 2],
    ])
    const sub = await client.send(new DescribeStatementCommand({ Id: `${loaded.Id}:2` }))
    expect(sub.Status).toBe('FINISHED')
    expect(sub.QueryString).toContain("'bob'")

    const q = await run(
      `SELECT driver_id, name, rating, active, trips, event_ts, created,
              DATEADD(day, 1, event_ts) AS next_day, NVL(name, 'unknown') AS label
         FROM driver_stats WHERE driver_id >= :min_id AND (name = :name OR name IS NULL)
        ORDER BY driver_id`,
      [
        { name: 'min_id', value: '1' },
        { name: 'name', value: 'bob' },
      ],
    )
    expect(q.Status).toBe('FINISHED')
    expect(q.QueryParameters).toEqual([
      { name: 'min_id', value: '1' },
      { name: 'name', value: 'bob' },
    ])
    const { rows, types } = await records(q.Id!)
    expect(types).toEqual([
      'int8',
      'varchar',
      'float8',
      'bool',
      'numeric',
      'timestamp',
      'timestamptz',
      'timestamp',
      'varchar',
    ])
    expect(rows).toEqual([
      [
        { longValue: 2 },
        { stringValue: 'bob' },
        { doubleValue: 3.25 },
        { booleanValue: false },
        { stringValue: '3.00' },
        { stringValue: '2024-01-02 11:30:00' },
        { stringValue: '2024-01-02 11:30:00+00' },
        { stringValue: '2024-01-03 11:30:00' },
        { stringValue: 'bob' },
      ],
      [
        { longValue: 3 },
        { isNull: true },
        { isNull: true },
        { isNull: true },
        { isNull: true },
        { isNull: true },
        { isNull: true },
        { isNull: true },
        { stringValue: 'unknown' },
      ],
    ])
  })

  it('pages through 100k rows with NextToken', async () => {
    const d = await run(
      "SELECT g AS n, g * 0.5::float8 AS half, 'row-' || g AS label FROM generate_series(1, 100000) AS g ORDER BY g",
    )
    expect(d.Status).toBe('FINISHED')
    expect(d.ResultRows).toBe(100_000)
    expect(d.ResultSize).toBeGreaterThan(0)
    const { rows, pages } = await records(d.Id!)
    expect(pages).toBeGreaterThan(1)
    expect(rows).toHaveLength(100_000)
    expect(rows[0]).toEqual([{ longValue: 1 }, { doubleValue: 0.5 }, { stringValue: 'row-1' }])
    expect(rows[99_999]).toEqual([
      { longValue: 100_000 },
      { doubleValue: 50_000 },
      { stringValue: 'row-100000' },
    ])
    const sum = rows.reduce((acc, r) => acc + (r[0] as { longValue: number }).longValue, 0)
    expect(sum).toBe((100_000 * 100_001) / 2)
  }, 30_000)

  it('fails bad SQL and unknown tables with the database message', async () => {
    const syntax = await run('SELEC 1')
    expect(syntax.Status).toBe('FAILED')
    expect(syntax.Error).toMatch(/^ERROR: syntax error at or near "1"/)

    const missing = await run('SELECT * FROM no_such_table')
    expect(missing.Status).toBe('FAILED')
    expect(missing.Error).toBe('ERROR: relation "no_such_table" does not exist')

    const pgOnly = await run('SELECT DISTINCT ON (driver_id) driver_id FROM driver_stats')
    expect(pgOnly.Status).toBe('FAILED')
    expect(pgOnly.Error).toMatch(/DISTINCT ON is not supported by Redshift/)
    await expect(
      client.send(new GetStatementResultCommand({ Id: missing.Id })),
    ).rejects.toBeInstanceOf(ValidationException)
  })

  it('rolls back a failing batch and reports which statement failed', async () => {
    const d = await batch([
      "INSERT INTO driver_stats (driver_id, name) VALUES (99, 'ghost')",
      'INSERT INTO no_such_table VALUES (1)',
      'SELECT 1',
    ])
    expect(d.Status).toBe('FAILED')
    expect(d.Error).toBe('Query #2 failed with ERROR: relation "no_such_table" does not exist')
    expect(d.SubStatements?.map((s) => s.Status)).toEqual(['FINISHED', 'FAILED', 'ABORTED'])
    const check = await run('SELECT COUNT(*) AS n FROM driver_stats WHERE driver_id = 99')
    expect((await records(check.Id!)).rows).toEqual([[{ longValue: 0 }]])
  })

  it('reports unknown statement ids and malformed requests in the client error types', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000'
    const err = await client.send(new DescribeStatementCommand({ Id: unknown })).catch((e) => e)
    expect(err).toBeInstanceOf(ResourceNotFoundException)
    expect((err as ResourceNotFoundException).ResourceId).toBe(unknown)
    await expect(
      client.send(new GetStatementResultCommand({ Id: unknown })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException)
    await expect(
      client.send(new ExecuteStatementCommand({ Sql: 'SELECT 1', Database: 'dev' })),
    ).rejects.toBeInstanceOf(ValidationException)
    await expect(
      client.send(new ExecuteStatementCommand({ ...target, Sql: 'SELECT :x' })),
    ).rejects.toThrow(/parameter :x/)
  })

  it('lists and describes tables from the catalog', async () => {
    const tables = await client.send(new ListTablesCommand({ ...target, TablePattern: 'driver%' }))
    expect(tables.Tables).toEqual([{ name: 'driver_stats', schema: 'public', type: 'TABLE' }])
    const described = await client.send(
      new DescribeTableCommand({ ...target, Schema: 'public', Table: 'driver_stats' }),
    )
    expect(described.TableName).toBe('driver_stats')
    expect(described.ColumnList?.map((c) => [c.name, c.typeName, c.nullable])).toEqual([
      ['driver_id', 'int8', 0],
      ['name', 'varchar', 1],
      ['rating', 'float8', 1],
      ['active', 'bool', 1],
      ['trips', 'numeric', 1],
      ['event_ts', 'timestamp', 1],
      ['created', 'timestamptz', 1],
    ])
    expect(described.ColumnList?.[1]?.length).toBe(64)
    expect(described.ColumnList?.[4]).toMatchObject({ precision: 10, scale: 2 })
  })

  it('accepts serverless targets, names statements and lists them, schemas and databases', async () => {
    const serverless = {
      WorkgroupName: 'larder-wg',
      Database: 'analytics',
      SecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x',
    }
    const out = await client.send(
      new ExecuteStatementCommand({
        ...serverless,
        Sql: 'CREATE SCHEMA features',
        StatementName: 'larder-ddl-1',
        WithEvent: true,
      }),
    )
    expect(out).toMatchObject({ WorkgroupName: 'larder-wg', Database: 'analytics' })
    expect((await wait(out.Id!)).Status).toBe('FINISHED')
    const listed = await client.send(new ListStatementsCommand({ StatementName: 'larder-ddl' }))
    expect(listed.Statements?.map((s) => [s.Id, s.StatementName, s.Status])).toEqual([
      [out.Id, 'larder-ddl-1', 'FINISHED'],
    ])
    const schemas = await client.send(
      new ListSchemasCommand({ ...serverless, SchemaPattern: 'feat%' }),
    )
    expect(schemas.Schemas).toEqual(['features'])
    const databases = await client.send(new ListDatabasesCommand(serverless))
    expect(databases.Databases).toEqual(expect.arrayContaining(['analytics', 'dev']))
  })

  it('cancels a running statement', async () => {
    const { Id } = await client.send(
      new ExecuteStatementCommand({ ...target, Sql: 'SELECT 1 FROM (SELECT pg_sleep(20)) s' }),
    )
    await new Promise((r) => setTimeout(r, 200))
    const c = await client.send(new CancelStatementCommand({ Id }))
    expect(c.Status).toBe(true)
    const d = await wait(Id!)
    expect(d.Status).toBe('ABORTED')
  })

  it('answers a point-in-time join in Redshift dialect', async () => {
    const setup = await batch([
      'CREATE TABLE features (entity_id BIGINT, feature_ts TIMESTAMP, value DOUBLE PRECISION) DISTSTYLE EVEN',
      `INSERT INTO features VALUES
         (1, '2024-01-01 10:00:00', 1.0), (1, '2024-01-04 00:00:00', 2.0),
         (1, '2024-01-06 00:00:00', 3.0), (2, '2024-01-01 00:00:00', 5.0)`,
    ])
    expect(setup.Status).toBe('FINISHED')
    const d = await batch([
      `CREATE TEMP TABLE spine AS
         WITH a AS (SELECT 1 AS entity_id, '2024-01-02 00:00:00'::timestamp AS event_ts),
              b AS (SELECT 1 AS entity_id, '2024-01-05 00:00:00'::timestamp AS event_ts
                    UNION ALL SELECT 2, '2024-01-03 12:00:00'::timestamp
                    UNION ALL SELECT 3, '2024-01-03 00:00:00'::timestamp)
         SELECT * FROM a UNION ALL SELECT * FROM b`,
      `WITH candidates AS (
         SELECT s.entity_id, s.event_ts, f.value, f.feature_ts,
                ROW_NUMBER() OVER (PARTITION BY s.entity_id, s.event_ts ORDER BY f.feature_ts DESC) AS rn
           FROM spine s
           LEFT JOIN features f
             ON f.entity_id = s.entity_id
            AND f.feature_ts <= s.event_ts
            AND f.feature_ts > DATEADD(hour, -48, s.event_ts)
            AND f.feature_ts > s.event_ts - INTERVAL '30 days'
       )
       SELECT entity_id, event_ts, value, NVL(DATEDIFF(hour, feature_ts, event_ts), -1) AS age_hours
         FROM candidates WHERE rn = 1 ORDER BY entity_id, event_ts`,
    ])
    expect(d.Status).toBe('FINISHED')
    const { rows, types } = await records(`${d.Id}:2`)
    expect(types).toEqual(['int4', 'timestamp', 'float8', 'int8'])
    expect(rows).toEqual([
      [
        { longValue: 1 },
        { stringValue: '2024-01-02 00:00:00' },
        { doubleValue: 1 },
        { longValue: 14 },
      ],
      [
        { longValue: 1 },
        { stringValue: '2024-01-05 00:00:00' },
        { doubleValue: 2 },
        { longValue: 24 },
      ],
      [
        { longValue: 2 },
        { stringValue: '2024-01-03 12:00:00' },
        { isNull: true },
        { longValue: -1 },
      ],
      [
        { longValue: 3 },
        { stringValue: '2024-01-03 00:00:00' },
        { isNull: true },
        { longValue: -1 },
      ],
    ])
    // The temp table lived only in that batch's session, as on the Data API without sessions.
    const gone = await run('SELECT * FROM spine')
    expect(gone.Status).toBe('FAILED')
  })

  it('uses its own database and drops it on close', async () => {
    const other = await startRedshiftEmulator({
      postgresUrl: postgres.available ? postgres.url : '',
    })
    expect(other.database).not.toBe(emulator.database)
    await other.close()
    const admin = new pg.Client({ connectionString: postgres.available ? postgres.url : '' })
    await admin.connect()
    try {
      const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [other.database])
      expect(r.rowCount).toBe(0)
    } finally {
      await admin.end()
    }
  }, 20_000)
})
