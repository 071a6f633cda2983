// Feast compatibility, both ways, on the real server. The expected bytes are written here
// by hand from Feast's specification (key = Feast v3 entity key + project; one hash per
// entity; field = murmur3 LE bytes of 'view:feature'; Value / Timestamp protobufs), with a
// BigInt murmur3 and hand-written protobuf bytes that share no code with src/.
import { noopLogger, serializeEntityKey } from '@larder/core'
import { driverEntity, testView } from '@larder/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type RedisOnlineStore, redisOnlineStore } from '../src/index.js'
import { referenceField, referenceInt64Key } from './reference.js'
import { redisUrl } from './service.js'

const PROJECT = `feast_compat_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
const VIEW = 'driver_hourly_stats'
const NEG1 = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
const SECS_1700000000 = [0x80, 0xe2, 0xcf, 0xaa, 0x06]
const b = (...bytes: number[]) => Buffer.from(bytes)

const schema = {
  conv_rate: 'float32',
  acc_rate: 'float64',
  avg_daily_trips: 'int64',
  rank: 'int32',
  name: 'string',
  blob: 'bytes',
  active: 'bool',
  last_seen: 'timestamp',
  ids: 'array<int64>',
  tags: 'array<string>',
  weights: 'array<float32>',
  scores: 'array<float64>',
  empty_value: 'float64',
  null_value: 'string',
  never_written: 'int64',
} as const
const view = testView(VIEW, ['driver'], { ...schema })
const features = Object.keys(schema)

describe.skipIf(!redisUrl)('Feast compatibility (Redis layout)', () => {
  let raw: Redis
  let store: RedisOnlineStore
  beforeAll(async () => {
    raw = new Redis(redisUrl ?? '')
    store = redisOnlineStore({ url: redisUrl })
    store.configure({ project: PROJECT, repoPath: '.', logger: noopLogger })
    await store.update({ keep: [view], drop: [], entities: [driverEntity] })
  })
  afterAll(async () => {
    await store?.teardown([view])
    const left = await raw.keysBuffer(`*${PROJECT}`)
    if (left.length > 0) await raw.del(...left)
    await store?.close()
    raw?.disconnect()
  })

  test('the key is the Feast v3 entity key followed by the project', () => {
    const key = referenceInt64Key('driver_id', 1001n)
    expect([...key]).toEqual([
      ...[1, 0, 0, 0], // one join key
      ...[2, 0, 0, 0, 9, 0, 0, 0], // STRING, 9 bytes
      ...Buffer.from('driver_id'),
      ...[4, 0, 0, 0, 8, 0, 0, 0], // INT64, 8 bytes
      ...[0xe9, 0x03, 0, 0, 0, 0, 0, 0], // 1001 little-endian
    ])
    const ours = serializeEntityKey([{ name: 'driver_id', valueType: 'int64', value: 1001n }])
    expect(store.redisKey(ours)).toEqual(Buffer.concat([key, Buffer.from(PROJECT)]))
  })

  test('a hash written the way Feast writes it reads back through the store', async () => {
    const key = Buffer.concat([referenceInt64Key('driver_id', 1001n), Buffer.from(PROJECT)])
    const f = (name: string) => referenceField(VIEW, name)
    await raw.hset(key, {
      // Feast writes seconds only; nanos (field 2) = 500000000 here, as a newer writer may.
      [`_ts:${VIEW}`]: b(0x08, ...SECS_1700000000, 0x10, 0x80, 0xca, 0xb5, 0xee, 0x01),
    })
    await raw.hset(
      key,
      f('conv_rate'),
      b(0x35, 0, 0, 0, 0x3f), // float_val 0.5
      f('acc_rate'),
      b(0x29, 0, 0, 0, 0, 0, 0, 0xd0, 0x3f), // double_val 0.25
      f('avg_daily_trips'),
      b(0x20, 0x2a), // int64_val 42
      f('rank'),
      b(0x18, ...NEG1), // int32_val -1
      f('name'),
      b(0x12, 6, 0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f), // string_val 'héllo'
      f('blob'),
      b(0x0a, 2, 1, 2), // bytes_val 01 02
      f('active'),
      b(0x38, 1), // bool_val true
      f('last_seen'),
      b(0x40, ...SECS_1700000000), // unix_timestamp_val, seconds
      f('ids'),
      b(0x72, 13, 0x0a, 11, 0x01, ...NEG1), // int64_list_val [1, -1], packed
      f('tags'),
      b(0x62, 7, 0x0a, 1, 0x61, 0x0a, 2, 0x62, 0x63), // string_list_val ['a', 'bc']
      f('weights'),
      b(0x82, 0x01, 6, 0x0a, 4, 0, 0, 0xc0, 0x3f), // float_list_val [1.5]
      f('scores'),
      b(0x7a, 0), // double_list_val []
      f('empty_value'),
      b(), // Value() with nothing set: what Feast writes for None
      f('null_value'),
      b(0x98, 0x01, 0x00), // null_val
    )
    const ours = serializeEntityKey([{ name: 'driver_id', valueType: 'int64', value: 1001n }])
    const [got] = await store.read(view, [ours], features)
    expect(got?.eventTs).toBe(1_700_000_000_500_000n)
    expect(got?.values).toEqual([
      0.5,
      0.25,
      42n,
      -1,
      'héllo',
      new Uint8Array([1, 2]),
      true,
      1_700_000_000_000_000n,
      [1n, -1n],
      ['a', 'bc'],
      [1.5],
      [],
      null,
      null,
      null,
    ])
    // Feast's write check is "newer event time only"; ours agrees: an older row loses.
    const older = { key: ours, values: features.map(() => null), createdTs: null }
    expect(
      await store.writeBatch(view, features, [{ ...older, eventTs: 1_699_999_999_000_000n }]),
    ).toBe(0)
  })

  test('what the store writes is the bytes Feast reads', async () => {
    const ours = serializeEntityKey([{ name: 'driver_id', valueType: 'int64', value: 2002n }])
    const written = await store.writeBatch(
      view,
      ['conv_rate', 'avg_daily_trips', 'name', 'last_seen', 'ids', 'tags', 'null_value'],
      [
        {
          key: ours,
          values: [0.5, -1n, 'héllo', 1_700_000_000_123_456n, [1n, null], [], null],
          eventTs: 1_700_000_000_123_456n,
          createdTs: 5n,
        },
      ],
    )
    expect(written).toBe(1)
    const key = Buffer.concat([referenceInt64Key('driver_id', 2002n), Buffer.from(PROJECT)])
    // Raw HGETALL as a flat [field, value, ...] list of Buffers.
    const flat = (await raw.callBuffer('HGETALL', key)) as Buffer[]
    const byField = new Map<string, Buffer>()
    for (let i = 0; i < flat.length; i += 2) byField.set(flat[i]!.toString('hex'), flat[i + 1]!)
    const field = (name: string) => byField.get(referenceField(VIEW, name).toString('hex'))
    const named = (name: string) => byField.get(Buffer.from(name).toString('hex'))
    // _ts: Timestamp { seconds: 1700000000, nanos: 123456000 }
    expect([...(named(`_ts:${VIEW}`) ?? [])]).toEqual([
      0x08,
      ...SECS_1700000000,
      0x10,
      0x80,
      0x94,
      0xef,
      0x3a,
    ])
    // _created_ts (Larder's own field; Feast ignores it): Timestamp { seconds: 0, nanos: 5000 }
    expect([...(named(`_created_ts:${VIEW}`) ?? [])]).toEqual([0x08, 0x00, 0x10, 0x88, 0x27])
    expect([...(field('conv_rate') ?? [])]).toEqual([0x35, 0, 0, 0, 0x3f])
    expect([...(field('avg_daily_trips') ?? [])]).toEqual([0x20, ...NEG1])
    expect([...(field('name') ?? [])]).toEqual([0x12, 6, 0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f])
    // unix_timestamp_val = whole seconds (what Feast reads), then field 1000 = 123456 micros.
    expect([...(field('last_seen') ?? [])]).toEqual([
      0x40,
      ...SECS_1700000000,
      0xc0,
      0x3e,
      0xc0,
      0xc4,
      0x07,
    ])
    // int64_list_val [1, 0] (Feast reads 0 for the null) + field 1001 = null indexes [1].
    expect([...(field('ids') ?? [])]).toEqual([0x72, 4, 0x0a, 2, 0x01, 0x00, 0xca, 0x3e, 1, 1])
    expect([...(field('tags') ?? [])]).toEqual([0x62, 0])
    expect([...(field('null_value') ?? [])]).toEqual([0x98, 0x01, 0x00])
    // Only the written features, _ts and _created_ts are in the hash.
    expect(byField.size).toBe(9)
  })

  test('views of one entity share one hash; the other view keeps its fields on drop', async () => {
    const other = testView('driver_daily', ['driver'], { trips: 'int64' })
    await store.update({ keep: [view, other], drop: [], entities: [driverEntity] })
    const ours = serializeEntityKey([{ name: 'driver_id', valueType: 'int64', value: 3003n }])
    const row = { key: ours, eventTs: 1_700_000_000_000_000n, createdTs: null }
    await store.writeBatch(view, ['conv_rate'], [{ ...row, values: [0.5] }])
    await store.writeBatch(other, ['trips'], [{ ...row, values: [7n] }])
    const key = Buffer.concat([referenceInt64Key('driver_id', 3003n), Buffer.from(PROJECT)])
    expect(await raw.hlen(key)).toBe(4) // two _ts fields, two features
    await store.update({ keep: [view], drop: [other], entities: [driverEntity] })
    expect(await raw.hexists(key, '_ts:driver_daily')).toBe(0)
    expect(await raw.hexists(key, referenceField('driver_daily', 'trips'))).toBe(0)
    expect(await raw.hexists(key, `_ts:${VIEW}`)).toBe(1)
  })
})
