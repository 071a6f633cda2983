// Behaviour of the DynamoDB store beyond the conformance suite: the write rule under
// concurrent writers, batching and retries, errors, the stored layout. All against dynalite
// in this process on 127.0.0.1.
import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  ProvisionedThroughputExceededException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import {
  isLarderError,
  LarderError,
  noopLogger,
  type OnlineRow,
  type StoredViewSpec,
} from '@larder/core'
import { driverKey, row, testView } from '@larder/testing'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  CREATED_TS,
  type DynamodbOnlineStore,
  type DynamodbOnlineStoreOptions,
  decoderFor,
  dynamodbOnlineStore,
  ENTITY_ID,
  EVENT_TS,
  encoderFor,
} from '../src/index.js'
import {
  foreignConnections,
  LOCAL_CREDENTIALS,
  type LocalDynamo,
  localStore,
  startDynalite,
} from './dynalite-server.js'

const T0 = 1_700_000_000_000_000n
const stats = testView('driver_stats', ['driver'], {
  conv_rate: 'float64',
  trips: 'int64',
  label: 'string',
})
const FEATURES = ['conv_rate', 'trips', 'label']

let local: LocalDynamo
let projects = 0

beforeAll(async () => {
  local = await startDynalite()
})
afterAll(() => local.close())

/** A configured store on a fresh project whose `views` tables exist. */
async function open(
  extra: DynamodbOnlineStoreOptions = {},
  views: StoredViewSpec[] = [stats],
  project = `t${++projects}_${Date.now().toString(36)}`,
): Promise<DynamodbOnlineStore> {
  const store = localStore(local, extra)
  store.configure({ project, repoPath: '/nonexistent', logger: noopLogger })
  await store.update({ keep: views, drop: [], entities: [] })
  return store
}

type Send = DynamoDBClient['send']
/**
 * A client whose `send` goes through `intercept` (which may call `real`), and the list of
 * commands sent.
 */
function wrappedClient(
  intercept: (command: unknown, real: (command: unknown) => Promise<unknown>) => Promise<unknown>,
): { client: DynamoDBClient; sent: unknown[] } {
  const client = local.client()
  const real = client.send.bind(client) as (command: unknown) => Promise<unknown>
  const sent: unknown[] = []
  client.send = ((command: unknown) => {
    sent.push(command)
    return intercept(command, real)
  }) as Send
  return { client, sent }
}

