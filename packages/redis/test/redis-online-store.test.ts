// Behaviour of the Redis store beyond the conformance suite: connection errors, lazy
// connect, client types, key TTL, concurrent writers, lost scripts, teardown isolation.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { isLarderError, type LarderError, noopLogger, type OnlineRow } from '@larder/core'
import { driverEntity, driverKey, freePort, isPortOpen, testView } from '@larder/testing'
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  type RedisOnlineStore,
  type RedisOnlineStoreOptions,
  redisOnlineStore,
} from '../src/index.js'
import { redisUrl } from './service.js'

const RUN = `redis_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
const T0 = 1_700_000_000_000_000n
const stats = testView('driver_stats', ['driver'], { conv_rate: 'float64', trips: 'int64' })
const features = ['conv_rate', 'trips']
let projects = 0

function open(
  options: RedisOnlineStoreOptions = {},
  project = `${RUN}_${++projects}`,
): RedisOnlineStore {
  const store = redisOnlineStore({ url: redisUrl, ...options })
  store.configure({ project, repoPath: '.', logger: noopLogger })
  return store
}

const row = (
  id: number,
  values: unknown[],
  eventTs: bigint,
  createdTs: bigint | null = null,
): OnlineRow => ({
  key: driverKey(id),
  values,
  eventTs,
  createdTs,
})

async function caught(promise: Promise<unknown>): Promise<LarderError> {
  try {
    await promise
  } catch (err) {
    if (isLarderError(err)) return err
    throw err
  }
  throw new Error('expected a LarderError')
}

describe('connection', () => {
  test('an unreachable Redis is a quick LarderError naming the URL', async () => {
    const port = await freePort() // nothing listens there
    const url = `redis://127.0.0.1:${port}`
    await using store = redisOnlineStore({ url })
    store.configure({ project: RUN, repoPath: '.', logger: noopLogger })
    const t0 = performance.now()
    const err = await caught(store.read(stats, [driverKey(1)], features))
    expect(performance.now() - t0).toBeLessThan(3000)
    expect(err.code).toBe('BACKEND_UNAVAILABLE')
    expect(err.message).toMatch(
      new RegExp(
        `^\\[larder\\] \\[redis\\] cannot connect to redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*; pass redisOnlineStore\\(\\{ url \\}\\)`,
      ),
    )
    // No retry loop left behind: a second call fails the same way, just as fast.
    const t1 = performance.now()
    expect((await caught(store.writeBatch(stats, features, [row(1, [1, 1n], T0)]))).code).toBe(
      'BACKEND_UNAVAILABLE',
    )
    expect(performance.now() - t1).toBeLessThan(3000)
    expect(store.redis.status).toBe('end')
  })

  const hasServer = spawnSync('redis-server', ['--version']).status === 0
  test.skipIf(!hasServer)(
    'after a restart of Redis the store reconnects by itself',
    { timeout: 20_000 },
    async () => {
      const port = await freePort()
      const start = async (): Promise<ChildProcess> => {
        const child = spawn(
          'redis-server',
          ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
          { stdio: 'ignore' },
        )
        for (let i = 0; i < 50 && !(await isPortOpen(port)); i++) {
          await new Promise((r) => setTimeout(r, 100))
        }
        return child
      }
      let server = await start()
      try {
        await using store = redisOnlineStore({ url: `redis://127.0.0.1:${port}` })
        store.configure({ project: RUN, repoPath: '.', logger: noopLogger })
        expect(await store.writeBatch(stats, features, [row(1, [0.5, 1n], T0)])).toBe(1)
        server.kill('SIGKILL')
        await new Promise((r) => server.once('exit', r))
        server = await start() // empty again: no persistence
        expect(await store.writeBatch(stats, features, [row(1, [0.6, 2n], T0)])).toBe(1)
        expect(await store.read(stats, [driverKey(1)], features)).toEqual([
          { values: [0.6, 2n], eventTs: T0 },
        ])
      } finally {
        server.kill('SIGKILL')
      }
    },
  )

  test('the password is hidden in messages', () => {
    const store = redisOnlineStore({ url: 'redis://:secret@127.0.0.1:6399/0' })
    expect(store.target).toBe('redis://:***@127.0.0.1:6399/0')
  })

  test('the URL defaults to redis://127.0.0.1:6379 and never comes from the environment', () => {
    const saved = process.env.REDIS_URL
    try {
      process.env.REDIS_URL = 'redis://127.0.0.1:6390'
      expect(redisOnlineStore().url).toBe('redis://127.0.0.1:6379')
      expect(redisOnlineStore({ url: 'redis://127.0.0.1:6390' }).url).toBe('redis://127.0.0.1:6390')
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL
      else process.env.REDIS_URL = saved
    }
  })

  // Cluster and Sentinel cannot run on this machine: these check the client the options build.
  test('cluster options build a lazy ioredis Cluster with password and TLS', async () => {
    const store = redisOnlineStore({
      cluster: [{ host: '127.0.0.1', port: 7000 }],
      password: 'pw',
      tls: { servername: 'redis.local' },
    })
    const client = store.redis
    expect(client).toBeInstanceOf(Cluster)
    expect(client.status).toBe('wait')
    const options = (client as Cluster).options
    expect(options.lazyConnect).toBe(true)
    expect(options.redisOptions?.password).toBe('pw')
    expect(options.redisOptions?.tls).toEqual({ servername: 'redis.local' })
    expect(store.target).toBe('redis cluster 127.0.0.1:7000')
    await store.close()
  })

  test('sentinel options build a lazy ioredis Redis on the sentinel master', async () => {
    const store = redisOnlineStore({
      sentinels: [{ host: '127.0.0.1', port: 26379 }],
      name: 'features',
      password: 'pw',
      tls: true,
    })
    const client = store.redis as Redis
    expect(client).toBeInstanceOf(Redis)
    expect(client.status).toBe('wait')
    expect(client.options.sentinels).toEqual([{ host: '127.0.0.1', port: 26379 }])
    expect(client.options.name).toBe('features')
    expect(client.options.password).toBe('pw')
    expect(client.options.tls).toEqual({})
    expect(store.target).toBe("redis sentinel master 'features' via 127.0.0.1:26379")
    await store.close()
  })

  test('a URL builds a standalone client with TLS and password passed through', () => {
    const client = redisOnlineStore({ url: 'redis://127.0.0.1:6380', password: 'pw', tls: true })
      .redis as Redis
    expect(client).toBeInstanceOf(Redis)
    expect(client.options.port).toBe(6380)
    expect(client.options.password).toBe('pw')
    expect(client.options.tls).toEqual({})
    expect(client.options.lazyConnect).toBe(true)
  })

  test('invalid keyTtlSeconds is a config error', () => {
    expect(() => redisOnlineStore({ keyTtlSeconds: 0 })).toThrow(
      /keyTtlSeconds must be a positive integer/,
    )
    expect(() => redisOnlineStore({ keyTtlSeconds: 1.5 })).toThrow(/INVALID_CONFIG|keyTtlSeconds/)
  })
})

