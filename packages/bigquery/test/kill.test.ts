/**
 * Offline writes are whole or absent under kill -9: a child process appends batches to a
 * source on the stand-in and is killed at random moments (during the staging load job or
 * the INSERT); the table then holds only whole batches.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { toArrowVector } from '@larder/core'
import { Table } from 'apache-arrow'
import { afterAll, expect, test } from 'vitest'
import { useEmulator } from './emulator.js'

const ROWS = 2000
const packageDir = fileURLToPath(new URL('..', import.meta.url))
const { emulator, store } = await useEmulator()
const loader = store()
afterAll(() => loader.close())

async function count(): Promise<number> {
  const result = await emulator.query('SELECT count(*), count(DISTINCT driver_id) FROM kills.log')
  const [n, distinct] = (result.rows[0] ?? []).map(Number)
  expect(distinct).toBe(n)
  return n as number
}

test('kill -9 during offline writes leaves only whole batches', async () => {
  await emulator.query('CREATE SCHEMA kills')
  await loader.createTable(
    'kills.log',
    new Table({
      driver_id: toArrowVector([], 'int64'),
      event_timestamp: toArrowVector([], 'timestamp'),
      trips: toArrowVector([], 'int64'),
    }),
  )
  const batches: number[] = []
  for (const delay of [0, 35, 90, 160, 250]) {
    const child = spawn(
      process.execPath,
      ['test/fixtures/write-forever.ts', emulator.url, String(ROWS)],
      { cwd: packageDir, env: { ...process.env, METADATA_SERVER_DETECTION: 'none' } },
    )
    let acknowledged = 0
    let stderr = ''
    let firstAck: () => void = () => {}
    const acked = new Promise<void>((r) => {
      firstAck = r
    })
    child.stdout.on('data', (d) => {
      acknowledged = Number(String(d).trim().split('\n').pop())
      firstAck()
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    // Once it has written a batch (the stand-in answers from this event loop), let it go on
    // for `delay` ms, then kill -9: somewhere in a load job, the INSERT or between them.
    await acked
    await new Promise((r) => setTimeout(r, delay))
    child.kill('SIGKILL')
    await new Promise((r) => child.once('close', r))
    expect(stderr).toBe('')
    const rows = await count()
    expect(rows % ROWS, `${rows} rows after a kill at +${delay} ms`).toBe(0)
    // Every acknowledged batch is there; one more may be whole without its acknowledgement.
    expect(rows / ROWS).toBeGreaterThanOrEqual(acknowledged)
    expect(rows / ROWS).toBeLessThanOrEqual(acknowledged + 1)
    batches.push(rows / ROWS)
    await emulator.query('DELETE FROM kills.log')
  }
  expect(batches.every((b) => b >= 1)).toBe(true)
}, 120_000)
