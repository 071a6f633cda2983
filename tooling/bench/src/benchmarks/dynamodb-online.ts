/**
 * `@larder/dynamodb` against the same SDK calls made by hand, on dynalite started in this
 * process on 127.0.0.1 (so every figure is relative: client and emulator share the CPU).
 *
 * (a) fresh writes of 20k rows x 3 features (scale 1) into an empty table: the store's
 *     default (`conditional`: precheck BatchGetItem + one conditional UpdateItem per row,
 *     32 in flight), the store in `check-then-batch` mode, raw conditional UpdateItem calls
 *     (32 in flight), and raw BatchWriteItem of the same items (25 per call, 32 in flight:
 *     the baseline, the fastest way to put items and the one that cannot hold the write rule);
 * (b) re-writing the same rows (every row loses): the default with and without its precheck,
 *     against raw conditional UpdateItem calls that all fail their condition;
 * (c) reads of 100 entities x 50 features: `store.read` vs one raw BatchGetItem with the same
 *     projection. `timesMs` holds every read's latency; p50/p99 are in `extra`.
 */

import type { Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb'
import { type FeatureViewSpec, noopLogger, type OnlineRow, type ValueTypeName } from '@larder/core'
import { type DynamodbOnlineStoreOptions, dynamodbOnlineStore } from '@larder/dynamodb'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { alternate, key, peakRssMb, view } from '../fixtures.js'
import type { BenchContext, Benchmark, BenchResult } from '../types.js'

// dynalite ships no types.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: {
  createTableMs?: number
  deleteTableMs?: number
  updateTableMs?: number
}) => Server

const T0 = 1_700_000_000_000_000n
const CONCURRENCY = 32
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' }

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN
}

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T)
    }),
  )
}

interface Env {
  endpoint: string
  /** Store options (each store gets its own HTTP handler: close() destroys it). */
  options: () => DynamodbOnlineStoreOptions
  client: DynamoDBClient
  projects: number
}

/** A configured store on a new project whose tables exist. */
async function newStore(env: Env, v: FeatureViewSpec, extra: DynamodbOnlineStoreOptions = {}) {
  const store = dynamodbOnlineStore({ ...env.options(), ...extra })
  store.configure({ project: `bench${++env.projects}`, repoPath: '/tmp', logger: noopLogger })
  await store.update({ keep: [v], drop: [], entities: [] })
  return store
}

/** The items the store writes for `rows` (same attribute layout). */
function items(rows: OnlineRow[]): Record<string, AttributeValue>[] {
  return rows.map((r) => ({
    entity_id: { B: r.key },
    event_ts: { N: r.eventTs.toString() },
    conv_rate: { N: String(r.values[0]) },
    acc_rate: { N: String(r.values[1]) },
    trips: { N: String(r.values[2]) },
  }))
}

async function rawBatchWrite(
  client: DynamoDBClient,
  table: string,
  all: Record<string, AttributeValue>[],
) {
  const chunks: WriteRequest[][] = []
  for (let i = 0; i < all.length; i += 25)
    chunks.push(all.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })))
  await pool(chunks, CONCURRENCY, async (requests) => {
    let pending = requests
    while (pending.length > 0) {
      const out = await client.send(
        new BatchWriteItemCommand({ RequestItems: { [table]: pending } }),
      )
      pending = out.UnprocessedItems?.[table] ?? []
    }
  })
}

/** Raw conditional UpdateItem calls, the store's expression; returns rows written. */
async function rawConditional(client: DynamoDBClient, table: string, rows: OnlineRow[]) {
  let written = 0
  await pool(rows, CONCURRENCY, async (r) => {
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { entity_id: { B: r.key } },
          UpdateExpression: 'SET #e = :e, #f0 = :v0, #f1 = :v1, #f2 = :v2 REMOVE #c',
          ConditionExpression: 'attribute_not_exists(#k) OR #e < :e',
          ExpressionAttributeNames: {
            '#k': 'entity_id',
            '#e': 'event_ts',
            '#c': 'created_ts',
            '#f0': 'conv_rate',
            '#f1': 'acc_rate',
            '#f2': 'trips',
          },
          ExpressionAttributeValues: {
            ':e': { N: r.eventTs.toString() },
            ':v0': { N: String(r.values[0]) },
            ':v1': { N: String(r.values[1]) },
            ':v2': { N: String(r.values[2]) },
          },
        }),
      )
      written++
    } catch (err) {
      if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err
    }
  })
  return written
}

type Subject = { name: string; baseline: boolean; run: () => Promise<number> }

