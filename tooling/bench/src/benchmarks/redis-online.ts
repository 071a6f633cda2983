/**
 * `@larder/redis` against the same ioredis client driven by hand, on the same server, each
 * subject in its own process (harness.ts), alternating:
 * (a) `writeBatch` of 200k rows (scale 1) of a 3-feature view. Baseline: a raw Lua script
 *     doing plain HSETs (no write rule) with the store's batching: 100 keys per script call,
 *     pipelines of 1,000 keys, one pipeline in flight while the next is encoded; values are
 *     encoded inside the clock on both sides with the same codec (Feast's protobuf bytes).
 *     Also the store with one key per call (what Cluster does). Target: >= 70% of the raw
 *     rate. Check: every key's timestamp and feature fields read back.
 * (b) reads of 100 entities x 50 features: `store.read` (pipelined HMGET + decoding) vs the
 *     raw pipelined HMGET decoded with the same codec. Target: p99 within 1.5x of raw.
 *     Check: every decoded value of every read.
 * Needs Redis: REDIS_URL, else redis://127.0.0.1:6379.
 */
import { createHash } from 'node:crypto'
import { noopLogger, type OnlineRow } from '@larder/core'
import {
  decodeTimestamp,
  decodeValue,
  encodeTimestamp,
  encodeValue,
  featureFieldName,
  ProtoWriter,
  redisOnlineStore,
} from '@larder/redis'
import { Redis } from 'ioredis'
import { Digest, type ResultCheck } from '../digest.js'
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

const PIPELINE = 1000
const PER_CALL = 100
const FEATURES = STATS_FEATURES
const READ_ENTITIES = 10_000

/** Plain HSET of every key's fields (no write rule). ARGV: F, F field names, F values per key. */
const RAW_SCRIPT = `
local nf = tonumber(ARGV[1])
for k = 1, #KEYS do
  local args = {}
  local o = 1 + nf + (k - 1) * nf
  for j = 1, nf do
    args[2 * j - 1] = ARGV[1 + j]
    args[2 * j] = ARGV[o + j]
  end
  redis.call('HSET', KEYS[k], unpack(args))
end
return #KEYS
`

/** Deletes every key ending with `project`. */
async function dropProject(raw: Redis, project: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await raw.scanBuffer(cursor, 'MATCH', `*${project}`, 'COUNT', 1000)
    cursor = String(next)
    if (keys.length > 0) await raw.del(...keys)
  } while (cursor !== '0')
}

/** The stored bytes of `rows` under `project`, in row order (check of a write). */
async function writtenCheck(
  raw: Redis,
  project: string,
  rows: OnlineRow[],
  fields: Buffer[],
): Promise<ResultCheck> {
  const suffix = Buffer.from(project)
  const d = new Digest()
  for (let start = 0; start < rows.length; start += PIPELINE) {
    const pipe = raw.pipeline()
    for (let i = start; i < Math.min(rows.length, start + PIPELINE); i++)
      pipe.hmgetBuffer(Buffer.concat([rows[i]!.key, suffix]), ...fields)
    for (const [err, values] of (await pipe.exec()) ?? []) {
      if (err) throw err
      const found = (values as Array<Buffer | null>).filter((v) => v !== null)
      if (found.length > 0) d.row(values as Array<Buffer | null>)
    }
  }
  return d.result()
}

const writeFields = () => [
  Buffer.from(`_ts:${stats.name}`),
  ...FEATURES.map((f) => featureFieldName(stats.name, f)),
]

