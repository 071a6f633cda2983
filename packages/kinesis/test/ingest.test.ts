// store.ingest() from kinesalite through the real AWS SDK v3 client, into the real file
// offline store (the offline log) and the real SQLite online store.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import {
  type AnyDefinition,
  entity,
  FeatureStore,
  type IngestViewSummary,
  streamFeatureView,
  t,
} from '@larder/core'
import { type KinesisStandIn, startKinesalite } from '@larder/emulators'
import { fileOfflineStore, fileSource } from '@larder/file'
import { jsonFormat } from '@larder/formats'
import { sqliteOnlineStore } from '@larder/sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type KinesisSourceSpec,
  kinesisConnector,
  kinesisSource,
  kinesisSourceKind,
} from '../src/index.js'

interface Event {
  driver_id: number
  event_timestamp: string
  created: string
  trips: number
  city: string
}

// The AWS default chain reads these (as a user's would); never probe the metadata address.
process.env.AWS_ACCESS_KEY_ID ??= 'larder-test'
process.env.AWS_SECRET_ACCESS_KEY ??= 'larder-test'
process.env.AWS_EC2_METADATA_DISABLED = 'true'

let kinesis: KinesisStandIn
const dirs: string[] = []

beforeAll(async () => {
  kinesis = await startKinesalite()
})
afterAll(async () => {
  await kinesis?.close()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const fast = kinesisConnector({
  idleTimeBetweenReadsMs: 50,
  minCallIntervalMs: 20,
  shardSyncIntervalMs: 200,
})

function repo(stream: string, extra: Partial<Parameters<typeof kinesisSource>[0]> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'larder-kinesis-'))
  dirs.push(dir)
  const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
  const log = fileSource({
    name: `${stream}_log`,
    path: 'data/trips_log',
    timestampField: 'event_timestamp',
    createdTimestampColumn: 'created',
  })
  const trips = kinesisSource({
    name: 'trips',
    streamName: stream,
    region: 'us-east-1',
    endpoint: kinesis.endpoint,
    format: jsonFormat(),
    timestampField: 'event_timestamp',
    createdTimestampColumn: 'created',
    batchSource: log,
    ...extra,
  })
  const view = streamFeatureView({
    name: 'driver_trips',
    entities: [driver],
    ttl: { days: 3650 },
    schema: { trips: t.int64, city: t.string },
    source: trips,
  })
  const definitions: AnyDefinition[] = [driver, view]
  const store = new FeatureStore({
    repoPath: dir,
    config: {
      project: 'kinesis_test',
      offlineStore: fileOfflineStore(),
      onlineStore: sqliteOnlineStore({ path: join(dir, 'online.db') }),
      streams: { connectors: [fast] },
    },
    definitions: definitions.map((d) => ({ definition: d, origin: 'test' })),
  })
  return { store, dir }
}

/** Ingests until `until(read)` holds, then stops; returns the summary. */
async function ingestUntil(
  store: FeatureStore,
  until: (read: number) => boolean,
  ms = 15_000,
): Promise<IngestViewSummary[]> {
  const ac = new AbortController()
  let read = 0
  const timer = setTimeout(() => ac.abort(), ms)
  try {
    return await store.ingest({
      signal: ac.signal,
      onBatch: (e) => {
        read += e.records
        if (until(read)) ac.abort()
      },
    })
  } finally {
    clearTimeout(timer)
  }
}

/** `count` events over `keys` keys, event times permuted (out of order), some equal. */
function events(from: number, count: number, keys: number): Event[] {
  const out: Event[] = []
  for (let i = from; i < from + count; i++) {
    const minute = (i * 7919) % 600
    out.push({
      driver_id: 1000 + (i % keys),
      event_timestamp: new Date(Date.UTC(2026, 0, 1) + minute * 60_000).toISOString(),
      created: new Date(Date.UTC(2026, 0, 2) + i * 1000).toISOString(),
      trips: i,
      city: `city-${i}`,
    })
  }
  return out
}

