import { tracingChannel } from 'node:diagnostics_channel'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as arrow from 'apache-arrow'
import { afterEach, describe, expect, test } from 'vitest'
import {
  entity,
  FeatureStore,
  featureView,
  LARDER_CHANNELS,
  MemoryOnlineStore,
  memoryOfflineStore,
  parseTime,
  pushSource,
  t,
  toArrowVector,
} from '../src/index.js'

const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
const source = {
  kind: 'memory',
  name: 'stats',
  table: 'stats',
  timestampField: 'event_timestamp',
}
const stats = featureView({
  name: 'stats',
  entities: [driver],
  schema: { trips: t.int64 },
  source,
})
const push = pushSource({ name: 'stats_push', batchSource: source })
const pushed = featureView({
  name: 'pushed',
  entities: [driver],
  schema: { trips: t.int64 },
  source: push,
})

function table(): arrow.Table {
  return new arrow.Table({
    driver_id: toArrowVector([1n, 2n], 'int64'),
    event_timestamp: toArrowVector(
      [parseTime('2026-01-01T00:00:00Z'), parseTime('2026-01-01T01:00:00Z')],
      'timestamp',
    ),
    trips: toArrowVector([10n, 20n], 'int64'),
  })
}

class FailingReads extends MemoryOnlineStore {
  override async read(): Promise<never> {
    throw new Error('disk on fire')
  }
}

async function openStore(online = new MemoryOnlineStore()) {
  const store = new FeatureStore({
    repoPath: mkdtempSync(join(tmpdir(), 'larder-diag-')),
    config: {
      project: 'diag',
      offlineStore: memoryOfflineStore({ stats: table() }),
      onlineStore: online,
    },
    definitions: [driver, stats, push, pushed].map((d) => ({ definition: d, origin: 'test' })),
    now: () => new Date('2026-01-01T02:00:00Z'),
  })
  await store.apply()
  return store
}

type Event = { kind: string; ctx: Record<string, unknown> }
const unsubscribers: Array<() => void> = []
afterEach(() => {
  for (const u of unsubscribers.splice(0)) u()
})

/** Records start, asyncEnd and error of a channel. */
function record(name: string): Event[] {
  const events: Event[] = []
  const ch = tracingChannel<Record<string, unknown>>(name)
  const handlers = {
    start: (ctx: Record<string, unknown>) => events.push({ kind: 'start', ctx: { ...ctx } }),
    end: () => {},
    asyncStart: () => {},
    asyncEnd: (ctx: Record<string, unknown>) => events.push({ kind: 'asyncEnd', ctx: { ...ctx } }),
    error: (ctx: Record<string, unknown>) => events.push({ kind: 'error', ctx: { ...ctx } }),
  }
  ch.subscribe(handlers)
  unsubscribers.push(() => ch.unsubscribe(handlers))
  return events
}

describe('diagnostics channels', () => {
  test('materialize, online writes and online reads are published with their contexts', async () => {
    const store = await openStore()
    const materialize = record(LARDER_CHANNELS.materialize)
    const writes = record(LARDER_CHANNELS.onlineWrite)
    const reads = record(LARDER_CHANNELS.onlineRead)
    await store.materialize('2026-01-01T00:00:00Z', '2026-01-01T02:00:00Z', { views: ['stats'] })
    expect(materialize.map((e) => e.kind)).toEqual(['start', 'asyncEnd'])
    expect(materialize[1]!.ctx).toMatchObject({
      view: expect.objectContaining({ name: 'stats' }),
      result: expect.objectContaining({ rowsRead: 2, rowsWritten: 2 }),
    })
    expect(writes.at(-1)!.ctx).toMatchObject({ operation: 'materialize', rows: 2, result: 2 })

    await store.push('stats_push', [
      { driver_id: 1, event_timestamp: new Date('2026-01-01T01:30:00Z'), trips: 11 },
    ])
    expect(writes.at(-1)!.ctx).toMatchObject({ operation: 'push', rows: 1, result: 1 })

    const res = await store.getOnlineFeatures({
      entities: { driver_id: [1, 2, 1] },
      features: ['stats:trips'],
    })
    expect(res.toRows().map((r) => r.trips)).toEqual([10n, 20n, 10n])
    expect(reads.map((e) => e.kind)).toEqual(['start', 'asyncEnd'])
    // Duplicate entity rows are read once: two distinct keys.
    expect(reads[1]!.ctx).toMatchObject({ keys: 2, features: ['trips'] })
    expect(reads[1]!.ctx.store).toBe(store.config.onlineStore)
    expect((reads[1]!.ctx.result as unknown[]).length).toBe(2)
  })

  test('a failing read is published on error, and the caller still gets the error', async () => {
    const store = await openStore(new FailingReads())
    const reads = record(LARDER_CHANNELS.onlineRead)
    await expect(
      store.getOnlineFeatures({ entities: { driver_id: [1] }, features: ['stats:trips'] }),
    ).rejects.toThrow('disk on fire')
    expect(reads.map((e) => e.kind)).toEqual(['start', 'error', 'asyncEnd'])
    expect((reads[1]!.ctx.error as Error).message).toBe('disk on fire')
  })

  test('historical retrievals are published with the views joined and the entity row count', async () => {
    const store = await openStore()
    const retrievals = record(LARDER_CHANNELS.retrieval)
    const job = await store.getHistoricalFeatures({
      entityDf: [{ driver_id: 1, event_timestamp: new Date('2026-01-01T00:30:00Z') }],
      features: ['stats:trips'],
    })
    expect((await job.toRows())[0]!.trips).toBe(10n)
    expect(retrievals.map((e) => e.kind)).toEqual(['start', 'asyncEnd'])
    expect(retrievals[0]!.ctx).toMatchObject({ views: ['stats'], entityRows: 1 })
  })

  test('nothing is published to a channel nobody subscribes to', async () => {
    const store = await openStore()
    expect(tracingChannel(LARDER_CHANNELS.onlineRead).hasSubscribers).toBe(false)
    const res = await store.getOnlineFeatures({
      entities: { driver_id: [2] },
      features: ['stats:trips'],
    })
    expect(res.columns[1]!.statuses).toEqual(['NOT_FOUND'])
  })
})
