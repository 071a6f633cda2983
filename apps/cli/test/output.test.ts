// What the CLI tells the user about its work: the window each view was materialized over,
// that a view had nothing new, and the option an error refers to.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, expect, test } from 'vitest'

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'larder-output-'))
const repo = join(dir, 'repo')
const larder = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BIN, '-c', repo, ...args], {
    encoding: 'utf8',
    cwd: dir,
    env: { ...process.env, INIT_CWD: dir },
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}
const TIME = '\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z'

beforeAll(() => {
  expect(spawnSync(process.execPath, [BIN, 'init', repo], { encoding: 'utf8' }).status).toBe(0)
  expect(larder('apply').code).toBe(0)
})

test('materialize prints each view window, and says when a view had nothing new', () => {
  const first = larder('materialize-incremental', 'now')
  expect(first.code).toBe(0)
  const lines = first.out.trim().split('\n')
  expect(lines).toHaveLength(3)
  expect(lines[0]).toMatch(
    new RegExp(`^driver_hourly_stats +\\[${TIME}, ${TIME}\\]  5 row\\(s\\) read, 5 written$`),
  )
  expect(lines[2]).toBe('Materialized 2 view(s), 10 row(s) written')
  // The second run starts where the first ended.
  const firstEnd = new RegExp(`, (${TIME})\\]`).exec(lines[0]!)![1]!
  const again = larder('materialize-incremental', 'now', '--views', 'driver_hourly_stats')
  expect(again.code).toBe(0)
  expect(again.out.trim().split('\n')[0]).toMatch(
    new RegExp(
      `^driver_hourly_stats  \\[${firstEnd.replaceAll('.', '\\.')}, ${TIME}\\]  nothing new since its last end`,
    ),
  )
  const empty = larder('materialize', '2020-01-01', '2020-01-02', '--views', 'driver_hourly_stats')
  expect(empty.out.trim().split('\n')).toEqual([
    'driver_hourly_stats  [2020-01-01T00:00:00Z, 2020-01-02T00:00:00Z]  no rows with an event time in this window',
    'Materialized 1 view(s), 0 row(s) written',
  ])
})

test('--entity-timestamp-column picks one of several timestamp columns, as the error says', () => {
  writeFileSync(
    join(dir, 'labels.csv'),
    'driver_id,asked_at,label_at\n1001,2020-01-01T10:00:00Z,2020-01-01T11:00:00Z\n',
  )
  const args = [
    'get-historical-features',
    '--entity-df',
    'labels.csv',
    '--features',
    'driver_hourly_stats:conv_rate',
    '--output',
    'out.csv',
  ]
  const ambiguous = larder(...args)
  expect(ambiguous.code).toBe(1)
  expect(ambiguous.err.trim().split('\n')).toHaveLength(1)
  expect(ambiguous.err).toMatch(/several timestamp columns .*--entity-timestamp-column/)
  const named = larder(...args, '--entity-timestamp-column', 'label_at')
  expect(named.err).toBe('')
  expect(named.code).toBe(0)
  expect(readFileSync(join(dir, 'out.csv'), 'utf8').split('\n')[0]).toBe(
    'driver_id,asked_at,label_at,conv_rate',
  )
  const ghost = larder(...args, '--entity-timestamp-column', 'nope')
  expect(ghost.code).toBe(1)
  expect(ghost.err).toMatch(/nope/)
})

test('a second teardown says there was nothing to remove', () => {
  const first = larder('teardown')
  expect(first.code).toBe(0)
  expect(first.out).toMatch(
    /^Removed 2 view\(s\) from the online store and deleted .*registry.json/,
  )
  const second = larder('teardown')
  expect(second.code).toBe(0)
  expect(second.out).toMatch(/^Nothing to remove: there is no registry at .*registry.json/)
})