describe('the write rule under concurrent writers', () => {
  /** 10 versions of each of 60 keys, shuffled and split between two writers. */
  function versions(): { a: OnlineRow[]; b: OnlineRow[] } {
    const all: OnlineRow[] = []
    for (let k = 0; k < 60; k++)
      for (let v = 0; v < 10; v++)
        all.push(row(driverKey(k), [v / 10, BigInt(v), `k${k}v${v}`], T0 + BigInt(v), BigInt(v)))
    // Deterministic shuffle (LCG) so a failure replays.
    let seed = 42
    for (let i = all.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      const j = seed % (i + 1)
      ;[all[i], all[j]] = [all[j] as OnlineRow, all[i] as OnlineRow]
    }
    return { a: all.filter((_, i) => i % 2 === 0), b: all.filter((_, i) => i % 2 === 1) }
  }

  async function writeInBatches(store: DynamodbOnlineStore, rows: OnlineRow[]): Promise<number> {
    let written = 0
    for (let i = 0; i < rows.length; i += 20)
      written += await store.writeBatch(stats, FEATURES, rows.slice(i, i + 20))
    return written
  }

  for (const precheck of [true, false])
    test(`two stores writing interleaved older and newer rows: the newest always wins (precheck ${precheck})`, {
      timeout: 60_000,
    }, async () => {
      const project = `race_${precheck}_${Date.now().toString(36)}`
      const a = await open({ precheck }, [stats], project)
      const b = await open({ precheck }, [stats], project)
      const { a: rowsA, b: rowsB } = versions()
      const [wa, wb] = await Promise.all([writeInBatches(a, rowsA), writeInBatches(b, rowsB)])
      // Each key is stored at least once and at most 10 times, never 0.
      expect(wa + wb).toBeGreaterThanOrEqual(60)
      const keys = Array.from({ length: 60 }, (_, k) => driverKey(k))
      const got = await a.read(stats, keys, FEATURES)
      got.forEach((value, k) => {
        expect(value, `key ${k}`).toEqual({ values: [0.9, 9n, `k${k}v9`], eventTs: T0 + 9n })
      })
      await a.teardown([stats])
      await a.close()
      await b.close()
    })

  /**
   * Store `late` checks the stored timestamps, then, before its write goes out, store
   * `fresh` writes a newer row of the same key.
   */
  async function raceInTheWindow(late: DynamodbOnlineStoreOptions) {
    const project = `window_${Date.now().toString(36)}_${++projects}`
    const fresh = await open({}, [stats], project)
    let injected = false
    const { client } = wrappedClient(async (command, real) => {
      if (
        !injected &&
        (command instanceof UpdateItemCommand || command instanceof BatchWriteItemCommand)
      ) {
        injected = true
        await fresh.writeBatch(stats, FEATURES, [row(driverKey(1), [0.2, 2n, 'newer'], T0 + 2n)])
      }
      return real(command)
    })
    const lateStore = await open({ ...late, client }, [stats], project)
    const written = await lateStore.writeBatch(stats, FEATURES, [
      row(driverKey(1), [0.1, 1n, 'older'], T0 + 1n),
    ])
    const [stored] = await fresh.read(stats, [driverKey(1)], FEATURES)
    await fresh.teardown([stats])
    await fresh.close()
    await lateStore.close()
    client.destroy()
    expect(injected).toBe(true)
    return { written, stored }
  }

  test('conditional writes: a newer row written between the precheck and the write is kept', async () => {
    const { written, stored } = await raceInTheWindow({ writeMode: 'conditional' })
    expect(written).toBe(0)
    expect(stored).toEqual({ values: [0.2, 2n, 'newer'], eventTs: T0 + 2n })
  })

  test('check-then-batch (documented race): the older row overwrites a newer one written in the window', async () => {
    const { written, stored } = await raceInTheWindow({ writeMode: 'check-then-batch' })
    // This is why 'conditional' is the default and check-then-batch declares no
    // concurrentWriters capability.
    expect(written).toBe(1)
    expect(stored).toEqual({ values: [0.1, 1n, 'older'], eventTs: T0 + 1n })
  })

  test('capabilities: only conditional mode declares concurrent writers', () => {
    expect(dynamodbOnlineStore().capabilities.concurrentWriters).toBe(true)
    expect(
      dynamodbOnlineStore({ writeMode: 'check-then-batch' }).capabilities.concurrentWriters,
    ).toBe(false)
  })
})

describe('writes', () => {
  for (const writeMode of ['conditional', 'check-then-batch'] as const)
    test(`a write of some features keeps the others (${writeMode})`, async () => {
      const store = await open({ writeMode })
      await store.writeBatch(stats, FEATURES, [row(driverKey(1), [0.1, 1n, 'a'], T0)])
      expect(await store.writeBatch(stats, ['trips'], [row(driverKey(1), [2n], T0 + 1n, 3n)])).toBe(
        1,
      )
      expect(await store.read(stats, [driverKey(1)], FEATURES)).toEqual([
        { values: [0.1, 2n, 'a'], eventTs: T0 + 1n },
      ])
      await store.teardown([stats])
      await store.close()
    })

  test('the precheck skips rows that lose without sending a write', async () => {
    const { client, sent } = wrappedClient((command, real) => real(command))
    const store = await open({ client })
    const rows = Array.from({ length: 150 }, (_, i) => row(driverKey(i), [0, 1n, 'x'], T0))
    expect(await store.writeBatch(stats, FEATURES, rows)).toBe(150)
    sent.length = 0
    expect(await store.writeBatch(stats, FEATURES, rows)).toBe(0)
    expect(sent.filter((c) => c instanceof UpdateItemCommand)).toHaveLength(0)
    expect(sent.filter((c) => c instanceof BatchGetItemCommand)).toHaveLength(2)
    await store.teardown([stats])
    await store.close()
    client.destroy()
  })

  test('a value of the wrong type is an INVALID_INPUT error naming the feature; nothing is written', async () => {
    const store = await open()
    const err = await store
      .writeBatch(stats, FEATURES, [
        row(driverKey(2), [0.2, 2n, 'fine'], T0),
        row(driverKey(1), [0.1, 'not an int', 'a'], T0),
      ])
      .catch((e: unknown) => e)
    expect(isLarderError(err, 'INVALID_INPUT')).toBe(true)
    expect((err as Error).message).toMatch(
      /\[larder\] \[dynamodb\] row 1 of the write to 'driver_stats': feature 'trips' \(int64\)/,
    )
    expect(await store.read(stats, [driverKey(2)], FEATURES)).toEqual([undefined])
    await store.teardown([stats])
    await store.close()
  })

  test('a feature outside the view schema is a NOT_FOUND error', async () => {
    const store = await open()
    await expect(store.writeBatch(stats, ['nope'], [row(driverKey(1), [1], T0)])).rejects.toThrow(
      /feature 'nope' is not in the schema of feature view 'driver_stats'/,
    )
    await store.teardown([stats])
    await store.close()
  })
})

