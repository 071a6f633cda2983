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
 *     projection, its items put back in request order and decoded to numbers (the store's
 *     output). `timesMs` holds every read's latency; p50/p99 are in `extra`.
 * Every subject runs in its own process (harness.ts), alternating; dynalite serves from the
 * parent. Timed: the write or read only (tables are created before, dropped after, untimed);
 * raw items are built inside the clock. Check: the table scanned after each write (every
 * item's key, event time and features), the decoded values of every read.
 */

import type { Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  ScanCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb'
import { type FeatureViewSpec, noopLogger, type OnlineRow } from '@larder/core'
import { type DynamodbOnlineStoreOptions, dynamodbOnlineStore } from '@larder/dynamodb'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { Digest } from '../digest.js'
import {
  key,
  STATS_FEATURES,
  stats,
  statsRows,
  WIDE_FEATURES,
  wide,
  wideRows,
} from '../fixtures.js'
import {
  compare,
  latencyExtra,
  rateExtra,
  type SubjectFactory,
  type SubjectRunner,
} from '../harness.js'
import type { BenchContext, Benchmark, BenchResult } from '../types.js'

// dynalite ships no types.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: {
  createTableMs?: number
  deleteTableMs?: number
  updateTableMs?: number
}) => Server

const CONCURRENCY = 32
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' }

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
  /** Project names made unique per worker. */
  prefix: string
  projects: number
}

function envOf(endpoint: string, prefix: string): Env {
  return {
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
    prefix,
    projects: 0,
  }
}

/** A configured store on a new project whose tables exist. */
async function newStore(env: Env, v: FeatureViewSpec, extra: DynamodbOnlineStoreOptions = {}) {
  const store = dynamodbOnlineStore({ ...env.options(), ...extra })
  store.configure({
    project: `bench${env.prefix}x${++env.projects}`,
    repoPath: '/tmp',
    logger: noopLogger,
  })
  await store.update({ keep: [v], drop: [], entities: [] })
  return store
}

const FEATURES = STATS_FEATURES
const READ_ENTITIES = 2_000

/** Every item of a table in key order: key, event time, features (as numbers). */
async function tableCheck(client: DynamoDBClient, table: string) {
  const items: Record<string, AttributeValue>[] = []
  let start: Record<string, AttributeValue> | undefined
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }))
    items.push(...(page.Items ?? []))
    start = page.LastEvaluatedKey
  } while (start)
  const hex = (i: Record<string, AttributeValue>) => Buffer.from(i.entity_id!.B!).toString('hex')
  items.sort((a, b) => (hex(a) < hex(b) ? -1 : 1))
  const d = new Digest()
  for (const i of items)
    d.row([hex(i), i.event_ts?.N, ...FEATURES.map((f) => (i[f]?.N ? Number(i[f].N) : null))])
  return d.result()
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

