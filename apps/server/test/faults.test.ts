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
      onlineStore: redisOnlineStore({
        url: proxy.url,
        connectTimeoutMs: 1000,
        commandTimeoutMs: 500,
      }),
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

async function get(path: string) {
  const res = await fetch(`${server.url}${path}`)
  return { status: res.status, text: await res.text(), retryAfter: res.headers.get('retry-after') }
}

async function read(id: number) {
  const began = Date.now()
  const res = await fetch(`${server.url}/get-online-features`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ entities: { driver_id: [id] }, features: ['driver_fresh:rating'] }),
  })
  const text = await res.text()
  return {
    status: res.status,
    json: JSON.parse(text) as { error?: { code: string; message: string } },
    text,
    retryAfter: res.headers.get('retry-after'),
    ms: Date.now() - began,
  }
}

describe.skipIf(!redis.available)(
  'finding 2: a hung or unreachable store is a quick 503, never a hang',
  { timeout: 30_000 },
  () => {
    test('Redis holding all traffic: reads and pushes answer 503 BACKEND_UNAVAILABLE with Retry-After within the timeout; liveness stays 200, readiness 503', async () => {
      expect((await read(ID)).status).toBe(200)
      proxy.setMode('hold')
      try {
        const [r, p, live, ready] = await Promise.all([
          read(ID),
          push(ID + 5, 'held-1'),
          get('/health'),
          get('/health/ready'),
        ])
        expect({ status: r.status, code: r.json.error?.code, retryAfter: r.retryAfter }).toEqual({
          status: 503,
          code: 'BACKEND_UNAVAILABLE',
          retryAfter: '1',
        })
        expect(r.ms).toBeLessThan(4000)
        expect(p.status).toBe(503)
        expect(live.status).toBe(200)
        expect({ status: ready.status, retryAfter: ready.retryAfter }).toEqual({
          status: 503,
          retryAfter: '1',
        })
        // Finding 7: no host:port and no repo folder in what clients see.
        for (const text of [r.text, JSON.stringify(p.json), ready.text]) {
          expect(text).not.toMatch(/127\.0\.0\.1|:\d{4,5}\b/)
          expect(text).not.toContain(dir)
        }
      } finally {
        proxy.setMode('pass')
      }
      expect((await read(ID)).status).toBe(200)
      expect((await get('/health/ready')).status).toBe(200)
    })

    test('Redis resetting connections: 503 BACKEND_UNAVAILABLE (was 502 BACKEND_ERROR)', async () => {
      proxy.setMode('reset')
      try {
        const r = await read(ID)
        expect({ status: r.status, code: r.json.error?.code }).toEqual({
          status: 503,
          code: 'BACKEND_UNAVAILABLE',
        })
        expect(r.text).not.toMatch(/127\.0\.0\.1/)
      } finally {
        proxy.setMode('pass')
      }
    })

    test('the server deadline answers 503 even when the store would wait far longer', async () => {
      const slow = new FeatureStore({
        repoPath: dir,
        config: {
          project: 'server_test',
          registry: 'data/registry.json',
          offlineStore: fileOfflineStore(),
          onlineStore: redisOnlineStore({ url: proxy.url, commandTimeoutMs: 60_000 }),
        },
        definitions: DEFINITIONS.map((definition) => ({ definition, origin: 'test' })),
      })
      const srv = await createFeatureServer(slow, { port: 0, logger: false, requestTimeoutMs: 300 })
      try {
        const body = JSON.stringify({
          entities: { driver_id: [ID] },
          features: ['driver_fresh:rating'],
        })
        const post = () =>
          fetch(`${srv.url}/get-online-features`, { method: 'POST', body }).then(async (res) => ({
            status: res.status,
            json: (await res.json()) as { error?: { code: string; message: string } },
          }))
        expect((await post()).status).toBe(200)
        proxy.setMode('hold')
        const began = Date.now()
        const r = await post()
        expect(Date.now() - began).toBeLessThan(2000)
        expect(r.status).toBe(503)
        expect(r.json.error?.message).toMatch(/did not finish within 300 ms/)
      } finally {
        proxy.setMode('pass')
        await srv.close()
      }
    })

    test('materialize against a held Redis fails with one clear line and records nothing', async () => {
      const before = (await store.registryDump()).materializations.driver_hourly_stats
      proxy.setMode('hold')
      const began = Date.now()
      try {
        await expect(
          store.materialize('2020-01-01T00:00:00Z', new Date().toISOString(), {
            views: ['driver_hourly_stats'],
          }),
        ).rejects.toThrow(/materialization of 'driver_hourly_stats' failed .*Redis did not answer/)
      } finally {
        proxy.setMode('pass')
      }
      expect(Date.now() - began).toBeLessThan(10_000)
      expect((await store.registryDump()).materializations.driver_hourly_stats).toEqual(before)
    })
  },
)