describe('stored layout', () => {
  test('one item per entity: Binary entity_id, exact numbers, B, L, NULL, timestamps as N micros', async () => {
    const view = testView('layout', ['driver'], {
      i64: 'int64',
      f64: 'float64',
      f32: 'float32',
      byt: 'bytes',
      ts: 'timestamp',
      arr: 'array<int64>',
      nul: 'string',
      bol: 'bool',
    })
    const features = view.features.map((f) => f.name)
    const store = await open({}, [view])
    const values = [
      2n ** 63n - 1n,
      0.1,
      Math.fround(0.1),
      new Uint8Array([0, 255]),
      1_700_000_000_123_456n,
      [1n, null],
      null,
      true,
    ]
    await store.writeBatch(view, features, [row(driverKey(7), values, T0 + 5n, 9n)])
    const client = local.client()
    const out = await client.send(
      new GetItemCommand({
        TableName: store.tableName(view),
        Key: { [ENTITY_ID]: { B: driverKey(7) } },
      }),
    )
    client.destroy()
    expect(store.tableName(view)).toMatch(/^t\d+_[a-z0-9]+\.layout$/)
    expect(out.Item).toEqual({
      [ENTITY_ID]: { B: driverKey(7) },
      [EVENT_TS]: { N: String(T0 + 5n) },
      [CREATED_TS]: { N: '9' },
      i64: { N: '9223372036854775807' },
      f64: { N: '0.1' },
      f32: { N: String(Math.fround(0.1)) },
      byt: { B: new Uint8Array([0, 255]) },
      ts: { N: '1700000000123456' },
      arr: { L: [{ N: '1' }, { NULL: true }] },
      nul: { NULL: true },
      bol: { BOOL: true },
    })
    await store.teardown([view])
    await store.close()
  })

  test('floats DynamoDB numbers cannot hold round-trip through S', async () => {
    const view = testView('floats', ['driver'], { f: 'float64', a: 'array<float64>' })
    const store = await open({}, [view])
    const specials = [
      1e300,
      5e-324,
      -0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -1.7976931348623157e308,
    ]
    await store.writeBatch(
      view,
      ['f', 'a'],
      specials.map((x, i) => row(driverKey(i), [x, [x, 1.5, null]], T0)),
    )
    const got = await store.read(
      view,
      specials.map((_, i) => driverKey(i)),
      ['f', 'a'],
    )
    got.forEach((value, i) => {
      expect(Object.is(value?.values[0], specials[i]), `value ${specials[i]}`).toBe(true)
      expect(value?.values[1]).toEqual([specials[i], 1.5, null])
    })
    await store.teardown([view])
    await store.close()
  })

  test('tableNameTemplate names the tables; an invalid name is an INVALID_CONFIG error', async () => {
    const store = await open({ tableNameTemplate: 'larder-{project}-{view}' })
    expect(store.tableName(stats)).toMatch(/^larder-t\d+_[a-z0-9]+-driver_stats$/)
    await store.writeBatch(stats, FEATURES, [row(driverKey(1), [0.1, 1n, 'a'], T0)])
    expect((await store.read(stats, [driverKey(1)], ['trips']))[0]?.values).toEqual([1n])
    await store.teardown([stats])
    await store.close()
    const bad = localStore(local, { tableNameTemplate: '{view}' })
    bad.configure({ project: 'p', repoPath: '/nonexistent', logger: noopLogger })
    expect(() => bad.tableName('a b')).toThrow(/table name 'a b'.*not a valid DynamoDB table name/)
  })

  test('a feature named like a store attribute is refused', async () => {
    const store = await open()
    const clash = testView('clash', ['driver'], { event_ts: 'int64' })
    await expect(
      store.writeBatch(clash, ['event_ts'], [row(driverKey(1), [1n], T0)]),
    ).rejects.toThrow(/feature named 'event_ts'/)
    await store.teardown([stats])
    await store.close()
  })
})