/** Runs each subject `runs` times in a rotating order; times in ms. */
async function measure(
  ctx: BenchContext,
  caseName: string,
  n: number,
  subjects: Array<() => Subject | Promise<Subject>>,
): Promise<BenchResult[]> {
  const times = subjects.map(() => [] as number[])
  const names: string[] = []
  const baselines: boolean[] = []
  for (let run = 0; run < ctx.runs; run++) {
    for (let j = 0; j < subjects.length; j++) {
      const i = (j + run) % subjects.length
      const subject = await (subjects[i] as () => Subject | Promise<Subject>)()
      names[i] = subject.name
      baselines[i] = subject.baseline
      const t0 = performance.now()
      const written = await subject.run()
      const dt = performance.now() - t0
      ;(times[i] as number[]).push(dt)
      ctx.log(
        `${caseName}: ${subject.name}: ${dt.toFixed(0)} ms, ${Math.round((n / dt) * 1000)} rows/s (${written} written)`,
      )
    }
  }
  const rss = peakRssMb()
  return times.map((t, i) => {
    const median = [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)] ?? Number.NaN
    return {
      case: caseName,
      subject: names[i] as string,
      baseline: baselines[i] as boolean,
      timesMs: t,
      peakRssMb: rss,
      rows: n,
      extra: { 'rows/s (median)': Math.round((n / median) * 1000) },
    }
  })
}

async function writeCases(env: Env, ctx: BenchContext): Promise<BenchResult[]> {
  const n = Math.max(500, Math.round(20_000 * ctx.scale))
  const stats = view('driver_stats', { conv_rate: 'float32', acc_rate: 'float32', trips: 'int64' })
  const features = ['conv_rate', 'acc_rate', 'trips']
  const rows: OnlineRow[] = Array.from({ length: n }, (_, i) => ({
    key: key(i),
    values: [Math.fround((i % 1000) / 1000), Math.fround((i % 997) / 997), BigInt(i)],
    eventTs: T0 + BigInt(i % 3600) * 1_000_000n,
    createdTs: null,
  }))
  const raw = items(rows)
  const fresh = await measure(ctx, `fresh writeBatch ${n} rows x 3 features`, n, [
    async () => {
      const store = await newStore(env, stats)
      return {
        name: "DynamodbOnlineStore.writeBatch (default: 'conditional', precheck)",
        baseline: false,
        run: async () => {
          const w = await store.writeBatch(stats, features, rows)
          await store.teardown([stats])
          await store.close()
          return w
        },
      }
    },
    async () => {
      const store = await newStore(env, stats, { writeMode: 'check-then-batch' })
      return {
        name: "DynamodbOnlineStore.writeBatch ('check-then-batch')",
        baseline: false,
        run: async () => {
          const w = await store.writeBatch(stats, features, rows)
          await store.teardown([stats])
          await store.close()
          return w
        },
      }
    },
    async () => {
      const store = await newStore(env, stats)
      const table = store.tableName(stats)
      return {
        name: 'raw conditional UpdateItem x 32 in flight',
        baseline: false,
        run: async () => {
          const w = await rawConditional(env.client, table, rows)
          await store.teardown([stats])
          await store.close()
          return w
        },
      }
    },
    async () => {
      const store = await newStore(env, stats)
      const table = store.tableName(stats)
      return {
        name: 'raw BatchWriteItem (25 per call) x 32 in flight',
        baseline: true,
        run: async () => {
          await rawBatchWrite(env.client, table, raw)
          await store.teardown([stats])
          await store.close()
          return n
        },
      }
    },
  ])
  // Re-runs: the table already holds every row; every incoming row loses.
  const loaded = await newStore(env, stats, { writeMode: 'check-then-batch' })
  await loaded.writeBatch(stats, features, rows)
  const table = loaded.tableName(stats)
  const sameProject = { tableNameTemplate: table.replace('driver_stats', '{view}') }
  const rerunStore = (extra: DynamodbOnlineStoreOptions, name: string) => (): Subject => {
    const store = dynamodbOnlineStore({ ...env.options(), ...sameProject, ...extra })
    return {
      name,
      baseline: false,
      run: async () => {
        const w = await store.writeBatch(stats, features, rows)
        await store.close()
        return w
      },
    }
  }
  const rerun = await measure(ctx, `re-write of the same ${n} rows (all lose)`, n, [
    rerunStore({}, "DynamodbOnlineStore.writeBatch (default: 'conditional', precheck)"),
    rerunStore(
      { precheck: false },
      "DynamodbOnlineStore.writeBatch ('conditional', precheck: false)",
    ),
    () => ({
      name: 'raw conditional UpdateItem x 32 in flight (all fail)',
      baseline: true,
      run: () => rawConditional(env.client, table, rows),
    }),
  ])
  await loaded.teardown([stats])
  await loaded.close()
  return [...fresh, ...rerun]
}

