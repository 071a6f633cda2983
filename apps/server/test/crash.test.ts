/**
 * kill -9 in the middle of materialize, apply and push (issue #20): afterwards the registry
 * is valid and records nothing that did not finish, the data files are whole (each write
 * whole or absent), the next run of the same command is correct, and nothing the killed
 * process left (temp files, DuckDB temp folders, the registry lock) survives that next run.
 * The worker is a real Node process over a real repo (Parquet + DuckDB, SQLite).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fileOfflineStore } from '@larder/file'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'

const WORKER = fileURLToPath(new URL('./fixtures/crash-worker.mjs', import.meta.url))
const duck = fileOfflineStore()
let repo: string

async function sql(query: string): Promise<unknown[][]> {
  const connection = await duck.connect()
  try {
    return await (await connection.run(query)).getRows()
  } finally {
    connection.closeSync()
  }
}

beforeAll(async () => {
  repo = mkdtempSync(join(tmpdir(), 'larder-crash-'))
  mkdirSync(join(repo, 'data'))
  // 60,000 rows over 20,000 drivers: materialization takes long enough to be killed in.
  await sql(`COPY (SELECT (i % 20000)::BIGINT AS driver_id,
      TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_seconds(i) AS event_timestamp,
      (i / 1000.0)::DOUBLE AS conv_rate, i::BIGINT AS trips
    FROM range(60000) t(i)) TO '${join(repo, 'data/stats.parquet')}' (FORMAT parquet)`)
  await sql(`COPY (SELECT 0::BIGINT AS driver_id, TIMESTAMPTZ '2025-01-01 00:00:00+00' AS event_timestamp,
      0.0::DOUBLE AS conv_rate, 0::BIGINT AS trips) TO '${join(repo, 'data/pushed.parquet')}' (FORMAT parquet)`)
}, 60_000)

afterAll(async () => {
  await duck.close()
  if (repo) rmSync(repo, { recursive: true, force: true })
})

/** Runs the worker to completion. */
function run(op: string, extra?: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WORKER, repo, op, ...(extra ? [extra] : [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      out += d
    })
    child.on('exit', (code) => resolve({ code, out }))
  })
}

/** Starts the worker and kills it with SIGKILL `delayMs` after it says "go". */
function killMidway(
  op: string,
  delayMs: number,
  extra?: string,
): Promise<{ pid: number; finished: boolean }> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(
      process.execPath,
      [WORKER, repo, op, ...(extra ? [extra] : [])],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
      if (out.includes('go\n') && !child.killed) {
        setTimeout(() => child.kill('SIGKILL'), delayMs)
      }
    })
    child.on('exit', () => resolve({ pid: child.pid!, finished: out.includes('done') }))
  })
}

const registry = () =>
  JSON.parse(readFileSync(join(repo, 'data/registry.json'), 'utf8')) as {
    version: number
    featureViews: Array<{ name: string }>
    materializations: Record<string, Array<{ start: string; end: string }>>
  }
const leftovers = () =>
  readdirSync(join(repo, 'data')).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))
const duckTemps = (pid: number) =>
  readdirSync(tmpdir()).filter((f) => f.startsWith(`larder-duckdb-${pid}-`))

describe('kill -9', { timeout: 60_000 }, () => {
  test('apply: the registry is the old or the new version, never torn; the next apply wins', async () => {
    expect((await run('apply')).code).toBe(0)
    const v1 = registry().version
    const killed = await killMidway('apply', 5, 'v2')
    const after = registry() // parses: never a torn file
    expect([v1, v1 + 1]).toContain(after.version)
    expect((await run('apply', 'v2')).code).toBe(0)
    expect(registry().featureViews.map((v) => v.name)).toContain('stats_copy')
    expect(leftovers()).toEqual([])
    expect(duckTemps(killed.pid)).toEqual([])
  })

  test('materialize: no interval for the killed run; the next run writes everything; nothing left', async () => {
    const killed = await killMidway('materialize', 10)
    expect(killed.finished).toBe(false)
    expect(registry().materializations.stats).toBeUndefined()
    const next = await run('materialize')
    expect(next.code).toBe(0)
    expect(registry().materializations.stats).toEqual([
      expect.objectContaining({ start: '2020-01-01T00:00:00Z', end: '2030-01-01T00:00:00Z' }),
    ])
    // Every driver's latest row is online (driver d's latest is row 40000 + d).
    const read = await run('read')
    expect(read.out.split('\n')[0]).toBe(JSON.stringify([40000, 40001, 59999]))
    expect(leftovers()).toEqual([])
    expect(duckTemps(killed.pid)).toEqual([])
  })

  test('push: the offline file is whole (all rows or none); the retry with its key adds them once', async () => {
    const path = join(repo, 'data/pushed.parquet')
    const count = async () =>
      (await sql(`SELECT count(*)::INTEGER FROM '${path}'`))[0]![0] as number
    for (const delay of [0, 60]) {
      const before = await count()
      const killed = await killMidway('push', delay)
      const after = await count()
      expect([before, before + 5000]).toContain(after)
      expect((await run('push')).code).toBe(0)
      // The same idempotency key: whatever the killed run did, the rows are there once.
      expect(await count()).toBe(1 + 5000)
      expect(leftovers()).toEqual([])
      expect(duckTemps(killed.pid)).toEqual([])
      expect(existsSync(path)).toBe(true)
    }
  })
})