describe('reads', () => {
  test('more than 100 keys: BatchGetItem in chunks of at most 100 distinct keys', async () => {
    const { client, sent } = wrappedClient((command, real) => real(command))
    const store = await open({ client })
    await store.writeBatch(
      stats,
      FEATURES,
      Array.from({ length: 250 }, (_, i) => row(driverKey(i), [i / 4, BigInt(i), `l${i}`], T0)),
    )
    sent.length = 0
    // 260 distinct keys (10 missing), plus every key again: 520 asked.
    const ids = Array.from({ length: 260 }, (_, i) => i)
    const asked = [...ids, ...ids.reverse()].map((i) => driverKey(i))
    const got = await store.read(stats, asked, FEATURES)
    expect(got).toHaveLength(520)
    got.forEach((value, j) => {
      const id = j < 260 ? j : 519 - j
      expect(value, `position ${j}`).toEqual(
        id < 250 ? { values: [id / 4, BigInt(id), `l${id}`], eventTs: T0 } : undefined,
      )
    })
    const gets = sent.filter((c): c is BatchGetItemCommand => c instanceof BatchGetItemCommand)
    expect(gets).toHaveLength(3)
    const sizes = gets.map((c) => Object.values(c.input.RequestItems ?? {})[0]?.Keys?.length)
    expect(sizes.sort()).toEqual([100, 100, 60])
    await store.teardown([stats])
    await store.close()
    client.destroy()
  })

  test('UnprocessedKeys are asked for again until every key is read', async () => {
    let calls = 0
    const { client, sent } = wrappedClient(async (command, real) => {
      if (!(command instanceof BatchGetItemCommand)) return real(command)
      calls++
      // The first two calls: DynamoDB processes only the first 3 keys of the request.
      if (calls > 2) return real(command)
      const [table, request] = Object.entries(command.input.RequestItems ?? {})[0] ?? []
      const keys = request?.Keys ?? []
      const done = (await real(
        new BatchGetItemCommand({
          RequestItems: { [table as string]: { ...request, Keys: keys.slice(0, 3) } },
        }),
      )) as BatchGetItemCommandOutput
      return {
        ...done,
        UnprocessedKeys: { [table as string]: { ...request, Keys: keys.slice(3) } },
      } satisfies BatchGetItemCommandOutput
    })
    const store = await open({ client, precheck: false, retry: { baseDelayMs: 1 } })
    await store.writeBatch(
      stats,
      FEATURES,
      Array.from({ length: 10 }, (_, i) => row(driverKey(i), [0, BigInt(i), 'x'], T0)),
    )
    const got = await store.read(
      stats,
      Array.from({ length: 10 }, (_, i) => driverKey(i)),
      ['trips'],
    )
    expect(got.map((v) => v?.values[0])).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)))
    // 1 first call + 2 retries of what was left (the inner calls are not counted in `sent`).
    expect(sent.filter((c) => c instanceof BatchGetItemCommand)).toHaveLength(3)
    await store.teardown([stats])
    await store.close()
    client.destroy()
  })

  test('UnprocessedItems of BatchWriteItem are written again (check-then-batch)', async () => {
    let first = true
    const { client } = wrappedClient(async (command, real) => {
      if (!(command instanceof BatchWriteItemCommand) || !first) return real(command)
      first = false
      const [table, requests] = Object.entries(command.input.RequestItems ?? {})[0] ?? []
      await real(
        new BatchWriteItemCommand({
          RequestItems: { [table as string]: (requests ?? []).slice(0, 5) },
        }),
      )
      return { UnprocessedItems: { [table as string]: (requests ?? []).slice(5) }, $metadata: {} }
    })
    const store = await open({ client, writeMode: 'check-then-batch', retry: { baseDelayMs: 1 } })
    const rows = Array.from({ length: 20 }, (_, i) => row(driverKey(i), [0, BigInt(i), 'x'], T0))
    expect(await store.writeBatch(stats, FEATURES, rows)).toBe(20)
    const got = await store.read(
      stats,
      rows.map((r) => r.key),
      ['trips'],
    )
    expect(got.map((v) => v?.values[0])).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i)))
    expect(first).toBe(false)
    await store.teardown([stats])
    await store.close()
    client.destroy()
  })
})