/** The winner per key (greatest event time, then greatest created). */
function latest(list: Event[], key: number): Event | undefined {
  let best: Event | undefined
  for (const e of list) {
    if (e.driver_id !== key) continue
    if (
      !best ||
      e.event_timestamp > best.event_timestamp ||
      (e.event_timestamp === best.event_timestamp && e.created > best.created)
    )
      best = e
  }
  return best
}

const put = (stream: string, list: Event[]) =>
  kinesis.put(
    stream,
    list.map((e) => ({ key: String(e.driver_id), data: JSON.stringify(e) })),
  )

async function offlineStats(dir: string) {
  const db = await (await DuckDBInstance.create(':memory:')).connect()
  const row = (
    await db.runAndReadAll(
      `SELECT count(*) AS rows, count(DISTINCT __stream_position) AS positions, count(DISTINCT trips) AS events
       FROM read_parquet('${join(dir, 'data/trips_log')}/**/*.parquet')`,
    )
  ).getRowObjects()[0]!
  db.closeSync()
  return { rows: Number(row.rows), positions: Number(row.positions), events: Number(row.events) }
}

const name = (prefix: string) => `${prefix}_${Math.random().toString(36).slice(2, 8)}`

describe('store.ingest from Kinesis (kinesalite)', () => {
  it('two shards, out-of-order events, garbage dead-lettered; a split and a merge while stopped, restart: latest per key online, every event once offline', async () => {
    const stream = name('trips')
    await kinesis.createStream(stream, 2)
    const { store, dir } = repo(stream)
    await store.apply()
    const first = events(0, 400, 40)
    await put(stream, first)
    await kinesis.put(stream, [
      { key: '1001', data: 'not json {' },
      {
        key: '1002',
        data: JSON.stringify({ event_timestamp: first[0]!.event_timestamp, trips: 1 }),
      },
      { key: '1003', data: JSON.stringify({ ...first[3], trips: 'many' }) },
    ])
    const [summary] = await ingestUntil(store, (read) => read >= 403)
    expect(summary).toMatchObject({ read: 403, writtenOffline: 400, deadLettered: 3 })

    // Checkpoints per shard, in the file beside the repo's data.
    const cpFile = join(dir, 'data/kinesis-checkpoints/kinesis_test.driver_trips.json')
    const cp = JSON.parse(readFileSync(cpFile, 'utf8')) as {
      shards: Record<string, { sequenceNumber: string }>
    }
    const shards = await kinesis.shards(stream)
    expect(Object.keys(cp.shards).sort()).toEqual(shards.map((s) => s.ShardId).sort())

    // Dead letters: one JSON line each, with the original data, key, position and why.
    const letters = readFileSync(join(dir, 'data/dead-letters/trips.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string>)
    expect(letters.map((l) => l.code).sort()).toEqual([
      'DECODE_ERROR',
      'INVALID_RECORD',
      'INVALID_RECORD',
    ])
    const bad = letters.find((l) => l.code === 'DECODE_ERROR')!
    expect(Buffer.from(bad.data!, 'base64').toString()).toBe('not json {')
    expect(bad).toMatchObject({ partitionKey: '1001', stream, view: 'driver_trips' })
    expect(shards.map((s) => s.ShardId)).toContain(bad.shardId)
    expect(letters.some((l) => l.error?.includes("join key 'driver_id' is missing"))).toBe(true)

    // While stopped: more events, then split shard 0 and merge the two shards next to each
    // other, then more events (into the children only).
    const second = events(400, 200, 40)
    await put(stream, second)
    const [s0, s1] = shards
    const mid = await kinesis.split(stream, s0!.ShardId!)
    const third = events(600, 200, 40)
    await put(stream, third)
    const open = (await kinesis.shards(stream)).filter(
      (s) => !s.SequenceNumberRange?.EndingSequenceNumber,
    )
    const upper = open.find((s) => s.HashKeyRange!.StartingHashKey === mid)!
    await kinesis.merge(stream, upper.ShardId!, s1!.ShardId!)
    const fourth = events(800, 200, 40)
    await put(stream, fourth)
    const all = [...first, ...second, ...third, ...fourth]

    // Batches of the restart in the order they were written: a child shard's first batch
    // comes after every batch of its parents (each key's order holds across split and merge).
    const order: string[] = []
    const ac = new AbortController()
    let read = 0
    const timer = setTimeout(() => ac.abort(), 15_000)
    const [again] = await store.ingest({
      signal: ac.signal,
      onBatch: (e) => {
        order.push(e.partition)
        read += e.records
        if (read >= 600) ac.abort()
      },
    })
    clearTimeout(timer)
    const reshard = await kinesis.shards(stream)
    let children = 0
    for (const s of reshard) {
      for (const parent of [s.ParentShardId, s.AdjacentParentShardId]) {
        if (parent === undefined || !order.includes(s.ShardId!)) continue
        children++
        expect(
          order.indexOf(s.ShardId!),
          `${s.ShardId} read before its parent ${parent} ended`,
        ).toBeGreaterThan(order.lastIndexOf(parent))
      }
    }
    expect(children).toBe(4) // two children of the split, the merged shard's two parents
    expect(again).toMatchObject({ read: 600, writtenOffline: 600, deadLettered: 0 })

    const keys = [...new Set(all.map((e) => e.driver_id))]
    const online = await store.getOnlineFeatures({
      entities: { driver_id: keys },
      features: ['driver_trips:trips'],
    })
    expect(online.toRows().map((r) => Number(r.trips))).toEqual(
      keys.map((k) => latest(all, k)!.trips),
    )
    expect(await offlineStats(dir)).toEqual({ rows: 1000, positions: 1000, events: 1000 })

    // Every shard of the stream checkpointed; closed ones ended.
    const final = JSON.parse(readFileSync(cpFile, 'utf8')) as {
      shards: Record<string, { ended?: boolean }>
    }
    const now = await kinesis.shards(stream)
    for (const s of now) {
      const closed = s.SequenceNumberRange?.EndingSequenceNumber !== undefined
      expect(final.shards[s.ShardId!]?.ended === true, s.ShardId).toBe(closed)
    }
    // Nothing more to read.
    const [idle] = await store.ingest({ signal: AbortSignal.timeout(1000) })
    expect(idle).toMatchObject({ read: 0 })
    await store.close()
  }, 60_000)

  it("startFrom 'LATEST' skips what was written before the first run", async () => {
    const stream = name('latest')
    await kinesis.createStream(stream, 1)
    const { store } = repo(stream, { startFrom: 'LATEST' })
    await store.apply()
    await put(stream, events(0, 5, 5))
    const ac = new AbortController()
    let read = 0
    const run = store.ingest({
      signal: ac.signal,
      onPartitions: () => {
        // Once reading, write more: only these are read.
        setTimeout(() => put(stream, events(5, 3, 5)), 300)
      },
      onBatch: (e) => {
        read += e.records
        if (read >= 3) ac.abort()
      },
    })
    const timer = setTimeout(() => ac.abort(), 10_000)
    const [summary] = await run
    clearTimeout(timer)
    expect(summary).toMatchObject({ read: 3 })
    await store.close()
  }, 20_000)

  it('backs off on ProvisionedThroughputExceededException and re-gets an expired iterator from the checkpoint: nothing lost, nothing doubled', async () => {
    const stream = name('faults')
    await kinesis.createStream(stream, 1)
    const { store, dir } = repo(stream)
    await store.apply()
    const list = events(0, 100, 10)
    await put(stream, list.slice(0, 50))
    const before = kinesis.injectedFailures
    // More than the SDK's own retries (3 attempts): the consumer's back-off must take over.
    kinesis.failGetRecords(6, 'ProvisionedThroughputExceededException')
    const [first] = await ingestUntil(store, (read) => read >= 50)
    expect(first).toMatchObject({ read: 50, writtenOffline: 50 })
    expect(kinesis.injectedFailures - before).toBe(6)
    await put(stream, list.slice(50))
    kinesis.failGetRecords(5, 'ExpiredIteratorException')
    const [second] = await ingestUntil(store, (read) => read >= 50)
    expect(second).toMatchObject({ read: 50, writtenOffline: 50 })
    expect(kinesis.injectedFailures - before).toBe(11)
    expect(await offlineStats(dir)).toEqual({ rows: 100, positions: 100, events: 100 })
    await store.close()
  }, 30_000)

  it('a missing stream is one clear error naming it and the region, at apply and at ingest', async () => {
    const { store } = repo('no_such_stream')
    await expect(store.apply()).rejects.toThrow(
      /kinesis stream 'no_such_stream' of source 'trips' does not exist in region us-east-1/,
    )
    await store.apply({ skipSourceValidation: true })
    await expect(store.ingest({ signal: AbortSignal.timeout(5000) })).rejects.toThrow(
      /kinesis stream 'no_such_stream' of source 'trips' does not exist in region us-east-1/,
    )
    await store.close()
  })

  it('no credentials in the AWS default chain is one clear error saying where to put them', async () => {
    const saved = { ...process.env }
    for (const k of [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_PROFILE',
    ])
      delete process.env[k]
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(tmpdir(), 'larder-no-such-credentials')
    process.env.AWS_CONFIG_FILE = join(tmpdir(), 'larder-no-such-config')
    try {
      const stream = name('nocreds')
      await kinesis.createStream(stream, 1)
      const { store } = repo(stream)
      const err = await store.apply().then(
        () => undefined,
        (e: unknown) => e as Error,
      )
      expect(err?.message).toMatch(/no AWS credentials for kinesis source 'trips'/)
      expect(err?.message).toMatch(/AWS_ACCESS_KEY_ID/)
      await store.close()
    } finally {
      process.env = saved
    }
  }, 20_000)

  it('rejects bad definitions naming the field', () => {
    const base = {
      name: 'trips',
      streamName: 'drivers',
      region: 'us-east-1',
      format: jsonFormat(),
      timestampField: 'event_timestamp',
      batchSource: fileSource({ name: 'log', path: 'data/log', timestampField: 'event_timestamp' }),
    }
    expect(() => kinesisSource({ ...base, region: '' })).toThrow(/region "" is not an AWS region/)
    expect(() => kinesisSource({ ...base, streamName: 'a b' })).toThrow(/streamName "a b"/)
    expect(() => kinesisSource({ ...base, startFrom: { timestamp: 'soon' } })).toThrow(
      /startFrom.timestamp "soon" is not a time/,
    )
    expect(() => kinesisSource({ ...base, deadLetterStream: 'drivers' })).toThrow(
      /deadLetterStream is the source stream itself/,
    )
    const spec = kinesisSource({
      ...base,
      startFrom: { timestamp: new Date(Date.UTC(2026, 0, 1)) },
    })
    expect(JSON.parse(JSON.stringify(spec))).toMatchObject({
      kind: 'kinesis',
      streamName: 'drivers',
      startFrom: { timestamp: '2026-01-01T00:00:00.000Z' },
      deadLetterPath: 'data/dead-letters/trips.jsonl',
    })
    // The registry holds JSON: a stored spec is checked by the kind as a definition is.
    const stored = JSON.parse(JSON.stringify(spec)) as KinesisSourceSpec
    expect(() => kinesisSourceKind.validate(stored)).not.toThrow()
    expect(() =>
      kinesisSourceKind.validate({ ...stored, startFrom: 'EARLIEST' as 'LATEST' }),
    ).toThrow(/startFrom must be 'TRIM_HORIZON', 'LATEST' or \{ timestamp \}, got "EARLIEST"/)
    expect(() => kinesisSourceKind.validate({ ...stored, region: undefined as never })).toThrow(
      /region undefined is not an AWS region/,
    )
  })
})
