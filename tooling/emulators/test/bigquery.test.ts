import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { BigQueryEmulator } from '../src/bigquery/index.js'
import { startBigQueryEmulator } from '../src/bigquery/index.js'
import { recordOutboundConnections } from '../src/warehouse/loopback-guard.js'

// Every TCP connection the client makes during these tests must go to loopback.
const connections = recordOutboundConnections()

// Never let the client look for GCE metadata (169.254.169.254) or real credentials.
process.env.METADATA_SERVER_DETECTION = 'none'
process.env.GOOGLE_CLOUD_PROJECT = 'larder-test'

const { BigQuery } = await import('@google-cloud/bigquery')
type Client = InstanceType<typeof BigQuery>

/**
 * A static-token auth client: the client's multipart upload path (table.load) crashes inside
 * teeny-request when no auth headers exist at all, so the tests hand it a fixed bearer token
 * (the emulator ignores it). Nothing is fetched from Google.
 */
const staticToken = {
  getRequestHeaders: async () => new Headers({ authorization: 'Bearer emulator' }),
  getAccessToken: async () => ({ token: 'emulator' }),
} as never

let emulator: BigQueryEmulator
let bq: Client
let dir: string

beforeAll(async () => {
  emulator = await startBigQueryEmulator({ projectId: 'larder-test' })
  bq = new BigQuery({
    projectId: 'larder-test',
    apiEndpoint: emulator.url,
    authClient: staticToken,
  })
  dir = await mkdtemp(join(tmpdir(), 'larder-bq-test-'))
})