describe('throttling', () => {
  const throttled = () =>
    new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} })

  test('throttled writes and reads are retried with backoff', async () => {
    let failures = 0
    const { client } = wrappedClient(async (command, real) => {
      if (
        (command instanceof UpdateItemCommand || command instanceof BatchGetItemCommand) &&
        failures < 4
      ) {
        failures++
        throw throttled()
      }
      return real(command)
    })
    const store = await open({ client, retry: { baseDelayMs: 1 } })
    expect(await store.writeBatch(stats, FEATURES, [row(driverKey(1), [0.1, 1n, 'a'], T0)])).toBe(1)
    expect(await store.read(stats, [driverKey(1)], FEATURES)).toEqual([
      { values: [0.1, 1n, 'a'], eventTs: T0 },
    ])
    expect(failures).toBe(4)
    await store.teardown([stats])
    await store.close()
    client.destroy()
  })

  test('throttling that never ends is a BACKEND_ERROR after maxAttempts', async () => {
    let attempts = 0
    const { client } = wrappedClient(async (command, real) => {
      if (command instanceof BatchGetItemCommand) {
        attempts++
        throw throttled()
      }
      return real(command)
    })
    const store = await open({ client, retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 4 } })
    const err = await store.read(stats, [driverKey(1)], FEATURES).catch((e: unknown) => e)
    expect(isLarderError(err, 'BACKEND_ERROR')).toBe(true)
    expect((err as Error).message).toMatch(
      /\[larder\] \[dynamodb\] DynamoDB kept throttling reading rows on table '.*\.driver_stats' after 4 attempts/,
    )
    expect(attempts).toBe(4)
    await store.teardown([stats])
    await store.close()
    client.destroy()
  })
})

