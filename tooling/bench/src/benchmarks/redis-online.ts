/**
 * `@larder/redis` against the same ioredis client driven by hand, on the same server:
 * (a) `writeBatch` of 200k rows (scale 1) of a 3-feature view (Lua write rule, pipelined;
 *     100 keys per script call as on standalone, and 1 as on Cluster) vs raw pipelined HSET
 *     of the same fields and bytes, encoded beforehand (target: >= 70% of the raw rate);
 * (b) reads of 100 entities x 50 features via `store.read` (pipelined HMGET + decoding into
 *     JavaScript values) vs the raw pipelined HMGET of the same fields, left undecoded
 *     (target: p99 within 1.5x of raw). `timesMs` of the read cases holds every read's
 *     latency; p50/p99 are in `extra`.
 * Needs Redis: REDIS_URL, else redis://127.0.0.1:6379.
 */
import { noopLogger, type OnlineRow, type ValueTypeName } from '@larder/core'
import {
  encodeTimestamp,
  encodeValue,
  featureFieldName,
  ProtoWriter,
  redisOnlineStore,
} from '@larder/redis'
import { Redis } from 'ioredis'
import { alternate, key, peakRssMb, view } from '../fixtures.js'
import type { BenchContext, Benchmark, BenchResult } from '../types.js'

const T0 = 1_700_000_000_000_000n
const PIPELINE = 1000

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN
}

function encoded(type: ValueTypeName, value: unknown): Buffer {
  const w = new ProtoWriter(64)
  encodeValue(w, type, value)
  return Buffer.from(w.buf.subarray(0, w.pos))
}

function tsBytes(micros: bigint): Buffer {
  const w = new ProtoWriter(16)
  encodeTimestamp(w, micros)
  return Buffer.from(w.buf.subarray(0, w.pos))
}

/** Deletes every key ending with `project`. */
async function dropProject(raw: Redis, project: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await raw.scanBuffer(cursor, 'MATCH', `*${project}`, 'COUNT', 1000)
    cursor = String(next)
    if (keys.length > 0) await raw.del(...keys)
  } while (cursor !== '0')
}

async function writeCase(
  url: string,
  raw: Redis,
  ctx: BenchContext,
  tag: string,
): Promise<BenchResult[]> {
  const n = Math.round(200_000 * ctx.scale)
  const types: Record<string, ValueTypeName> = {
    conv_rate: 'float32',
    acc_rate: 'float32',
    trips: 'int64',
  }
  const stats = view('driver_stats', types)
  const features = Object.keys(types)
  ctx.log(`redis-online: generating ${n} rows`)
  const rows: OnlineRow[] = Array.from({ length: n }, (_, i) => ({
    key: key(i),
    values: [Math.fround((i % 1000) / 1000), Math.fround((i % 997) / 997), BigInt(i)],
    eventTs: T0 + BigInt(i % 3600) * 1_000_000n,
    createdTs: null,
  }))
  // The raw side writes the very same bytes, encoded before the clock starts.
  const project = (run: number, who: string) => `bench_${tag}_${who}_${run}`
  const fieldNames = features.map((f) => featureFieldName(stats.name, f))
  const tsField = Buffer.from(`_ts:${stats.name}`)
  const rawValues = rows.map((r) => [
    tsBytes(r.eventTs),
    ...features.map((f, j) => encoded(types[f]!, r.values[j])),
  ])
  const storeTimes: number[] = []
  const singleTimes: number[] = []
  const rawTimes: number[] = []
  for (let run = 0; run < ctx.runs; run++) {
    const runStore = async (keysPerScript: number, times: number[], who: string) => {
      const store = redisOnlineStore({ url, keysPerScript })
      store.configure({ project: project(run, who), repoPath: '.', logger: noopLogger })
      await store.update({ keep: [stats], drop: [], entities: [] })
      await store.read(stats, [key(0)], features) // connect outside the clock
      const t0 = performance.now()
      const written = await store.writeBatch(stats, features, rows)
      times.push(performance.now() - t0)
      await store.close()
      if (written !== n) throw new Error(`store wrote ${written} of ${n} rows`)
    }
    const runRaw = async () => {
      const suffix = Buffer.from(project(run, 'raw'))
      const t0 = performance.now()
      for (let start = 0; start < n; start += PIPELINE) {
        const pipe = raw.pipeline()
        for (let i = start; i < Math.min(n, start + PIPELINE); i++) {
          const v = rawValues[i]!
          const k = Buffer.concat([rows[i]!.key, suffix])
          pipe.hset(
            k,
            tsField,
            v[0]!,
            fieldNames[0]!,
            v[1]!,
            fieldNames[1]!,
            v[2]!,
            fieldNames[2]!,
            v[3]!,
          )
        }
        for (const [err] of (await pipe.exec()) ?? []) if (err) throw err
      }
      rawTimes.push(performance.now() - t0)
    }
    // Alternate which goes first.
    const subjects = [
      () => runStore(100, storeTimes, 'store'),
      () => runStore(1, singleTimes, 'single'),
      runRaw,
    ]
    if (run % 2 === 1) subjects.reverse()
    for (const subject of subjects) await subject()
    for (const who of ['store', 'single', 'raw']) await dropProject(raw, project(run, who))
    ctx.log(
      `redis-online: write run ${run + 1}: store ${storeTimes.at(-1)?.toFixed(0)} ms, one key per script ${singleTimes.at(-1)?.toFixed(0)} ms, raw ${rawTimes.at(-1)?.toFixed(0)} ms`,
    )
  }
  const rate = (times: number[]) => Math.round(n / (Math.min(...times) / 1000))
  const rss = peakRssMb()
  const name = `writeBatch ${n} rows x 3 features`
  return [
    {
      case: name,
      subject: 'RedisOnlineStore.writeBatch (Lua write rule, 100 keys per script call)',
      baseline: false,
      timesMs: storeTimes,
      peakRssMb: rss,
      rows: n,
      extra: {
        'best rows/s': rate(storeTimes),
        'of raw rate': `${Math.round((100 * Math.min(...rawTimes)) / Math.min(...storeTimes))}%`,
      },
    },
    {
      case: name,
      subject: 'RedisOnlineStore.writeBatch, keysPerScript 1 (the Cluster path)',
      baseline: false,
      timesMs: singleTimes,
      peakRssMb: rss,
      rows: n,
      extra: {
        'best rows/s': rate(singleTimes),
        'of raw rate': `${Math.round((100 * Math.min(...rawTimes)) / Math.min(...singleTimes))}%`,
      },
    },
    {
      case: name,
      subject: 'ioredis pipelined HSET',
      baseline: true,
      timesMs: rawTimes,
      peakRssMb: rss,
      rows: n,
      extra: { 'best rows/s': rate(rawTimes) },
    },
  ]
}