async function readCase(env: Env, ctx: BenchContext): Promise<BenchResult[]> {
  const entities = 2_000
  const batch = 100
  const reads = Math.max(100, Math.round(400 * ctx.scale))
  const features = Array.from({ length: 50 }, (_, i) => `f${i}`)
  const wide = view(
    'wide',
    Object.fromEntries(features.map((f) => [f, 'float64' as ValueTypeName])),
  )
  const store = await newStore(env, wide, { writeMode: 'check-then-batch' })
  await store.writeBatch(
    wide,
    features,
    Array.from({ length: entities }, (_, i) => ({
      key: key(i),
      values: features.map((_, j) => i + j / 64),
      eventTs: T0,
      createdTs: null,
    })),
  )
  const table = store.tableName(wide)
  // Each read: 100 distinct entities, scattered.
  const requests = Array.from({ length: reads }, (_, r) =>
    Array.from({ length: batch }, (_, i) => key((r * 7919 + i * 104_729) % entities)),
  )
  const names: Record<string, string> = { '#k': 'entity_id', '#e': 'event_ts' }
  for (const [i, f] of features.entries()) names[`#a${i + 1}`] = f
  const projection = Object.keys(names).join(', ')
  const storeTimes: number[] = []
  const rawTimes: number[] = []
  const runStore = async (out: number[] | undefined) => {
    for (const keys of requests) {
      const t0 = performance.now()
      const got = await store.read(wide, keys, features)
      out?.push(performance.now() - t0)
      if (got.some((v) => v === undefined)) throw new Error('store read missed a row')
    }
  }
  const runRaw = async (out: number[] | undefined) => {
    for (const keys of requests) {
      const t0 = performance.now()
      const got = await env.client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [table]: {
              Keys: keys.map((k) => ({ entity_id: { B: k } })),
              ProjectionExpression: projection,
              ExpressionAttributeNames: names,
            },
          },
        }),
      )
      out?.push(performance.now() - t0)
      if ((got.Responses?.[table]?.length ?? 0) !== batch) throw new Error('raw read missed a row')
    }
  }
  await alternate(ctx.runs, runStore, storeTimes, runRaw, rawTimes)
  await store.teardown([wide])
  await store.close()
  const s = [...storeTimes].sort((a, b) => a - b)
  const r = [...rawTimes].sort((a, b) => a - b)
  const stat = (x: number[]) => ({
    'p50 ms': Number(percentile(x, 50).toFixed(2)),
    'p99 ms': Number(percentile(x, 99).toFixed(2)),
  })
  ctx.log(
    `read 100 x 50: store p50 ${percentile(s, 50).toFixed(2)} ms p99 ${percentile(s, 99).toFixed(2)} ms; raw p50 ${percentile(r, 50).toFixed(2)} ms p99 ${percentile(r, 99).toFixed(2)} ms`,
  )
  const rss = peakRssMb()
  const name = `read 100 entities x 50 features (${reads} reads per run, timesMs per read)`
  return [
    {
      case: name,
      subject: 'DynamodbOnlineStore.read',
      baseline: false,
      timesMs: storeTimes,
      peakRssMb: rss,
      rows: storeTimes.length,
      extra: stat(s),
    },
    {
      case: name,
      subject: 'raw BatchGetItem (same projection)',
      baseline: true,
      timesMs: rawTimes,
      peakRssMb: rss,
      rows: rawTimes.length,
      extra: stat(r),
    },
  ]
}

const benchmark: Benchmark = {
  name: 'dynamodb-online',
  description:
    'DynamoDB online store on in-process dynalite (relative figures): writeBatch of 20k rows x 3 features (scale 1) in both write modes vs raw conditional UpdateItem and raw BatchWriteItem; re-writes with and without the precheck; reads of 100 entities x 50 features vs raw BatchGetItem',
  // 5k rows: conditional writes run at a few hundred per second on dynalite.
  defaultScale: 0.25,
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const env: Env = {
      endpoint,
      options: () => ({
        endpoint,
        region: 'us-east-1',
        credentials: CREDENTIALS,
        clientConfig: { requestHandler: new NodeHttpHandler() },
        concurrency: CONCURRENCY,
      }),
      client: new DynamoDBClient({
        endpoint,
        region: 'us-east-1',
        credentials: CREDENTIALS,
        requestHandler: new NodeHttpHandler(),
      }),
      projects: 0,
    }
    try {
      const writes = await writeCases(env, ctx)
      const reads = await readCase(env, ctx)
      return [...writes, ...reads]
    } finally {
      env.client.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  },
}

export default benchmark