describe('errors', () => {
  test('a missing table names the table and says to run `larder apply`', async () => {
    const store = localStore(local)
    store.configure({ project: 'never_applied', repoPath: '/nonexistent', logger: noopLogger })
    for (const call of [
      () => store.read(stats, [driverKey(1)], FEATURES),
      () => store.writeBatch(stats, FEATURES, [row(driverKey(1), [0.1, 1n, 'a'], T0)]),
      () =>
        dynamodbOnlineStore({
          ...local.options,
          precheck: false,
          tableNameTemplate: 'x.{view}',
        }).writeBatch(stats, FEATURES, [row(driverKey(1), [0.1, 1n, 'a'], T0)]),
    ]) {
      const err = await call().catch((e: unknown) => e)
      expect(isLarderError(err, 'NOT_FOUND')).toBe(true)
      expect((err as Error).message).toMatch(
        /^\[larder\] \[dynamodb\] table '(never_applied|x)\.driver_stats' does not exist \(region us-east-1, endpoint http:\/\/127\.0\.0\.1:\d+\).*run `larder apply`/,
      )
    }
    await store.close()
  })

  test('an endpoint nobody listens on is BACKEND_UNAVAILABLE naming it', async () => {
    const store = dynamodbOnlineStore({
      endpoint: 'http://127.0.0.1:9',
      region: 'eu-west-3',
      credentials: LOCAL_CREDENTIALS,
      clientConfig: { maxAttempts: 1 },
    })
    store.configure({ project: 'p', repoPath: '/nonexistent', logger: noopLogger })
    const err = await store.read(stats, [driverKey(1)], FEATURES).catch((e: unknown) => e)
    expect(isLarderError(err, 'BACKEND_UNAVAILABLE')).toBe(true)
    expect((err as Error).message).toMatch(
      /cannot reach DynamoDB \(region eu-west-3, endpoint http:\/\/127\.0\.0\.1:9\).*'p\.driver_stats'/,
    )
    await store.close()
  })

  test('refused credentials are BACKEND_UNAVAILABLE naming the region and what to check', async () => {
    const { client } = wrappedClient(async () => {
      const err = new Error('The security token included in the request is invalid.')
      err.name = 'UnrecognizedClientException'
      throw err
    })
    const store = dynamodbOnlineStore({ client, region: 'us-east-1' })
    store.configure({ project: 'p', repoPath: '/nonexistent', logger: noopLogger })
    const err = await store.read(stats, [driverKey(1)], FEATURES).catch((e: unknown) => e)
    expect(isLarderError(err, 'BACKEND_UNAVAILABLE')).toBe(true)
    expect((err as Error).message).toMatch(
      /refused the credentials \(region us-east-1\).*UnrecognizedClientException.*AWS_ACCESS_KEY_ID/,
    )
    await store.close()
    client.destroy()
  })

  test('no region anywhere is an INVALID_CONFIG error saying how to set it', async () => {
    const saved = {
      AWS_REGION: process.env.AWS_REGION,
      AWS_DEFAULT_REGION: process.env.AWS_DEFAULT_REGION,
      AWS_CONFIG_FILE: process.env.AWS_CONFIG_FILE,
      AWS_EC2_METADATA_DISABLED: process.env.AWS_EC2_METADATA_DISABLED,
    }
    delete process.env.AWS_REGION
    delete process.env.AWS_DEFAULT_REGION
    process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config'
    // Else the SDK asks the instance metadata service (169.254.169.254) for a region.
    process.env.AWS_EC2_METADATA_DISABLED = 'true'
    try {
      const store = dynamodbOnlineStore({
        endpoint: local.endpoint,
        credentials: LOCAL_CREDENTIALS,
      })
      store.configure({ project: 'p', repoPath: '/nonexistent', logger: noopLogger })
      const err = await store.read(stats, [driverKey(1)], FEATURES).catch((e: unknown) => e)
      expect(isLarderError(err, 'INVALID_CONFIG')).toBe(true)
      expect((err as Error).message).toMatch(/no AWS region is set.*AWS_REGION/)
      await store.close()
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
    }
  })

  test('an unknown writeMode is refused at construction', () => {
    expect(() => dynamodbOnlineStore({ writeMode: 'fast' as unknown as 'conditional' })).toThrow(
      LarderError,
    )
  })
})

describe('lifecycle', () => {
  test('the client is created lazily, destroyed by close(), and again on next use', async () => {
    const store = localStore(local)
    store.configure({ project: `life${++projects}`, repoPath: '/nonexistent', logger: noopLogger })
    await store.update({ keep: [stats], drop: [], entities: [] })
    const first = store.client
    await store.close()
    expect(store.client).not.toBe(first)
    await store.teardown([stats])
    await store[Symbol.asyncDispose]()
  })

  test('a given client is used and left open by close()', async () => {
    const client = local.client()
    const store = await open({ client })
    expect(store.client).toBe(client)
    await store.teardown([stats])
    await store.close()
    // Still usable: close() did not destroy it.
    await expect(
      client.send(
        new GetItemCommand({ TableName: 'missing', Key: { [ENTITY_ID]: { B: driverKey(1) } } }),
      ),
    ).rejects.toThrow(/not found/i)
    client.destroy()
  })

  test('update() drops the tables of dropped views and creates kept ones', async () => {
    const other = testView('other', ['driver'], { x: 'int64' })
    const store = await open({}, [stats, other])
    await store.writeBatch(other, ['x'], [row(driverKey(1), [1n], T0)])
    await store.update({ keep: [stats], drop: [other], entities: [] })
    await expect(store.read(other, [driverKey(1)], ['x'])).rejects.toThrow(/does not exist/)
    await store.teardown([stats])
    await expect(store.read(stats, [driverKey(1)], FEATURES)).rejects.toThrow(/does not exist/)
    await store.close()
  })
})

