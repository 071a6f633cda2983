// Core's ingestion pipeline with the real memory stores, fed by a scripted consumer that
// delivers raw records the way a broker client does and records what gets committed.

import { tracingChannel } from 'node:diagnostics_channel'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  type AnyDefinition,
  attachStreamRuntime,
  type DeadLetter,
  type DecodedRow,
  defineConfig,
  entity,
  FeatureStore,
  type IngestBatchContext,
  LARDER_CHANNELS,
  type LarderConfig,
  memoryOfflineStore,
  memoryOnlineStore,
  type OnlineRow,
  type OnlineWriteContext,
  recordError,
  type SourceSpec,
  type StoredViewSpec,
  type StreamBatch,
  type StreamConnector,
  StreamConsumerBase,
  StreamDecoderBase,
  type StreamFormat,
  type StreamHandlers,
  streamFeatureView,
  t,
} from '../src/index.js'

class JsonDecoder extends StreamDecoderBase {
  async decode(value: Uint8Array): Promise<DecodedRow> {
    try {
      return JSON.parse(Buffer.from(value).toString('utf8')) as DecodedRow
    } catch {
      throw recordError('json', 'not JSON')
    }
  }
}
const json: StreamFormat = {
  spec: { kind: 'json' },
  createDecoder: () => new JsonDecoder(),
  describe: async () => undefined,
}

/** Delivers `values` of partition 0 in batches of `size`; records commits and dead letters. */
class ScriptedConsumer extends StreamConsumerBase {
  readonly name = 'scripted'
  readonly committed: string[] = []
  readonly letters: DeadLetter[] = []
  constructor(
    readonly values: string[],
    readonly size: number,
    readonly done: () => void,
  ) {
    super()
  }
  async start(handlers: StreamHandlers): Promise<void> {
    handlers.onAssigned?.(['0'])
    void (async () => {
      for (let i = 0; i < this.values.length; i += this.size) {
        const chunk = this.values.slice(i, i + this.size)
        const batch: StreamBatch = {
          stream: 'events',
          partition: '0',
          records: chunk.map((v, j) => ({
            key: null,
            value: Buffer.from(v),
            headers: [],
            partition: '0',
            position: String(i + j),
            timestamp: null,
          })),
          commit: async () => {
            this.committed.push(String(i + chunk.length - 1))
          },
        }
        await handlers.onBatch(batch)
      }
      this.done()
    })()
  }
  async deadLetter(letters: readonly DeadLetter[]): Promise<void> {
    this.letters.push(...letters)
  }
  async close(): Promise<void> {}
}

/** An online store that fails its first `failures` writes (a backend fault), then works. */
function flakyOnline(failures: number) {
  const store = memoryOnlineStore()
  const write = store.writeBatch.bind(store)
  let left = failures
  store.writeBatch = async (view: StoredViewSpec, features: string[], rows: OnlineRow[]) => {
    if (left-- > 0) throw new Error('online store down')
    return write(view, features, rows)
  }
  return store
}

function setup(
  values: string[],
  opts: {
    size?: number
    online?: LarderConfig['onlineStore']
    writeTo?: 'online' | 'offline' | 'online_and_offline'
    connector?: boolean
  } = {},
) {
  let finish!: () => void
  const finished = new Promise<void>((r) => {
    finish = r
  })
  let consumer: ScriptedConsumer | undefined
  const connector: StreamConnector = {
    kind: 'scripted',
    createConsumer: () => {
      consumer = new ScriptedConsumer(values, opts.size ?? 2, finish)
      return consumer
    },
  }
  const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
  const source = {
    kind: 'scripted',
    name: 'events',
    timestampField: 'ts',
    fieldMapping: { n: 'trips' },
    format: json.spec,
    batchSource: { kind: 'memory', name: 'events_log', timestampField: 'ts' },
  } as SourceSpec
  if (opts.connector !== false) attachStreamRuntime(source, { connector, format: json })
  const view = streamFeatureView({
    name: 'trips',
    entities: [driver],
    schema: { trips: t.int64 },
    source,
    writeTo: opts.writeTo ?? 'online',
  })
  const definitions: AnyDefinition[] = [driver, view]
  const store = new FeatureStore({
    repoPath: mkdtempSync(join(tmpdir(), 'larder-ingest-')),
    config: defineConfig({
      project: 'p',
      offlineStore: memoryOfflineStore(),
      onlineStore: opts.online ?? memoryOnlineStore(),
    }),
    definitions: definitions.map((d) => ({ definition: d, origin: 'test' })),
  })
  return { store, finished, consumer: () => consumer! }
}

