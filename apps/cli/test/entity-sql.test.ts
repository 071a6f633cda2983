// get-historical-features with the entity rows as SQL or a table name: refused with a one-line
// error by a store that does not take them (the quickstart's file store), run by one that does
// (the PostgreSQL offline store of @larder/testing, on the local PostgreSQL).
import { spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findPostgres } from '@larder/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const postgres = await findPostgres()

function larder(args: string[], cwd = tmpdir()) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, INIT_CWD: cwd },
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

function oneLineError(r: ReturnType<typeof larder>): string {
  expect(r.code).not.toBe(0)
  const lines = r.err.trim().split('\n')
  expect(lines).toHaveLength(1)
  return lines[0] as string
}

const FEATURES = ['--features', 'driver_hourly_stats:conv_rate', '--output', 'out.csv']

describe('the quickstart (file store)', () => {
  let repo: string
  beforeAll(() => {
    repo = join(mkdtempSync(join(tmpdir(), 'larder-entity-sql-')), 'repo')
    expect(larder(['init', repo]).code).toBe(0)
    expect(larder(['-c', repo, 'apply']).code).toBe(0)
  })

  test('--entity-sql and --entity-table are refused, naming the store and what it accepts', () => {
    for (const [option, label] of [
      ['--entity-sql', 'SQL'],
      ['--entity-table', 'table names'],
    ] as const) {
      const line = oneLineError(
        larder(['-c', repo, 'get-historical-features', option, 'x', ...FEATURES], repo),
      )
      expect(line).toContain(
        `offline store 'file' does not accept entity tables given as ${label}; it accepts rows or Arrow tables, Parquet/CSV files`,
      )
    }
  })

  test('exactly one entity option', () => {
    expect(
      oneLineError(larder(['-c', repo, 'get-historical-features', ...FEATURES], repo)),
    ).toMatch(/needs the entity rows.*--entity-df FILE, --entity-sql QUERY or --entity-table NAME/)
    expect(
      oneLineError(
        larder(
          [
            '-c',
            repo,
            'get-historical-features',
            '--entity-df',
            'a.csv',
            '--entity-sql',
            'SELECT 1',
            ...FEATURES,
          ],
          repo,
        ),
      ),
    ).toMatch(/give only one of --entity-df, --entity-sql/)
  })
})

describe.skipIf(!postgres.available)('a repo on the PostgreSQL offline store', () => {
  const url = postgres.available ? postgres.url : ''
  const schema = `larder_cli_${randomUUID().slice(0, 8)}`
  const client = new pg.Client({ connectionString: url })
  let repo: string
  beforeAll(async () => {
    await client.connect()
    await client.query(`CREATE SCHEMA "${schema}"`)
    await client.query(
      `CREATE TABLE "${schema}".stats (driver_id BIGINT, event_timestamp TIMESTAMPTZ, trips BIGINT)`,
    )
    await client.query(`INSERT INTO "${schema}".stats VALUES
      (1, '2026-01-01 00:00:00+00', 10), (1, '2026-01-01 02:00:00+00', 12), (2, '2026-01-01 01:00:00+00', 20)`)
    await client.query(
      `CREATE TABLE "${schema}".labels (driver_id BIGINT, event_timestamp TIMESTAMPTZ, label INT)`,
    )
    await client.query(`INSERT INTO "${schema}".labels VALUES
      (1, '2026-01-01 01:00:00+00', 0), (1, '2026-01-01 03:00:00+00', 1), (2, '2026-01-01 03:00:00+00', 1)`)
    repo = join(mkdtempSync(join(tmpdir(), 'larder-entity-sql-pg-')), 'repo')
    mkdirSync(join(repo, 'data'), { recursive: true })
    writeFileSync(
      join(repo, 'larder.config.ts'),
      `import { defineConfig } from '@larder/core'
import { sqliteOnlineStore } from '@larder/sqlite'
import { postgresOfflineStore } from '@larder/testing'
export default defineConfig({
  project: 'pg_entities',
  registry: 'data/registry.json',
  offlineStore: postgresOfflineStore({ connectionString: ${JSON.stringify(url)} }),
  onlineStore: sqliteOnlineStore({ path: 'data/online.db' }),
})
`,
    )
    writeFileSync(
      join(repo, 'features.ts'),
      `import { entity, featureView, t } from '@larder/core'
export const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
export const stats = featureView({
  name: 'stats',
  entities: [driver],
  schema: { trips: t.int64 },
  source: { kind: 'postgres', name: 'stats', table: '${schema}.stats', timestampField: 'event_timestamp' },
})
`,
    )
    const apply = larder(['-c', repo, 'apply'], repo)
    expect(apply.err).toBe('')
    expect(apply.code).toBe(0)
  }, 60_000)
  afterAll(async () => {
    await client.query(`DROP SCHEMA "${schema}" CASCADE`)
    await client.end()
  })

  const expected = [
    'driver_id,event_timestamp,label,trips',
    '1,2026-01-01T01:00:00Z,0,10',
    '1,2026-01-01T03:00:00Z,1,12',
    '2,2026-01-01T03:00:00Z,1,20',
  ]

  function csvLines(path: string): string[] {
    // Timestamps as DuckDB's CSV writer prints them, normalized to ISO with Z.
    return readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) =>
        l.replace(/(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(\.0+)?(\+00(:00)?|Z)?/g, '$1T$2Z'),
      )
  }

  test('--entity-table reads the labels where they are', () => {
    const r = larder(
      [
        '-c',
        repo,
        'get-historical-features',
        '--entity-table',
        `${schema}.labels`,
        '--features',
        'stats:trips',
        '--output',
        'table.csv',
      ],
      repo,
    )
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(csvLines(join(repo, 'table.csv'))).toEqual(expected)
  }, 60_000)

  test('--entity-sql runs the query once and keeps its order', () => {
    const r = larder(
      [
        '-c',
        repo,
        'get-historical-features',
        '--entity-sql',
        `SELECT * FROM "${schema}".labels ORDER BY driver_id DESC, event_timestamp`,
        '--features',
        'stats:trips',
        '--output',
        'sql.csv',
      ],
      repo,
    )
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(csvLines(join(repo, 'sql.csv'))).toEqual([
      expected[0],
      expected[3],
      expected[1],
      expected[2],
    ])
  }, 60_000)
})

if (!postgres.available) test.skip(`PostgreSQL unavailable: ${postgres.reason}`, () => {})