describe('test isolation', () => {
  test('the socket guard of these tests catches any host but loopback', async () => {
    const store = dynamodbOnlineStore({
      endpoint: 'http://10.255.255.1:80',
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
      clientConfig: { maxAttempts: 1 },
    })
    await expect(store.client.send(new ListTablesCommand({}))).rejects.toThrow()
    expect(foreignConnections).toEqual(['10.255.255.1'])
    foreignConnections.length = 0
    await store.close()
  })
})

describe('tables that take time to change state (as on AWS)', () => {
  test('update() waits for ACTIVE, and for a dropped table to be gone before re-creating it', {
    timeout: 60_000,
  }, async () => {
    const slow = await startDynalite({ createTableMs: 300, deleteTableMs: 300 })
    try {
      const store = dynamodbOnlineStore(slow.options)
      store.configure({ project: 'slow', repoPath: '/nonexistent', logger: noopLogger })
      await store.update({ keep: [stats], drop: [], entities: [] })
      const client = slow.client()
      const described = await client.send(
        new DescribeTableCommand({ TableName: 'slow.driver_stats' }),
      )
      expect(described.Table?.TableStatus).toBe('ACTIVE')
      expect(described.Table?.BillingModeSummary?.BillingMode ?? 'PAY_PER_REQUEST').toBe(
        'PAY_PER_REQUEST',
      )
      await store.writeBatch(stats, FEATURES, [row(driverKey(1), [0.1, 1n, 'a'], T0)])
      // Drop then keep again: DeleteTable is still DELETING when CreateTable would run.
      await store.update({ keep: [], drop: [stats], entities: [] })
      await store.update({ keep: [stats], drop: [], entities: [] })
      expect(await store.read(stats, [driverKey(1)], FEATURES)).toEqual([undefined])
      await store.teardown([stats])
      await expect(
        client.send(new DescribeTableCommand({ TableName: 'slow.driver_stats' })),
      ).rejects.toThrow(/not found/i)
      await store.close()
      client.destroy()
    } finally {
      await slow.close()
    }
  })

  test('a table of the same name with another key is a SCHEMA_MISMATCH at update()', async () => {
    const client = local.client()
    await client.send(
      new CreateTableCommand({
        TableName: 'foreign.driver_stats',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    )
    const store = localStore(local)
    store.configure({ project: 'foreign', repoPath: '/nonexistent', logger: noopLogger })
    const err = await store
      .update({ keep: [stats], drop: [], entities: [] })
      .catch((e: unknown) => e)
    expect(isLarderError(err, 'SCHEMA_MISMATCH')).toBe(true)
    expect((err as Error).message).toMatch(
      /table 'foreign\.driver_stats' exists but its key is not 'entity_id'/,
    )
    // Nor does teardown delete a table that is not Larder's.
    await expect(store.teardown([stats])).rejects.toThrow(/exists but its key is not/)
    const still = await client.send(new DescribeTableCommand({ TableName: 'foreign.driver_stats' }))
    expect(still.Table?.KeySchema?.[0]?.AttributeName).toBe('id')
    await client.send(new DeleteTableCommand({ TableName: 'foreign.driver_stats' }))
    await store.close()
    client.destroy()
  })
})

describe('codec', () => {
  test('the examples of encoderFor and decoderFor', () => {
    expect(encoderFor('int64')(2n ** 60n)).toEqual({ N: '1152921504606846976' })
    expect(encoderFor('array<float64>')([1e300, null])).toEqual({
      L: [{ S: '1e+300' }, { NULL: true }],
    })
    expect(decoderFor('timestamp')({ N: '1700000000123456' })).toBe(1700000000123456n)
    expect(decoderFor('float64')(undefined)).toBe(null)
  })
})