async function readCase(
  url: string,
  raw: Redis,
  ctx: BenchContext,
  tag: string,
): Promise<BenchResult[]> {
  const entities = 10_000
  const batch = 100
  const reads = Math.max(500, Math.round(2_000 * ctx.scale))
  const features = Array.from({ length: 50 }, (_, i) => `f${i}`)
  const wide = view(
    'wide',
    Object.fromEntries(features.map((f) => [f, 'float64' as ValueTypeName])),
  )
  const project = `bench_${tag}_read`
  const store = redisOnlineStore({ url })
  store.configure({ project, repoPath: '.', logger: noopLogger })
  await store.update({ keep: [wide], drop: [], entities: [] })
  const keys = Array.from({ length: entities }, (_, i) => key(i))
  await store.writeBatch(
    wide,
    features,
    keys.map((k, i) => ({
      key: k,
      values: features.map((_, j) => i + j / 64),
      eventTs: T0,
      createdTs: null,
    })),
  )
  const fields = [
    Buffer.from(`_ts:${wide.name}`),
    ...features.map((f) => featureFieldName(wide.name, f)),
  ]
  const suffix = Buffer.from(project)
  const batches = Array.from({ length: reads }, (_, r) =>
    Array.from({ length: batch }, (_, i) => keys[(r * 7919 + i * 101) % entities]!),
  )
  const storeTimes: number[] = []
  const rawTimes: number[] = []
  const runStore = async (out: number[] | undefined) => {
    for (const ks of batches) {
      const t0 = performance.now()
      const values = await store.read(wide, ks, features)
      const dt = performance.now() - t0
      if (values[0] === undefined) throw new Error('store read found nothing')
      out?.push(dt)
    }
  }
  const runRaw = async (out: number[] | undefined) => {
    for (const ks of batches) {
      const t0 = performance.now()
      const pipe = raw.pipeline()
      for (const k of ks) pipe.hmgetBuffer(Buffer.concat([k, suffix]), ...fields)
      const results = (await pipe.exec()) ?? []
      const dt = performance.now() - t0
      const first = results[0]?.[1] as Array<Buffer | null> | undefined
      if (!first?.[0]) throw new Error('raw read found nothing')
      out?.push(dt)
    }
  }
  await alternate(ctx.runs, runStore, storeTimes, runRaw, rawTimes)
  await store.close()
  await dropProject(raw, project)
  const s = [...storeTimes].sort((a, b) => a - b)
  const r = [...rawTimes].sort((a, b) => a - b)
  const ms = (x: number) => Number(x.toFixed(3))
  ctx.log(
    `redis-online: read ${batch} x 50: store p50 ${ms(percentile(s, 50))} ms p99 ${ms(percentile(s, 99))} ms; raw p50 ${ms(percentile(r, 50))} ms p99 ${ms(percentile(r, 99))} ms`,
  )
  const rss = peakRssMb()
  const name = `read ${batch} entities x 50 features (${reads} reads per run, timesMs per read)`
  return [
    {
      case: name,
      subject: 'RedisOnlineStore.read',
      baseline: false,
      timesMs: storeTimes,
      peakRssMb: rss,
      rows: storeTimes.length,
      extra: {
        'p50 ms': ms(percentile(s, 50)),
        'p99 ms': ms(percentile(s, 99)),
        'p99 vs raw': `${(percentile(s, 99) / percentile(r, 99)).toFixed(2)}x`,
      },
    },
    {
      case: name,
      subject: 'ioredis pipelined HMGET (undecoded)',
      baseline: true,
      timesMs: rawTimes,
      peakRssMb: rss,
      rows: rawTimes.length,
      extra: { 'p50 ms': ms(percentile(r, 50)), 'p99 ms': ms(percentile(r, 99)) },
    },
  ]
}

const benchmark: Benchmark = {
  name: 'redis-online',
  description:
    'Redis online store: writeBatch of 200k rows x 3 features vs raw pipelined HSET, and 100 x 50-feature reads vs raw pipelined HMGET',
  defaultScale: 1,
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
    const tag = `${Date.now().toString(36)}_${process.pid}`
    const raw = new Redis(url)
    try {
      const write = await writeCase(url, raw, ctx, tag)
      const read = await readCase(url, raw, ctx, tag)
      return [...write, ...read]
    } finally {
      raw.disconnect()
    }
  },
}

export default benchmark
