// Drives the built `larder` executable as a user would, on repos in temp folders outside
// the monorepo: exit codes, one-line errors, and the files and output each command makes.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, test } from 'vitest'

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

function larder(args: string[], cwd = tmpdir()) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, INIT_CWD: cwd },
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

function expectOneLineError(r: ReturnType<typeof larder>, pattern: RegExp) {
  expect(r.code).not.toBe(0)
  const lines = r.err.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^error: /)
  expect(lines[0]).toMatch(pattern)
}

const tmp = () => mkdtempSync(join(tmpdir(), 'larder-cli-'))

describe('larder init / plan / apply', () => {
  let repo: string
  beforeAll(() => {
    repo = join(tmp(), 'demo')
    const r = larder(['init', repo])
    expect(r.code).toBe(0)
  })

  test("init writes a runnable repo with today's data", () => {
    for (const f of ['larder.config.ts', 'features.ts', 'data/driver_stats.parquet', 'README.md']) {
      expect(existsSync(join(repo, f))).toBe(true)
    }
    expectOneLineError(larder(['init', repo]), /exists and is not empty.*--force/)
  })

  test('plan lists what apply creates; apply; then no changes; a type edit shows an Updated line', () => {
    const plan = larder(['-c', repo, 'plan'])
    expect(plan.code).toBe(0)
    expect(plan.out).toContain('Created entity driver')
    expect(plan.out).toContain('Created feature view driver_hourly_stats')
    const apply = larder(['-c', repo, 'apply'])
    expect(apply.code).toBe(0)
    expect(apply.out).toContain('Registry version 1 written')
    expect(larder(['-c', repo, 'plan']).out.trim()).toBe('No changes to registry')

    const features = join(repo, 'features.ts')
    const original = readFileSync(features, 'utf8')
    writeFileSync(
      features,
      original.replace(
        'schema: { conv_rate: t.float32, acc_rate: t.float32, avg_daily_trips: t.int64 },\n  source: driverStatsSource,',
        'schema: { conv_rate: t.float64, acc_rate: t.float32, avg_daily_trips: t.int64 },\n  source: driverStatsSource,',
      ),
    )
    try {
      const edited = larder(['-c', repo, 'plan'])
      expect(edited.code).toBe(0)
      expect(edited.out).toContain(
        'Updated feature view driver_hourly_stats\n  features.conv_rate.valueType: float32 -> float64',
      )
    } finally {
      writeFileSync(features, original)
    }
  })

  test('list and registry-dump read the registry', () => {
    const list = larder(['-c', repo, 'list', 'views'])
    expect(list.code).toBe(0)
    expect(list.out).toMatch(
      /driver_hourly_stats\s+featureView\s+driver\s+conv_rate,acc_rate,avg_daily_trips\s+86400\s+true/,
    )
    const dump = JSON.parse(larder(['-c', repo, 'registry-dump']).out)
    expect(dump.project).toBe('quickstart')
    expect(dump.featureServices[0].name).toBe('driver_activity')
    expectOneLineError(larder(['-c', repo, 'list', 'tables']), /cannot list 'tables'/)
  })

  test('materialize, online and historical reads', () => {
    const mat = larder(['-c', repo, 'materialize-incremental', 'now'])
    expect(mat.code).toBe(0)
    expect(mat.out).toMatch(/Materialized 2 view\(s\), 10 row\(s\) written/)
    expect(mat.err).toMatch(/driver_hourly_stats .* rows read/)
    const online = larder([
      '-c',
      repo,
      'get-online-features',
      '--entities',
      '{"driver_id":[1001,9999]}',
      '--features',
      'driver_hourly_stats:avg_daily_trips',
    ])
    expect(online.code).toBe(0)
    const json = JSON.parse(online.out)
    expect(json.metadata.feature_names).toEqual(['driver_id', 'avg_daily_trips'])
    expect(json.results[1].statuses).toEqual(['PRESENT', 'NOT_FOUND'])
    expect(typeof json.results[1].values[0]).toBe('number')

    const dir = tmp()
    writeFileSync(
      join(dir, 'labels.csv'),
      'driver_id,event_timestamp\n1001,2020-01-01T00:00:00Z\n1002,2999-01-01T00:00:00Z\n',
    )
    const out = join(dir, 'train.csv')
    const hist = larder(
      [
        '-c',
        repo,
        'get-historical-features',
        '--entity-df',
        'labels.csv',
        '--features',
        'driver_hourly_stats:conv_rate',
        '--output',
        'train.csv',
      ],
      dir,
    )
    expect(hist.code).toBe(0)
    expect(hist.out).toContain('Wrote 2 rows x 3 columns')
    const lines = readFileSync(out, 'utf8').trim().split('\n')
    expect(lines[0]).toBe('driver_id,event_timestamp,conv_rate')
    // 2020 is before any data: null; 2999 is far past the 1-day TTL: null too.
    expect(lines[1]).toBe('1001,2020-01-01T00:00:00.000000Z,')
    expect(lines[2]).toBe('1002,2999-01-01T00:00:00.000000Z,')
    const parquet = larder(
      [
        '-c',
        repo,
        'get-historical-features',
        '--entity-df',
        'labels.csv',
        '--feature-service',
        'driver_activity',
        '--output',
        'train.parquet',
      ],
      dir,
    )
    expect(parquet.code).not.toBe(0) // the service has an on-demand view needing val_to_add
    expect(parquet.err).toMatch(/no column 'val_to_add'/)
  })

  test('bad input: one clear line and a non-zero exit', () => {
    const dir = tmp()
    expectOneLineError(
      larder(['-c', join(dir, 'missing'), 'plan']),
      /repo folder .*missing does not exist/,
    )
    expectOneLineError(larder(['-c', dir, 'plan']), /no larder.config.ts in/)
    expectOneLineError(
      larder(['-c', repo, 'materialize', 'yesterday', 'now']),
      /start 'yesterday' is not an ISO-8601 time/,
    )
    expectOneLineError(
      larder(['-c', repo, 'materialize', '2026-01-02', '2026-01-01']),
      /is after end/,
    )
    expectOneLineError(
      larder(['-c', repo, 'materialize', '2026-01-01', 'now', '--views', 'ghost']),
      /feature view 'ghost' is not registered/,
    )
    expectOneLineError(
      larder([
        '-c',
        repo,
        'get-online-features',
        '--entities',
        '{"driver_id":[1]}',
        '--features',
        'driver_hourly_stats:ghost',
      ]),
      /feature 'driver_hourly_stats:ghost' does not exist/,
    )
    expectOneLineError(
      larder([
        '-c',
        repo,
        'get-online-features',
        '--entities',
        '{oops',
        '--features',
        'driver_hourly_stats:conv_rate',
      ]),
      /--entities is not valid JSON/,
    )
    expectOneLineError(
      larder([
        '-c',
        repo,
        'get-online-features',
        '--entities',
        '{"driver_id":[1]}',
        '--feature-service',
        'ghost',
      ]),
      /feature service 'ghost' is not registered/,
    )
    writeFileSync(join(dir, 'nokey.csv'), 'rider_id,event_timestamp\n1,2026-01-01T00:00:00Z\n')
    expectOneLineError(
      larder(
        [
          '-c',
          repo,
          'get-historical-features',
          '--entity-df',
          'nokey.csv',
          '--features',
          'driver_hourly_stats:conv_rate',
          '--output',
          'o.csv',
        ],
        dir,
      ),
      /driver_id/,
    )
    writeFileSync(join(dir, 'nots.csv'), 'driver_id,label\n1001,1\n')
    expectOneLineError(
      larder(
        [
          '-c',
          repo,
          'get-historical-features',
          '--entity-df',
          'nots.csv',
          '--features',
          'driver_hourly_stats:conv_rate',
          '--output',
          'o.csv',
        ],
        dir,
      ),
      /timestamp/,
    )
    writeFileSync(join(dir, 'garbage.parquet'), 'this is not parquet')
    expectOneLineError(
      larder(
        [
          '-c',
          repo,
          'get-historical-features',
          '--entity-df',
          'garbage.parquet',
          '--features',
          'driver_hourly_stats:conv_rate',
          '--output',
          'o.csv',
        ],
        dir,
      ),
      /garbage.parquet/,
    )
    expectOneLineError(
      larder(
        [
          '-c',
          repo,
          'get-historical-features',
          '--entity-df',
          'absent.parquet',
          '--features',
          'driver_hourly_stats:conv_rate',
          '--output',
          'o.csv',
        ],
        dir,
      ),
      /absent.parquet/,
    )
  })

  test('a source file that does not exist fails apply, naming the file', () => {
    const other = join(tmp(), 'repo')
    expect(larder(['init', other]).code).toBe(0)
    const features = join(other, 'features.ts')
    writeFileSync(
      features,
      readFileSync(features, 'utf8').replace(
        "path: 'data/driver_stats.parquet'",
        "path: 'data/nope.parquet'",
      ),
    )
    expectOneLineError(larder(['-c', other, 'apply']), /nope\.parquet/)
    expect(existsSync(join(other, 'data', 'registry.json'))).toBe(false)
    // --skip-source-validation registers anyway.
    expect(larder(['-c', other, 'apply', '--skip-source-validation']).code).toBe(0)
  })

  test('a definition error names the file', () => {
    const other = join(tmp(), 'repo')
    expect(larder(['init', other]).code).toBe(0)
    writeFileSync(
      join(other, 'more.ts'),
      "import { entity } from '@larder/core'\nexport const dup = entity({ name: 'driver', joinKeys: ['id'] })\n",
    )
    expectOneLineError(
      larder(['-c', other, 'plan']),
      /duplicate name 'driver': entity at features.ts#driver and entity at more.ts#dup/,
    )
  })

  test('--help works for every command', () => {
    const help = larder(['--help'])
    expect(help.code).toBe(0)
    for (const c of [
      'init',
      'plan',
      'apply',
      'teardown',
      'materialize',
      'materialize-incremental',
      'get-historical-features',
      'get-online-features',
      'registry-dump',
      'list',
    ]) {
      expect(help.out).toContain(c)
      expect(larder([c, '--help']).code).toBe(0)
    }
  })

  test('teardown removes the registry and online tables', () => {
    const other = join(tmp(), 'repo')
    expect(larder(['init', other]).code).toBe(0)
    expect(larder(['-c', other, 'apply']).code).toBe(0)
    const r = larder(['-c', other, 'teardown'])
    expect(r.code).toBe(0)
    expect(existsSync(join(other, 'data', 'registry.json'))).toBe(false)
    expect(larder(['-c', other, 'plan']).out).toContain('Created feature view driver_hourly_stats')
  })
})
