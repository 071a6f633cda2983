// The quickstart repo with its registry shared between machines: on the local PostgreSQL and
// on the S3 stand-in, each by changing the config's one `registry:` line; then
// `larder registry-copy` moves a registry between a file, PostgreSQL and S3.
import { spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type S3Emulator, startS3Emulator } from '@larder/emulators'
import { findPostgres } from '@larder/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const postgres = await findPostgres()
const table = `larder_registry_cli_${randomUUID().slice(0, 8)}`
let s3: S3Emulator

beforeAll(async () => {
  s3 = await startS3Emulator({ buckets: ['larder'] })
})
afterAll(async () => {
  await s3.close()
  if (postgres.available) {
    const client = new pg.Client({ connectionString: postgres.url })
    await client.connect()
    await client.query(`DROP TABLE IF EXISTS ${table}`)
    await client.end()
  }
})

/** Runs the CLI without blocking this process (the S3 stand-in serves from it). */
function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c
    })
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c
    })
    child.on('exit', (code) => resolve({ status: code ?? 1, stdout, stderr }))
  })
}

/** A fresh quickstart repo whose config's `registry:` line (only it) is replaced. */
function repoWithRegistry(registry: string): string {
  const repo = join(mkdtempSync(join(tmpdir(), 'larder-shared-registry-')), 'repo')
  expect(spawnSync(process.execPath, [BIN, 'init', repo], { encoding: 'utf8' }).status).toBe(0)
  const configPath = join(repo, 'larder.config.ts')
  const before = readFileSync(configPath, 'utf8').split('\n')
  const at = before.findIndex((l) => l.trim().startsWith('registry:'))
  expect(at).toBeGreaterThan(0)
  const after = [...before]
  after[at] = `  registry: '${registry}',`
  writeFileSync(configPath, after.join('\n'))
  expect(after.filter((l, i) => l !== before[i])).toHaveLength(1)
  return repo
}

async function quickstartSteps(repo: string): Promise<void> {
  const apply = await cli(['-c', repo, 'apply'])
  expect(apply.stderr).toBe('')
  expect(apply.status).toBe(0)
  const mat = await cli(['-c', repo, 'materialize-incremental', 'now'])
  expect(mat.status).toBe(0)
  expect(mat.stdout).toContain('10 row(s) written')
  const online = await cli([
    '-c',
    repo,
    'get-online-features',
    '--entities',
    '{"driver_id":[1002,9999]}',
    '--features',
    'driver_hourly_stats:avg_daily_trips',
  ])
  expect(online.status).toBe(0)
  const json = JSON.parse(online.stdout) as { results: Array<{ statuses: string[] }> }
  expect(json.results[1]?.statuses).toEqual(['PRESENT', 'NOT_FOUND'])
  // The registry is not a local file: nothing was written beside the repo's data.
  expect(existsSync(join(repo, 'data', 'registry.json'))).toBe(false)
  const dump = await cli(['-c', repo, 'registry-dump'])
  const data = JSON.parse(dump.stdout) as { version: number; materializations: object }
  expect(data.version).toBeGreaterThanOrEqual(2) // apply, then the materialization interval
  expect(Object.keys(data.materializations)).toContain('driver_hourly_stats')
}

describe.skipIf(!postgres.available)('the quickstart repo with a shared registry', () => {
  const pgUrl = () => (postgres.available ? `${postgres.url}?table=${table}` : '')

  test('on PostgreSQL: one changed line', async () => {
    await quickstartSteps(repoWithRegistry(pgUrl()))
  }, 60_000)

  test('on S3 (the stand-in): one changed line', async () => {
    await quickstartSteps(repoWithRegistry(`s3://larder/qs/registry.json?endpoint=${s3.endpoint}`))
  }, 60_000)

  test('registry-copy moves a registry from a file to PostgreSQL and S3, and refuses to clobber', async () => {
    const repo = repoWithRegistry('data/local-registry.json')
    expect((await cli(['-c', repo, 'apply'])).status).toBe(0)
    const file = join(repo, 'data', 'local-registry.json')
    const project = `copy_${randomUUID().slice(0, 8)}`
    const original = JSON.parse(readFileSync(file, 'utf8')) as { project: string }
    const toPg = `${postgres.available ? postgres.url : ''}?table=${table}&project=${project}`
    const copied = await cli(['registry-copy', file, toPg])
    expect(copied.stderr).toBe('')
    expect(copied.stdout).toContain(`Copied registry of project '${original.project}' (version 1)`)
    expect(copied.stdout).not.toContain('?table=')
    const toS3 = `s3://larder/copy/${project}.json?endpoint=${s3.endpoint}`
    expect((await cli(['registry-copy', toPg, toS3])).status).toBe(0)
    const again = await cli(['registry-copy', file, toS3])
    expect(again.status).not.toBe(0)
    expect(again.stderr).toContain('already holds a registry')
    expect((await cli(['registry-copy', file, toS3, '--overwrite'])).status).toBe(0)
    const back = join(repo, 'data', 'copied.json')
    expect((await cli(['registry-copy', toS3, back])).status).toBe(0)
    expect(readFileSync(back, 'utf8')).toBe(readFileSync(file, 'utf8'))
    const missing = await cli(['registry-copy', join(repo, 'nothing.json'), back])
    expect(missing.status).not.toBe(0)
    expect(missing.stderr).toContain('there is no registry at')
  }, 60_000)
})