afterAll(async () => {
  connections.restore()
  expect(connections.hosts.length).toBeGreaterThan(0)
  expect(connections.nonLoopback()).toEqual([])
  await emulator?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('BigQuery emulator with the official client', () => {
  test('datasets and tables: create, get, delete', async () => {
    const [dataset] = await bq.createDataset('catalog')
    expect(dataset.id).toBe('catalog')
    const [exists] = await bq.dataset('catalog').exists()
    expect(exists).toBe(true)
    const [missing] = await bq.dataset('nope').exists()
    expect(missing).toBe(false)
    await expect(bq.createDataset('catalog')).rejects.toMatchObject({ code: 409 })

    const [table] = await bq.dataset('catalog').createTable('users', {
      schema: 'user_id:INTEGER,name:STRING,signup:TIMESTAMP,score:FLOAT',
    })
    const [meta] = await table.getMetadata()
    expect(
      meta.schema.fields.map((f: { name: string; type: string }) => `${f.name}:${f.type}`),
    ).toEqual(['user_id:INTEGER', 'name:STRING', 'signup:TIMESTAMP', 'score:FLOAT'])
    await table.delete()
    const [gone] = await table.exists()
    expect(gone).toBe(false)
  })

  test('load jobs from CSV and JSON files, streaming inserts, typed parameterized query', async () => {
    await bq.createDataset('fs')
    const table = bq.dataset('fs').table('driver_stats')
    const csv = join(dir, 'stats.csv')
    await writeFile(
      csv,
      'driver_id,event_ts,conv_rate\n1,2024-01-01 00:00:00 UTC,0.5\n2,2024-01-01 01:00:00 UTC,0.25\n',
    )
    const [loadJob] = await table.load(csv, {
      sourceFormat: 'CSV',
      skipLeadingRows: 1,
      schema: {
        fields: [
          { name: 'driver_id', type: 'INTEGER' },
          { name: 'event_ts', type: 'TIMESTAMP' },
          { name: 'conv_rate', type: 'FLOAT' },
        ],
      },
    })
    expect(loadJob.status?.state).toBe('DONE')
    expect(loadJob.statistics?.load?.outputRows).toBe('2')

    const ndjson = join(dir, 'more.json')
    await writeFile(
      ndjson,
      '{"driver_id": 3, "event_ts": "2024-01-02T00:00:00Z", "conv_rate": 0.75}\n{"driver_id": 1, "event_ts": "2024-01-03T00:00:00Z", "conv_rate": 0.9}\n',
    )
    await table.load(ndjson, { sourceFormat: 'NEWLINE_DELIMITED_JSON' })

    await table.insert([
      { driver_id: 4, event_ts: new Date('2024-01-04T00:00:00Z'), conv_rate: 0.1 },
    ])
    await expect(table.insert([{ driver_id: 5, bogus: 1 }])).rejects.toMatchObject({
      name: 'PartialFailureError',
    })

    const [rows] = await bq.query({
      query:
        'SELECT driver_id, event_ts, conv_rate FROM `larder-test.fs.driver_stats` WHERE driver_id = @id AND event_ts >= @since ORDER BY event_ts',
      params: { id: 1, since: bq.timestamp('2023-12-31T00:00:00Z') },
    })
    expect(rows).toHaveLength(2)
    expect(rows[0].driver_id).toBe(1)
    expect(rows[0].event_ts.value).toBe('2024-01-01T00:00:00.000Z')
    expect(rows[1].conv_rate).toBe(0.9)

    const [positional] = await bq.query({
      query: 'SELECT COUNT(*) AS n FROM fs.driver_stats WHERE driver_id IN UNNEST(?)',
      params: [[1, 2, 4]],
    })
    expect(positional).toEqual([{ n: 4 }])

    // The API's float-seconds timestamps when useInt64Timestamp is false (this client always asks for
    // int64 micros in getQueryResults, so read the raw REST response).
    const [job] = await bq.createQueryJob({
      query: 'SELECT MAX(event_ts) AS t FROM fs.driver_stats',
    })
    const [maxRows] = await job.getQueryResults()
    expect(maxRows[0].t.value).toBe('2024-01-04T00:00:00.000Z')
    const raw = await fetch(
      `${emulator.url}/bigquery/v2/projects/larder-test/queries/${job.id}?formatOptions.useInt64Timestamp=false`,
    )
    const body = (await raw.json()) as { rows: Array<{ f: Array<{ v: string }> }> }
    expect(body.rows[0]?.f[0]?.v).toBe('1.7043264E9')
    const [jobMeta] = await job.getMetadata()
    expect(jobMeta.status.state).toBe('DONE')
  })

  test('load job from a Parquet file, then tabledata.list via table.getRows', async () => {
    const parquet = join(dir, 'ratings.parquet')
    await emulator.query(
      `COPY (SELECT range AS driver_id, CAST(range * 0.5 AS DOUBLE) AS rating FROM range(5)) TO '${parquet}' (FORMAT PARQUET)`,
    )
    const table = bq.dataset('fs').table('ratings')
    const [job] = await table.load(parquet, { sourceFormat: 'PARQUET' })
    expect(job.statistics?.load?.outputRows).toBe('5')
    const [rows] = await table.getRows()
    expect(rows).toHaveLength(5)
    expect(rows.find((r: { driver_id: number }) => r.driver_id === 4)).toEqual({
      driver_id: 4,
      rating: 2,
    })
  })

  test('pages through a 150k-row result', async () => {
    await emulator.query('CREATE SCHEMA big')
    await emulator.query(
      'CREATE TABLE big.numbers AS SELECT range AS n, range % 7 AS k FROM range(150000)',
    )
    const [job] = await bq.createQueryJob({ query: 'SELECT n, k FROM big.numbers ORDER BY n' })
    const [page, next, response] = await job.getQueryResults({
      autoPaginate: false,
      maxResults: 40000,
    })
    expect(page).toHaveLength(40000)
    expect(response?.totalRows).toBe('150000')
    expect(next?.pageToken).toBeTruthy()
    const [rest] = await job.getQueryResults({
      autoPaginate: false,
      maxResults: 40000,
      pageToken: next?.pageToken,
    })
    expect(rest[0]).toEqual({ n: 40000, k: 40000 % 7 })
    const [all] = await job.getQueryResults()
    expect(all).toHaveLength(150000)
    expect(all[149999]).toEqual({ n: 149999, k: 149999 % 7 })
    // jobs.query path with default page size and autopagination.
    const [viaQuery] = await bq.query('SELECT n FROM big.numbers WHERE k = 0')
    expect(viaQuery).toHaveLength(Math.ceil(150000 / 7))
  }, 60_000) // 150k rows through the official client: seconds, more on a loaded machine

  test('errors arrive as ApiError with BigQuery messages', async () => {
    await expect(bq.query('SELEC 1')).rejects.toMatchObject({
      code: 400,
      message: expect.stringContaining('Syntax error'),
    })
    await expect(bq.query('SELECT * FROM fs.does_not_exist')).rejects.toMatchObject({
      code: 404,
      message: expect.stringContaining('Not found: Table'),
    })
    await expect(bq.query('SELECT * FROM unqualified')).rejects.toMatchObject({
      code: 400,
      message: expect.stringContaining('must be qualified with a dataset'),
    })
    await expect(bq.query('SELECT list_value(1)')).rejects.toMatchObject({
      message: expect.stringContaining('Function not found: list_value'),
    })
    await expect(bq.query('SELECT 1::INT64')).rejects.toMatchObject({ code: 400 })
    const [job] = await bq
      .createQueryJob({ query: 'SELECT nope FROM fs.driver_stats' })
      .catch((e) => [e])
    expect(job).toMatchObject({ message: expect.stringContaining('Unrecognized name: nope') })
  })

  test('point-in-time join: CTEs + UNION ALL + ROW_NUMBER window + interval range join', async () => {
    await emulator.query(`CREATE SCHEMA pit;
      CREATE TABLE pit.features (driver_id BIGINT, event_ts TIMESTAMPTZ, rating DOUBLE);
      INSERT INTO pit.features VALUES
        (1, '2024-01-01 00:00:00+00', 1.0), (1, '2024-01-01 10:00:00+00', 2.0),
        (1, '2024-01-02 00:00:00+00', 3.0), (2, '2024-01-01 00:00:00+00', 9.0);
      CREATE TABLE pit.entities (driver_id BIGINT, ts TIMESTAMPTZ);
      INSERT INTO pit.entities VALUES (1, '2024-01-01 12:00:00+00'), (2, '2024-01-03 00:00:00+00'), (3, '2024-01-01 00:00:00+00')`)
    const sql = `
      WITH entity_df AS (
        SELECT driver_id, ts AS entity_ts, ROW_NUMBER() OVER (ORDER BY driver_id) AS row_id
        FROM \`larder-test.pit.entities\`
      ),
      feature_rows AS (
        SELECT driver_id, event_ts, rating, 0 AS src FROM pit.features
        UNION ALL
        SELECT driver_id, event_ts, rating, 1 AS src FROM pit.features WHERE FALSE
      ),
      joined AS (
        SELECT e.row_id, e.driver_id, e.entity_ts, f.rating, f.event_ts,
          ROW_NUMBER() OVER (PARTITION BY e.row_id ORDER BY f.event_ts DESC) AS rn
        FROM entity_df e
        LEFT JOIN feature_rows f
          ON f.driver_id = e.driver_id
          AND f.event_ts <= e.entity_ts
          AND f.event_ts > TIMESTAMP_SUB(e.entity_ts, INTERVAL @ttl_hours HOUR)
      )
      SELECT driver_id, entity_ts, rating FROM joined WHERE rn = 1 ORDER BY driver_id`
    const [rows] = await bq.query({ query: sql, params: { ttl_hours: 24 } })
    expect(
      rows.map((r: { driver_id: number; rating: number | null }) => [r.driver_id, r.rating]),
    ).toEqual([
      [1, 2.0],
      [2, null], // latest feature is 48h old: outside the 24h TTL
      [3, null],
    ])
    expect(rows[0].entity_ts.value).toBe('2024-01-01T12:00:00.000Z')
    const [qualified] = await bq.query(
      'SELECT driver_id, rating FROM pit.features QUALIFY ROW_NUMBER() OVER (PARTITION BY driver_id ORDER BY event_ts DESC) = 1 ORDER BY driver_id',
    )
    expect(qualified).toEqual([
      { driver_id: 1, rating: 3 },
      { driver_id: 2, rating: 9 },
    ])
  })
})

describe('long-running jobs (holdQueries) and jobs.cancel', () => {
  test('a held job is RUNNING until released; a cancelled one ends with stopped', async () => {
    const heldIds: string[] = []
    emulator.holdQueries((id, sql) => {
      if (!sql.includes('held_marker')) return false
      heldIds.push(id)
      return true
    })
    try {
      const [first] = await bq.createQueryJob({ query: 'SELECT 1 AS held_marker' })
      const [, , pending] = await first
        .getQueryResults({ autoPaginate: false, timeoutMs: 10 })
        .catch((e) => [undefined, undefined, e])
      expect(String(pending)).toContain('did not complete')
      emulator.release(heldIds[0] as string)
      const [rows] = await first.getQueryResults()
      expect(rows).toEqual([{ held_marker: 1 }])

      const [second] = await bq.createQueryJob({ query: 'SELECT 2 AS held_marker' })
      const [running] = await second.getMetadata()
      expect(running.status.state).toBe('RUNNING')
      await second.cancel()
      const [done] = await second.getMetadata()
      expect(done.status).toMatchObject({ state: 'DONE', errorResult: { reason: 'stopped' } })
      await expect(second.getQueryResults()).rejects.toThrow('Job execution was cancelled')
    } finally {
      emulator.holdQueries(undefined)
    }
  })
})
