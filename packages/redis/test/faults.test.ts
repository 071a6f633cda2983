// Redis behind a fault proxy (issue #20): a write whose replies a lost connection swallowed
// is retried as a retry, so the written count stays right (finding 10); a hung Redis fails
// within commandTimeoutMs as BACKEND_UNAVAILABLE (finding 2).
import { isLarderError, noopLogger, type OnlineRow } from '@larder/core'
import { driverKey, type FaultProxy, startFaultProxy, testView } from '@larder/testing'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { redisOnlineStore } from '../src/index.js'
import { redisUrl } from './service.js'

const RUN = `redis_faults_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
const T0 = 1_700_000_000_000_000n
const stats = testView('driver_stats', ['driver'], { conv_rate: 'float64', trips: 'int64' })
const features = ['conv_rate', 'trips']
const rows = (n: number): OnlineRow[] =>
  Array.from({ length: n }, (_, i) => ({
    key: driverKey(i + 1),
    values: [i / 10, BigInt(i)],
    eventTs: T0 + BigInt(i),
    createdTs: i % 2 ? T0 : null,
  }))

let proxy: FaultProxy
beforeAll(async () => {
  if (redisUrl) proxy = await startFaultProxy({ target: redisUrl })
})
afterAll(async () => {
  await proxy?.close()
})

const open = (project: string, commandTimeoutMs: number) => {
  const store = redisOnlineStore({ url: proxy.url, commandTimeoutMs })
  store.configure({ project, repoPath: '.', logger: noopLogger })
  return store
}

describe.skipIf(!redisUrl)('Redis faults', { timeout: 20_000 }, () => {
  test('finding 10: replies lost to a reconnect still count every written row once', async () => {
    await using store = open(`${RUN}_count`, 30_000)
    await store.update({ keep: [stats], drop: [], entities: [] })
    // Connect through the proxy first (a key outside the batch below).
    const warm = { ...rows(1)[0]!, key: driverKey(999_999) }
    expect(await store.writeBatch(stats, features, [warm])).toBe(1)
    // Redis runs the scripts, the replies never arrive, the connection drops, comes back.
    proxy.setMode('hold-replies')
    const writing = store.writeBatch(stats, features, rows(3000))
    await new Promise((r) => setTimeout(r, 500))
    proxy.setMode('reset')
    await new Promise((r) => setTimeout(r, 20))
    proxy.setMode('pass')
    // Every row is new: all 3000 were written by this call, and counted once.
    expect(await writing).toBe(3000)
    const read = await store.read(stats, [driverKey(1), driverKey(3000)], features)
    expect(read.map((r) => r?.eventTs)).toEqual([T0, T0 + 2999n])
    // A plain re-run is still a no-op that writes 0 rows.
    expect(await store.writeBatch(stats, features, rows(3000))).toBe(0)
  })

  test('finding 2: a hung Redis fails within commandTimeoutMs, BACKEND_UNAVAILABLE', async () => {
    await using store = open(`${RUN}_hang`, 300)
    expect(await store.read(stats, [driverKey(1)], features)).toEqual([undefined])
    proxy.setMode('hold')
    const began = performance.now()
    try {
      const err = await store.read(stats, [driverKey(1)], features).catch((e: unknown) => e)
      expect(isLarderError(err, 'BACKEND_UNAVAILABLE')).toBe(true)
      expect((err as Error).message).toMatch(/Redis did not answer \(Command timed out\)/)
      expect(performance.now() - began).toBeLessThan(2000)
      const write = await store.writeBatch(stats, features, rows(1)).catch((e: unknown) => e)
      expect(isLarderError(write, 'BACKEND_UNAVAILABLE')).toBe(true)
    } finally {
      proxy.setMode('pass')
    }
  })
})
