// WAL mode (the child imports the package's build, see test/global-setup.ts): another process (as `larder serve` would) keeps reading, without errors or
// waits, while this one (as `larder materialize` would) writes a large batch.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { noopLogger, type OnlineRow } from '@larder/core'
import { driverKey, testView } from '@larder/testing'
import { afterAll, expect, test } from 'vitest'
import { sqliteOnlineStore } from '../src/index.js'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'larder-sqlite-wal-'))
const T0 = 1_700_000_000_000_000n
const ROWS = 300_000

afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('another process reads while this one writes a batch', { timeout: 120_000 }, async () => {
  const path = join(dir, 'online.db')
  const view = testView('driver_stats', ['driver'], { trips: 'int64' })
  await using store = sqliteOnlineStore({ path })
  store.configure({ project: 'wal', repoPath: dir, logger: noopLogger })
  await store.update({ keep: [view], drop: [], entities: [] })
  const watched = driverKey(0)
  await store.writeBatch(
    view,
    ['trips'],
    [{ key: watched, values: [1n], eventTs: T0, createdTs: null }],
  )

  const rows: OnlineRow[] = Array.from({ length: ROWS }, (_, i) => ({
    key: driverKey(i),
    values: [BigInt(i + 2)],
    eventTs: T0 + 1n,
    createdTs: null,
  }))
  const child = spawn(
    process.execPath,
    [
      join(packageDir, 'test/fixtures/wal-reader.mjs'),
      path,
      'wal',
      '60000',
      JSON.stringify(view),
      Buffer.from(watched).toString('hex'),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
  const deadline = Date.now() + 30_000
  while (!stdout.includes('ready\n')) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`reader did not start: ${stderr}`)
    await new Promise((r) => setTimeout(r, 20))
  }
  await new Promise((r) => setTimeout(r, 300))

  const writeStart = Date.now()
  expect(await store.writeBatch(view, ['trips'], rows)).toBe(ROWS)
  const writeEnd = Date.now()
  await new Promise((r) => setTimeout(r, 300))
  child.stdin.end()

  expect(await exited, stderr).toBe(0)
  const summary = JSON.parse(stdout.slice(stdout.indexOf('ready\n') + 6)) as {
    reads: number
    maxLatencyMs: number
    errorCount: number
    errors: string[]
    seen: Record<string, { first: number; last: number }>
  }
  expect(summary.errorCount, summary.errors.join('\n')).toBe(0)
  const before = summary.seen[String(T0)]
  const after = summary.seen[String(T0 + 1n)]
  // While the batch's transaction was open, the reader kept reading the committed row...
  expect(before).toBeDefined()
  expect(before!.last).toBeGreaterThan(writeStart + (writeEnd - writeStart) / 2)
  // ...never waiting for the writer...
  expect(summary.maxLatencyMs).toBeLessThan((writeEnd - writeStart) / 2)
  // ...and saw the new row once it was committed.
  expect(after).toBeDefined()
  expect(after!.first).toBeGreaterThanOrEqual(writeStart)
})
