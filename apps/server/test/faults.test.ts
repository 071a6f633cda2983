/**
 * Fault injection (issue #20): the feature server over a real repo whose online store is
 * the real Redis behind a TCP proxy that can reset or hold its traffic, and whose offline
 * store is Parquet through DuckDB. Pushes must be whole or absent and exact on retry.
 */
import { copyFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FeatureStore, formatTime } from '@larder/core'
import { fileOfflineStore } from '@larder/file'
import { redisOnlineStore } from '@larder/redis'
import { type FaultProxy, findRedis, startFaultProxy } from '@larder/testing'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createFeatureServer, type FeatureServer } from '../src/index.js'
import { DEFINITIONS, makeRepo } from './fixture.js'

const redis = await findRedis()
if (!redis.available) console.warn(`\n*** SKIPPING fault tests: ${redis.reason} ***\n`)

let dir: string
let proxy: FaultProxy
let store: FeatureStore
let server: FeatureServer
const counter = fileOfflineStore()
// Driver ids of this run only: other test runs may share the Redis server.
const ID = 900_000_000 + Math.floor(Math.random() * 1_000_000)

beforeAll(async () => {
  if (!redis.available) return
  ;({ dir } = await makeRepo())
  proxy = await startFaultProxy({ target: redis.url })
  store = new FeatureStore({
    repoPath: dir,
    config: {
      project: 'server_test',
      registry: 'data/registry.json',
      offlineStore: fileOfflineStore(),
      onlineStore: redisOnlineStore({ url: proxy.url, connectTimeoutMs: 1000 }),
    },
    definitions: DEFINITIONS.map((definition) => ({ definition, origin: 'test' })),
  })
  server = await createFeatureServer(store, { port: 0, logger: false })
}, 60_000)

afterAll(async () => {
  await server?.close()
  await proxy?.close()
  await counter.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** Rows of the push source's Parquet file (the offline copy). */
async function offlineRows(): Promise<number> {
  const connection = await counter.connect()
  try {
    const path = join(dir, 'data/driver_push.parquet')
    const result = await connection.run(
      `SELECT count(*)::INTEGER AS n FROM read_parquet('${path}')`,
    )
    return (await result.getRows())[0]![0] as number
  } finally {
    connection.closeSync()
  }
}

async function push(id: number, key?: string) {
  const res = await fetch(`${server.url}/push`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key && { 'idempotency-key': key }) },
    body: JSON.stringify({
      push_source_name: 'driver_push',
      to: 'online_and_offline',
      df: {
        driver_id: [id],
        event_timestamp: [formatTime(BigInt(Date.now() - 60_000) * 1000n)],
        rating: [4.25],
        big: [7],
        payload: ['AQI='],
      },
    }),
  })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

async function readRating(id: number) {
  const res = await fetch(`${server.url}/get-online-features`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ entities: { driver_id: [id] }, features: ['driver_fresh:rating'] }),
  })
  return ((await res.json()) as { results: Array<{ values: unknown[] }> }).results[1]!.values[0]
}

describe.skipIf(!redis.available)(
  'finding 1: pushes are whole or absent, retries exact',
  { timeout: 30_000 },
  () => {
    test('Redis resetting connections: the failed pushes write nothing offline; the retry writes once', async () => {
      const before = await offlineRows()
      // Connect once through the proxy, then Redis "crashes".
      expect((await push(ID, 'warm-up')).status).toBe(200)
      expect(await offlineRows()).toBe(before + 1)
      proxy.setMode('reset')
      for (let i = 0; i < 2; i++) {
        const failed = await push(ID + 1, 'push-1')
        expect(failed.status).toBeGreaterThanOrEqual(500)
        expect(await offlineRows()).toBe(before + 1)
      }
      proxy.setMode('pass')
      const ok = await push(ID + 1, 'push-1')
      expect(ok.status).toBe(200)
      expect(ok.json).toMatchObject({ online_rows_written: 1, offline_rows_written: 1 })
      expect(await offlineRows()).toBe(before + 2)
      expect(await readRating(ID + 1)).toBe(4.25)
      // The client never saw the answer and retries again: nothing changes.
      const again = await push(ID + 1, 'push-1')
      expect(again.status).toBe(200)
      expect(await offlineRows()).toBe(before + 2)
      // The same key on a new push is the same write: no row; a new key is a new write.
      expect((await push(ID + 2, 'push-1')).status).toBe(200)
      expect(await offlineRows()).toBe(before + 2)
      expect((await push(ID + 2, 'push-2')).status).toBe(200)
      expect(await offlineRows()).toBe(before + 3)
    })

    test('the offline append failing after the online write: the retry appends exactly once', async () => {
      const path = join(dir, 'data/driver_push.parquet')
      const before = await offlineRows()
      copyFileSync(path, `${path}.saved`)
      writeFileSync(path, 'not parquet')
      const failed = await push(ID + 3, 'push-3')
      expect(failed.status).toBeGreaterThanOrEqual(400)
      copyFileSync(`${path}.saved`, path)
      rmSync(`${path}.saved`)
      expect(await offlineRows()).toBe(before)
      expect((await push(ID + 3, 'push-3')).status).toBe(200)
      expect((await push(ID + 3, 'push-3')).status).toBe(200)
      expect(await offlineRows()).toBe(before + 1)
    })

    test('without a key a failed push is still absent offline (online is written first)', async () => {
      const before = await offlineRows()
      proxy.setMode('reset')
      expect((await push(ID + 4)).status).toBeGreaterThanOrEqual(500)
      proxy.setMode('pass')
      expect(await offlineRows()).toBe(before)
    })
  },
)