const ev = (driver: number, minute: number, n: unknown) =>
  JSON.stringify({
    driver_id: driver,
    ts: `2026-01-01T00:${String(minute).padStart(2, '0')}:00Z`,
    n,
  })

describe('ingestion pipeline', () => {
  it('retries a failed write and commits each batch only after it is written', async () => {
    const values = [ev(1, 1, 1), ev(1, 3, 3), ev(1, 2, 2), 'garbage', ev(2, 1, 'x')]
    const { store, finished, consumer } = setup(values, { online: flakyOnline(2) })
    await store.apply({ skipSourceValidation: true })
    const traced: IngestBatchContext[] = []
    const channel = tracingChannel<IngestBatchContext>(LARDER_CHANNELS.ingest)
    const subscriber = {
      start: () => {},
      end: () => {},
      asyncStart: () => {},
      asyncEnd: (ctx: IngestBatchContext) => traced.push(ctx),
      error: () => {},
    }
    channel.subscribe(subscriber)
    const writes: string[] = []
    const writeChannel = tracingChannel<OnlineWriteContext>(LARDER_CHANNELS.onlineWrite)
    const writeSubscriber = {
      ...subscriber,
      asyncEnd: (c: OnlineWriteContext) => writes.push(c.operation),
    }
    writeChannel.subscribe(writeSubscriber)
    const ac = new AbortController()
    const run = store.ingest({ signal: ac.signal })
    await finished
    ac.abort()
    const [summary] = await run
    channel.unsubscribe(subscriber)
    writeChannel.unsubscribe(writeSubscriber)
    // Batch 1: two failed attempts and the write; batch 2: one write (its row loses); batch 3: none.
    expect(writes).toEqual(['ingest', 'ingest', 'ingest', 'ingest'])
    expect(
      traced.map((c) => [c.view, c.records, c.result?.rowsWritten, c.result?.deadLettered]),
    ).toEqual([
      ['trips', 2, 1, 0],
      ['trips', 2, 0, 1],
      ['trips', 1, 0, 1],
    ])
    expect(summary).toEqual({
      view: 'trips',
      read: 5,
      writtenOnline: 1, // the newest event of key 1 in its batch; the older one is not sent
      writtenOffline: 0,
      deadLettered: 2,
      late: 0,
      batches: 3,
    })
    expect(consumer().committed).toEqual(['1', '3', '4'])
    expect(consumer().letters.map((l) => [l.record.position, l.code])).toEqual([
      ['3', 'DECODE_ERROR'],
      ['4', 'INVALID_RECORD'],
    ])
    expect(consumer().letters[1]!.error).toMatch(/feature 'trips'/)
    const online = await store.getOnlineFeatures({
      entities: { driver_id: [1] },
      features: ['trips:trips'],
    })
    expect(online.toRows()).toEqual([{ driver_id: 1n, trips: 3n }])
  })

  it('refuses what it cannot do with one clear error', async () => {
    const offline = setup([], { writeTo: 'online_and_offline' })
    await offline.store.apply({ skipSourceValidation: true })
    await expect(offline.store.ingest({ signal: AbortSignal.timeout(100) })).rejects.toThrow(
      /offline store 'memory' cannot append rows/,
    )
    const none = setup([], { connector: false })
    await none.store.apply({ skipSourceValidation: true })
    await expect(none.store.ingest({ signal: AbortSignal.timeout(100) })).rejects.toThrow(
      /no connector for 'scripted' source 'events'/,
    )
    await expect(none.store.ingest({ views: ['nope'] })).rejects.toThrow(
      /stream feature view 'nope' is not registered/,
    )
  })

  it('checks the streams section of the config', () => {
    const base = {
      project: 'p',
      offlineStore: memoryOfflineStore(),
      onlineStore: memoryOnlineStore(),
    }
    expect(() =>
      defineConfig({ ...base, streams: { connectors: [{} as StreamConnector] } }),
    ).toThrow(/streams.connectors\[0\] is not a stream connector/)
    const c: StreamConnector = { kind: 'kafka', createConsumer: () => undefined as never }
    expect(() => defineConfig({ ...base, streams: { connectors: [c, c] } })).toThrow(
      /two connectors for 'kafka' sources/,
    )
  })
})