describe.skipIf(!redisUrl)('on a real Redis', () => {
  let raw: Redis
  beforeAll(() => {
    raw = new Redis(redisUrl ?? '')
  })
  afterAll(async () => {
    // Everything this file wrote ends with a project name starting with RUN.
    let cursor = '0'
    do {
      const [next, keys] = await raw.scanBuffer(cursor, 'MATCH', `*${RUN}_*`, 'COUNT', 1000)
      cursor = String(next)
      if (keys.length > 0) await raw.del(...keys)
    } while (cursor !== '0')
    raw.disconnect()
  })

  test('connects lazily: no connection until the first call', async () => {
    await using store = open()
    expect(store.redis.status).toBe('wait')
    await store.update({ keep: [stats], drop: [], entities: [driverEntity] })
    expect(store.redis.status).toBe('wait') // update without drops needs no server
    await store.read(stats, [driverKey(1)], features)
    expect(store.redis.status).toBe('ready')
  })

  test('a client passed in is used and left open on close', async () => {
    const client = new Redis(redisUrl ?? '', { lazyConnect: true })
    try {
      const store = redisOnlineStore({ client })
      store.configure({ project: `${RUN}_client`, repoPath: '.', logger: noopLogger })
      await store.writeBatch(stats, features, [row(1, [0.5, 1n], T0)])
      await store.close()
      expect(client.status).toBe('ready')
      expect(await client.exists(store.redisKey(driverKey(1)))).toBe(1)
    } finally {
      client.disconnect()
    }
  })

  test('a winning row without a created time removes the stored one (and only then deletes)', async () => {
    await using store = open()
    const key = store.redisKey(driverKey(1))
    const created = `_created_ts:${stats.name}`
    expect(await store.writeBatch(stats, features, [row(1, [0.1, 1n], T0, T0 + 5n)])).toBe(1)
    expect(await raw.hexists(key, created)).toBe(1)
    expect(await store.writeBatch(stats, features, [row(1, [0.2, 2n], T0 + 1n)])).toBe(1)
    expect(await raw.hexists(key, created)).toBe(0)
    // The stored row now has no created time: an equal event time with one wins.
    expect(await store.writeBatch(stats, features, [row(1, [0.3, 3n], T0 + 1n, T0)])).toBe(1)
    expect((await store.read(stats, [driverKey(1)], features))[0]?.values).toEqual([0.3, 3n])
    // Written without ever having a created time: nothing to delete, the row still lands.
    expect(await store.writeBatch(stats, features, [row(2, [0.4, 4n], T0)])).toBe(1)
    expect(await raw.hexists(store.redisKey(driverKey(2)), created)).toBe(0)
  })

  test('keyTtlSeconds expires the whole entity hash on every write', async () => {
    await using store = open({ keyTtlSeconds: 100 })
    expect(store.capabilities.keyTtl).toBe(true)
    await store.writeBatch(stats, features, [row(1, [0.5, 1n], T0)])
    const key = store.redisKey(driverKey(1))
    const ttl = await raw.ttl(key)
    expect(ttl).toBeGreaterThan(95)
    expect(ttl).toBeLessThanOrEqual(100)
    // A losing write does not extend the TTL.
    await raw.expire(key, 50)
    expect(await store.writeBatch(stats, features, [row(1, [0.1, 0n], T0 - 1n)])).toBe(0)
    expect(await raw.ttl(key)).toBeLessThanOrEqual(50)
    // A winning one does.
    expect(await store.writeBatch(stats, features, [row(1, [0.1, 0n], T0 + 1n)])).toBe(1)
    expect(await raw.ttl(key)).toBeGreaterThan(95)

    await using plain = open()
    expect(plain.capabilities.keyTtl).toBe(false)
    await plain.writeBatch(stats, features, [row(1, [0.5, 1n], T0)])
    expect(await raw.ttl(plain.redisKey(driverKey(1)))).toBe(-1)
  })

  test('keyTtlSeconds: the key is gone once the TTL passes', { timeout: 10_000 }, async () => {
    await using store = open({ keyTtlSeconds: 1 })
    await store.writeBatch(stats, features, [row(1, [0.5, 1n], T0)])
    expect(await store.read(stats, [driverKey(1)], features)).toEqual([
      { values: [0.5, 1n], eventTs: T0 },
    ])
    await new Promise((r) => setTimeout(r, 2100))
    expect(await store.read(stats, [driverKey(1)], features)).toEqual([undefined])
  })

  test('concurrent writers: the newer row always wins', { timeout: 60_000 }, async () => {
    const project = `${RUN}_race`
    await using a = open({ batchSize: 50 }, project)
    await using b = open({ batchSize: 50 }, project)
    const n = 2000
    for (let round = 0; round < 5; round++) {
      const base = T0 + BigInt(round) * 10n
      // Per key, one store has the older row and the other the newer one, alternating, and
      // the created timestamp breaks ties on a quarter of the keys.
      const rowsA: OnlineRow[] = []
      const rowsB: OnlineRow[] = []
      for (let i = 0; i < n; i++) {
        const tie = i % 4 === 0
        const older = row(i, [0, BigInt(round * 10)], base + (tie ? 5n : 0n), tie ? 1n : null)
        const newer = row(i, [1, BigInt(round * 10 + 1)], base + 5n, tie ? 2n : null)
        if (i % 2 === 0) {
          rowsA.push(older)
          rowsB.push(newer)
        } else {
          rowsA.push(newer)
          rowsB.push(older)
        }
      }
      const [wa, wb] = await Promise.all([
        a.writeBatch(stats, features, rowsA),
        b.writeBatch(stats, features, rowsB),
      ])
      // Each key: the newer row is written, the older one only if it came first.
      expect(wa + wb).toBeGreaterThanOrEqual(n)
      expect(wa + wb).toBeLessThanOrEqual(2 * n)
      const got = await a.read(
        stats,
        Array.from({ length: n }, (_, i) => driverKey(i)),
        features,
      )
      got.forEach((v, i) => {
        expect(v, `key ${i} round ${round}`).toEqual({
          values: [1, BigInt(round * 10 + 1)],
          eventTs: base + 5n,
        })
      })
    }
  })

  test('a flushed script cache is recovered with EVAL (NOSCRIPT)', async () => {
    await using store = open()
    await store.writeBatch(stats, features, [row(1, [0.5, 1n], T0)])
    await raw.script('FLUSH')
    expect(
      await store.writeBatch(stats, features, [row(1, [0.6, 2n], T0 + 1n), row(2, [0.7, 3n], T0)]),
    ).toBe(2)
    await raw.script('FLUSH')
    await store.teardown([stats])
    expect(await store.read(stats, [driverKey(1), driverKey(2)], features)).toEqual([
      undefined,
      undefined,
    ])
  })

  // A store that never saw the entities SCANs the whole keyspace for its project: on a
  // shared Redis holding other tests' keys (250k here) that takes seconds.
  test('teardown leaves other projects alone, even one whose name ends with ours', {
    timeout: 60_000,
  }, async () => {
    const suffix = `${RUN}_tail`
    await using mine = open({}, suffix)
    await using longer = open({}, `x${suffix}`)
    await mine.update({ keep: [stats], drop: [], entities: [driverEntity] })
    await mine.writeBatch(stats, features, [row(1, [0.5, 1n], T0)])
    await longer.writeBatch(stats, features, [row(1, [0.9, 9n], T0)])
    // A foreign key that ends with the project name but is no Feast entity key.
    await raw.hset(Buffer.from(`junk*${suffix}`), `_ts:${stats.name}`, 'x')
    await mine.teardown([stats])
    expect(await mine.read(stats, [driverKey(1)], features)).toEqual([undefined])
    expect(await longer.read(stats, [driverKey(1)], features)).toEqual([
      { values: [0.9, 9n], eventTs: T0 },
    ])
    expect(await raw.hexists(`junk*${suffix}`, `_ts:${stats.name}`)).toBe(1)
    // A store that never saw the entities (no update) finds the keys by project alone.
    await using fresh = open({}, `x${suffix}`)
    await fresh.teardown([stats])
    expect(await longer.read(stats, [driverKey(1)], features)).toEqual([undefined])
  })

  test('a feature not in the view is a LarderError naming it', async () => {
    await using store = open()
    const err = await caught(store.writeBatch(stats, ['nope'], [row(1, [1], T0)]))
    expect(err.message).toBe("[larder] [redis] feature 'nope' is not in view 'driver_stats'")
  })

  test('a mistyped value is a LarderError; rows of its pipeline are not written', async () => {
    await using store = open()
    const err = await caught(
      store.writeBatch(stats, features, [row(1, [0.5, 1n], T0), row(2, [0.5, 'two'], T0)]),
    )
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.message).toContain("feature 'trips' (int64)")
    expect(await store.read(stats, [driverKey(1)], features)).toEqual([undefined])
  })
})