/** Subjects, each built in its own process. */
export const subjects: Record<string, SubjectFactory> = {
  storeWrite: ({ url, n, project, keysPerScript }): SubjectRunner => {
    const rows = statsRows(n as number)
    const raw = new Redis(url as string)
    const store = redisOnlineStore({ url: url as string, keysPerScript: keysPerScript as number })
    store.configure({ project: project as string, repoPath: '.', logger: noopLogger })
    let written = 0
    return {
      async before() {
        await dropProject(raw, project as string)
        await store.update({ keep: [stats], drop: [], entities: [] })
        await store.read(stats, [key(0)], FEATURES) // connected outside the clock
      },
      async run() {
        written = await store.writeBatch(stats, FEATURES, rows)
      },
      async check() {
        if (written !== rows.length) throw new Error(`store wrote ${written} of ${rows.length}`)
        return writtenCheck(raw, project as string, rows, writeFields())
      },
      async close() {
        await dropProject(raw, project as string)
        await store.close()
        raw.disconnect()
      },
    }
  },

  rawWrite: async ({ url, n, project }): Promise<SubjectRunner> => {
    const rows = statsRows(n as number)
    const raw = new Redis(url as string)
    const sha = (await raw.script('LOAD', RAW_SCRIPT)) as string
    const suffix = Buffer.from(project as string)
    const fields = writeFields()
    const head = [String(fields.length), ...fields]
    const types = stats.features.map((f) => f.valueType)
    /**
     * Encodes keys [start, end) into script calls of PER_CALL keys and sends one pipeline;
     * calls that meet NOSCRIPT (another client flushed the script cache) go again with EVAL,
     * as the store does.
     */
    const send = async (start: number, end: number, w: ProtoWriter) => {
      const calls: Array<Array<string | Buffer | number>> = []
      const pipe = raw.pipeline()
      for (let from = start; from < end; from += PER_CALL) {
        const to = Math.min(end, from + PER_CALL)
        const keys: Buffer[] = []
        const argv: Array<string | Buffer> = [...head]
        for (let i = from; i < to; i++) {
          const row = rows[i]!
          keys.push(Buffer.concat([row.key, suffix]))
          w.reset()
          encodeTimestamp(w, row.eventTs)
          const bounds = [w.pos]
          for (let j = 0; j < types.length; j++) {
            encodeValue(w, types[j]!, row.values[j] ?? null)
            bounds.push(w.pos)
          }
          const bytes = Buffer.from(w.buf.subarray(0, w.pos))
          let at = 0
          for (const b of bounds) {
            argv.push(bytes.subarray(at, b))
            at = b
          }
        }
        const call = [keys.length, ...keys, ...argv]
        calls.push(call)
        pipe.evalsha(sha, ...(call as [number, ...Buffer[]]))
      }
      const results = (await pipe.exec()) ?? []
      const again = raw.pipeline()
      let retries = 0
      results.forEach(([err], i) => {
        if (!err) return
        if (!String(err.message).startsWith('NOSCRIPT')) throw err
        again.eval(RAW_SCRIPT, ...(calls[i] as [number, ...Buffer[]]))
        retries++
      })
      if (retries > 0) for (const [err] of (await again.exec()) ?? []) if (err) throw err
    }
    return {
      before: () => dropProject(raw, project as string),
      async run() {
        const w = new ProtoWriter(1 << 16)
        let pending: Promise<void> | undefined
        for (let start = 0; start < rows.length; start += PIPELINE) {
          const sent = send(start, Math.min(rows.length, start + PIPELINE), w)
          if (pending) await pending
          pending = sent
        }
        await pending
      },
      check: () => writtenCheck(raw, project as string, rows, fields),
      async close() {
        await dropProject(raw, project as string)
        raw.disconnect()
      },
    }
  },

  storeRead: ({ url, project, reads }): SubjectRunner => {
    const store = redisOnlineStore({ url: url as string })
    store.configure({ project: project as string, repoPath: '.', logger: noopLogger })
    const batches = readBatches(reads as number)
    let d = new Digest()
    return {
      async run() {
        d = new Digest()
        const samplesMs: number[] = []
        for (const ks of batches) {
          const t0 = performance.now()
          const values = await store.read(wide, ks, WIDE_FEATURES)
          samplesMs.push(performance.now() - t0)
          for (const v of values) d.row(v ? [v.eventTs, ...v.values] : [null])
        }
        return { samplesMs }
      },
      check: () => d.result(),
      close: () => store.close(),
    }
  },

  rawRead: ({ url, project, reads }): SubjectRunner => {
    const raw = new Redis(url as string)
    const suffix = Buffer.from(project as string)
    const fields = [
      Buffer.from(`_ts:${wide.name}`),
      ...WIDE_FEATURES.map((f) => featureFieldName(wide.name, f)),
    ]
    const batches = readBatches(reads as number)
    let d = new Digest()
    return {
      async run() {
        d = new Digest()
        const samplesMs: number[] = []
        for (const ks of batches) {
          const t0 = performance.now()
          const pipe = raw.pipeline()
          for (const k of ks) pipe.hmgetBuffer(Buffer.concat([k, suffix]), ...fields)
          const results = (await pipe.exec()) ?? []
          const out = results.map(([err, reply]) => {
            if (err) throw err
            const values = reply as Array<Buffer | null>
            if (!values[0]) return undefined
            const decoded = new Array<unknown>(WIDE_FEATURES.length)
            for (let j = 0; j < decoded.length; j++) {
              const b = values[j + 1]
              decoded[j] = b ? decodeValue(b, 'float64') : null
            }
            return { eventTs: decodeTimestamp(values[0]), values: decoded }
          })
          samplesMs.push(performance.now() - t0)
          for (const v of out) d.row(v ? [v.eventTs, ...v.values] : [null])
        }
        return { samplesMs }
      },
      check: () => d.result(),
      close: () => raw.disconnect(),
    }
  },
}