/** Subjects, each built in its own process. */
export const subjects: Record<string, SubjectFactory> = {
  /** Fresh writes into an empty table, made before and dropped after each run (untimed). */
  freshWrite: ({ endpoint, n, mode, prefix }): SubjectRunner => {
    const env = envOf(endpoint as string, prefix as string)
    const rows = statsRows(n as number)
    let store: Awaited<ReturnType<typeof newStore>> | undefined
    let written = 0
    return {
      async before() {
        store = await newStore(
          env,
          stats,
          mode === 'check-then-batch' ? { writeMode: 'check-then-batch' } : {},
        )
      },
      async run() {
        const table = store!.tableName(stats)
        if (mode === 'raw-batch') {
          await rawBatchWrite(env.client, table, items(rows))
          written = rows.length
        } else if (mode === 'raw-conditional')
          written = await rawConditional(env.client, table, rows)
        else written = await store!.writeBatch(stats, FEATURES, rows)
      },
      async check() {
        if (written !== rows.length) throw new Error(`${mode} wrote ${written} of ${rows.length}`)
        return tableCheck(env.client, store!.tableName(stats))
      },
      async after() {
        await store!.teardown([stats])
        await store!.close()
      },
      close: () => env.client.destroy(),
    }
  },

  /** Re-writes of rows the table already holds (every row loses). */
  rewrite: async ({ endpoint, n, mode, prefix }): Promise<SubjectRunner> => {
    const env = envOf(endpoint as string, prefix as string)
    const rows = statsRows(n as number)
    const loaded = await newStore(env, stats, { writeMode: 'check-then-batch' })
    await loaded.writeBatch(stats, FEATURES, rows)
    const table = loaded.tableName(stats)
    const sameProject = { tableNameTemplate: table.replace('driver_stats', '{view}') }
    let written = 0
    return {
      async run() {
        if (mode === 'raw-conditional') {
          written = await rawConditional(env.client, table, rows)
          return
        }
        const store = dynamodbOnlineStore({
          ...env.options(),
          ...sameProject,
          ...(mode === 'no-precheck' ? { precheck: false } : {}),
        })
        written = await store.writeBatch(stats, FEATURES, rows)
        await store.close()
      },
      async check() {
        if (written !== 0) throw new Error(`${mode} re-wrote ${written} rows that should lose`)
        return tableCheck(env.client, table)
      },
      async close() {
        await loaded.teardown([stats])
        await loaded.close()
        env.client.destroy()
      },
    }
  },

  read: async ({ endpoint, reads, raw, prefix }): Promise<SubjectRunner> => {
    const env = envOf(endpoint as string, prefix as string)
    const store = await newStore(env, wide, { writeMode: 'check-then-batch' })
    await store.writeBatch(wide, WIDE_FEATURES, wideRows(READ_ENTITIES))
    const table = store.tableName(wide)
    // Each read: 100 distinct entities, scattered.
    const requests = Array.from({ length: reads as number }, (_, r) =>
      Array.from({ length: 100 }, (_, i) => key((r * 7919 + i * 104_729) % READ_ENTITIES)),
    )
    const names: Record<string, string> = { '#k': 'entity_id', '#e': 'event_ts' }
    for (const [i, f] of WIDE_FEATURES.entries()) names[`#a${i + 1}`] = f
    const projection = Object.keys(names).join(', ')
    /** The raw read: one BatchGetItem, items put back in request order, numbers decoded. */
    const rawRead = async (keys: Uint8Array[]) => {
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
      const byKey = new Map<string, Record<string, AttributeValue>>()
      for (const item of got.Responses?.[table] ?? [])
        byKey.set(Buffer.from(item.entity_id!.B!).toString('latin1'), item)
      return keys.map((k) => {
        const item = byKey.get(Buffer.from(k).toString('latin1'))
        if (!item) return undefined
        return {
          eventTs: BigInt(item.event_ts!.N!),
          values: WIDE_FEATURES.map((f) => (item[f]?.N === undefined ? null : Number(item[f].N))),
        }
      })
    }
    let d = new Digest()
    return {
      async run() {
        d = new Digest()
        const samplesMs: number[] = []
        for (const keys of requests) {
          const t0 = performance.now()
          const got = raw ? await rawRead(keys) : await store.read(wide, keys, WIDE_FEATURES)
          samplesMs.push(performance.now() - t0)
          for (const v of got) d.row(v ? [v.eventTs, ...v.values] : [null])
        }
        return { samplesMs }
      },
      check: () => d.result(),
      async close() {
        await store.teardown([wide])
        await store.close()
        env.client.destroy()
      },
    }
  },
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
    const n = Math.max(500, Math.round(20_000 * ctx.scale))
    let workers = 0
    const args = (extra: Record<string, unknown>) => ({ endpoint, n, prefix: ++workers, ...extra })
    try {
      const fresh = await compare(ctx, {
        caseName: `fresh writeBatch ${n} rows x 3 features`,
        module: import.meta.url,
        rows: n,
        extra: rateExtra(n),
        subjects: [
          {
            name: "DynamodbOnlineStore.writeBatch (default: 'conditional', precheck)",
            factory: 'freshWrite',
            args: args({ mode: 'conditional' }),
          },
          {
            name: "DynamodbOnlineStore.writeBatch ('check-then-batch')",
            factory: 'freshWrite',
            args: args({ mode: 'check-then-batch' }),
          },
          {
            name: 'raw conditional UpdateItem x 32 in flight',
            factory: 'freshWrite',
            args: args({ mode: 'raw-conditional' }),
          },
          {
            name: 'raw BatchWriteItem (25 per call) x 32 in flight (no write rule)',
            baseline: true,
            factory: 'freshWrite',
            args: args({ mode: 'raw-batch' }),
          },
        ],
      })
      const rerun = await compare(ctx, {
        caseName: `re-write of the same ${n} rows (all lose)`,
        module: import.meta.url,
        rows: n,
        extra: rateExtra(n),
        subjects: [
          {
            name: "DynamodbOnlineStore.writeBatch (default: 'conditional', precheck)",
            factory: 'rewrite',
            args: args({ mode: 'conditional' }),
          },
          {
            name: "DynamodbOnlineStore.writeBatch ('conditional', precheck: false)",
            factory: 'rewrite',
            args: args({ mode: 'no-precheck' }),
          },
          {
            name: 'raw conditional UpdateItem x 32 in flight (all fail)',
            baseline: true,
            factory: 'rewrite',
            args: args({ mode: 'raw-conditional' }),
          },
        ],
      })
      const reads = Math.max(100, Math.round(400 * ctx.scale))
      const read = await compare(ctx, {
        caseName: `read 100 entities x 50 features (${reads} reads per run, timesMs per read)`,
        module: import.meta.url,
        rows: reads,
        unit: 'op',
        extra: latencyExtra,
        subjects: [
          { name: 'DynamodbOnlineStore.read', factory: 'read', args: args({ reads, raw: false }) },
          {
            name: 'raw BatchGetItem (same projection), reordered and decoded',
            baseline: true,
            factory: 'read',
            args: args({ reads, raw: true }),
          },
        ],
      })
      return [...fresh, ...rerun, ...read]
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  },
}

export default benchmark