/** The keys of each read: 100 scattered entities. */
function readBatches(reads: number): Uint8Array[][] {
  const keys = Array.from({ length: READ_ENTITIES }, (_, i) => key(i))
  return Array.from({ length: reads }, (_, r) =>
    Array.from({ length: 100 }, (_, i) => keys[(r * 7919 + i * 101) % READ_ENTITIES]!),
  )
}

const benchmark: Benchmark = {
  name: 'redis-online',
  description:
    'Redis online store: writeBatch of 200k rows x 3 features vs a raw Lua HSET script with the same batching, and 100 x 50-feature reads vs raw pipelined HMGET, decoded alike',
  defaultScale: 1,
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
    const tag = `${Date.now().toString(36)}_${process.pid}_${createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 6)}`
    const n = Math.round(200_000 * ctx.scale)
    const results: BenchResult[] = []
    results.push(
      ...(await compare(ctx, {
        caseName: `writeBatch ${n} rows x 3 features`,
        module: import.meta.url,
        rows: n,
        extra: rateExtra(n),
        subjects: [
          {
            name: 'RedisOnlineStore.writeBatch (Lua write rule, 100 keys per call)',
            factory: 'storeWrite',
            args: { url, n, project: `bench_${tag}_store`, keysPerScript: PER_CALL },
          },
          {
            name: 'RedisOnlineStore.writeBatch, 1 key per call (the Cluster path)',
            factory: 'storeWrite',
            args: { url, n, project: `bench_${tag}_single`, keysPerScript: 1 },
          },
          {
            name: 'raw Lua HSET script, 100 keys per call, same pipelining (no write rule)',
            baseline: true,
            factory: 'rawWrite',
            args: { url, n, project: `bench_${tag}_raw` },
          },
        ],
      })),
    )

    // Reads: the data is written once, untimed.
    const project = `bench_${tag}_read`
    const store = redisOnlineStore({ url })
    store.configure({ project, repoPath: '.', logger: noopLogger })
    // 20 short rounds or more (load from other processes falls on both sides alike).
    const rounds = Math.max(20, ctx.runs)
    const reads = Math.max(25, Math.round((2_000 * ctx.scale) / rounds))
    try {
      await store.update({ keep: [wide], drop: [], entities: [] })
      await store.writeBatch(wide, WIDE_FEATURES, wideRows(READ_ENTITIES))
      results.push(
        ...(await compare(ctx, {
          caseName: `read 100 entities x 50 features (${rounds} rounds of ${reads} reads, timesMs per read)`,
          module: import.meta.url,
          rows: reads,
          unit: 'op',
          minRuns: rounds,
          extra: latencyExtra,
          subjects: [
            { name: 'RedisOnlineStore.read', factory: 'storeRead', args: { url, project, reads } },
            {
              name: 'ioredis pipelined HMGET, decoded with the same codec',
              baseline: true,
              factory: 'rawRead',
              args: { url, project, reads },
            },
          ],
        })),
      )
    } finally {
      const raw = new Redis(url)
      await dropProject(raw, project)
      raw.disconnect()
      await store.close()
    }
    return results
  },
}

export default benchmark
