/**
 * The feature server (`@larder/server`, POST /get-online-features) on SQLite and on Redis (when
 * one is reachable: REDIS_URL or 127.0.0.1:6379) under HTTP load
 * (autocannon), against a baseline in the same run: a minimal Fastify route that does only
 * the same raw store reads (`SqliteOnlineStore.read`) and answers the same JSON.
 *
 * Cases: 1 entity x 50 features and 100 entities x 50 features (10k entities in the table).
 * Each server runs in its own child process (autocannon in this one). Runs are short (2 s)
 * and alternate between subjects, at least 5 per subject, medians reported: on a shared
 * 2-core machine, background load moves single runs by +-50%. Before the runs of a case, both
 * servers answer the case's request once and the answers must be the same JSON. `timesMs` holds wall milliseconds per request of each run (1000 / req/s), so the
 * ratio to the baseline is the inverse throughput ratio. Target: >= 70% of the baseline's
 * throughput (ratio <= 1.43) and p99 within 1.5x.
 *
 * Soak: afterwards the Larder server takes the 1 x 50 load for 30 s x scale while its RSS is
 * sampled every 2 s (first/last/max reported). Five minutes:
 *   pnpm bench server-online --scale 10
 */
import { type ChildProcess, fork } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type AnyDefinition,
  entity,
  FeatureStore,
  type FeatureViewSpec,
  featureView,
  formatTime,
  memoryOfflineStore,
  noopLogger,
  type SourceSpec,
  serializeEntityKey,
  t,
} from '@larder/core'
import { redisOnlineStore } from '@larder/redis'
import { createFeatureServer } from '@larder/server'
import { sqliteOnlineStore } from '@larder/sqlite'
import { findRedis } from '@larder/testing'
import Fastify from 'fastify'
import { Digest, type ResultCheck } from '../digest.js'
import type { BenchContext, Benchmark, BenchResult } from '../types.js'

const ENTITIES = 10_000
const FEATURES = Array.from({ length: 50 }, (_, i) => `f${i}`)
const PROJECT = 'bench_server'
const CONNECTIONS = 16

interface AutocannonResult {
  requests: { average: number; total: number }
  latency: { p50: number; p99: number; average: number }
  duration: number
  non2xx: number
  errors: number
}
type Autocannon = (options: {
  url: string
  method: 'POST'
  headers: Record<string, string>
  body: string
  connections: number
  duration: number
}) => Promise<AutocannonResult>
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

const source: SourceSpec = {
  kind: 'memory',
  name: 'wide_source',
  table: 'wide',
  timestampField: 'event_timestamp',
}
const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
const wide = featureView({
  name: 'wide',
  entities: [driver],
  schema: Object.fromEntries(FEATURES.map((f) => [f, t.float64])),
  source,
})

/** The online stores the server is measured on. */
type Backend = 'sqlite' | 'redis'

function onlineStoreOf(backend: Backend, dir: string) {
  return backend === 'redis'
    ? redisOnlineStore({ url: process.env.LARDER_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379' })
    : sqliteOnlineStore({ path: join(dir, 'online.db') })
}

function openStore(dir: string, definitions: AnyDefinition[], backend: Backend): FeatureStore {
  return new FeatureStore({
    repoPath: dir,
    config: {
      project: PROJECT,
      registry: 'registry.json',
      offlineStore: memoryOfflineStore({}),
      onlineStore: onlineStoreOf(backend, dir),
    },
    definitions: definitions.map((definition) => ({ definition, origin: 'bench' })),
  })
}

/** Child process: serve `mode` on port 0, report the URL, answer RSS probes. */
async function serveChild(mode: string, dir: string, backend: Backend): Promise<void> {
  const send = (m: unknown) => process.send?.(m)
  let close: () => Promise<void>
  let url: string
  if (mode === 'larder') {
    const store = openStore(dir, [], backend)
    const server = await createFeatureServer(store, {
      port: 0,
      logger: false,
      processMetrics: false,
    })
    url = server.url
    close = server.close
  } else {
    // Baseline: only the raw store read and the same JSON answer.
    const store = onlineStoreOf(backend, dir)
    store.configure({ project: PROJECT, repoPath: dir, logger: noopLogger })
    const store0 = openStore(dir, [], backend)
    const view = (await store0.registryIndex()).view('wide') as FeatureViewSpec
    const app = Fastify({ logger: false })
    const zero = formatTime(0n)
    app.post<{ Body: { entities: { driver_id: number[] }; features: string[] } }>(
      '/get-online-features',
      async (request) => {
        const ids = request.body.entities.driver_id
        const features = request.body.features.map((f) => f.slice(f.indexOf(':') + 1))
        const keys = ids.map((id) =>
          serializeEntityKey([{ name: 'driver_id', valueType: 'int64', value: BigInt(id) }]),
        )
        const rows = await store.read(view, keys, features)
        const n = ids.length
        // One event time per row: formatted once per row, shared by its features.
        const times = rows.map((r) => (r ? formatTime(r.eventTs) : zero))
        const statuses = rows.map((r) => (r ? 'PRESENT' : 'NOT_FOUND'))
        const results = [
          {
            values: ids,
            statuses: new Array(n).fill('PRESENT'),
            event_timestamps: new Array(n).fill(zero),
          },
        ]
        for (let j = 0; j < features.length; j++) {
          results.push({
            values: rows.map((r) => r?.values[j] ?? null) as number[],
            statuses,
            event_timestamps: times,
          })
        }
        return { metadata: { feature_names: ['driver_id', ...features] }, results }
      },
    )
    await app.listen({ host: '127.0.0.1', port: 0 })
    const address = app.server.address()
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
    close = async () => {
      await app.close()
      await store.close()
      await store0.close()
    }
  }
  process.on('message', (m: { type: string }) => {
    if (m.type === 'rss') send({ type: 'rss', rss: process.memoryUsage.rss() })
    if (m.type === 'maxrss') send({ type: 'rss', rss: process.resourceUsage().maxRSS * 1024 })
    if (m.type === 'stop') void close().then(() => process.exit(0))
  })
  send({ type: 'ready', url })
}

interface Child {
  process: ChildProcess
  url: string
  rss(): Promise<number>
  /** The process's peak resident set size so far, bytes. */
  maxRss(): Promise<number>
  stop(): Promise<void>
}

function startChild(mode: string, dir: string, backend: Backend): Promise<Child> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    env: {
      ...process.env,
      LARDER_BENCH_SERVER_CHILD: mode,
      LARDER_BENCH_SERVER_DIR: dir,
      LARDER_BENCH_SERVER_BACKEND: backend,
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)))
    child.once('message', (m: { type: string; url: string }) => {
      child.removeAllListeners('exit')
      resolve({
        process: child,
        url: m.url,
        rss: () =>
          new Promise((res) => {
            child.once('message', (r: { rss: number }) => res(r.rss))
            child.send({ type: 'rss' })
          }),
        maxRss: () =>
          new Promise((res) => {
            child.once('message', (r: { rss: number }) => res(r.rss))
            child.send({ type: 'maxrss' })
          }),
        stop: () =>
          new Promise((res) => {
            child.once('exit', () => res())
            child.send({ type: 'stop' })
          }),
      })
    })
  })
}

function body(entities: number, offset: number): string {
  return JSON.stringify({
    entities: {
      driver_id: Array.from({ length: entities }, (_, i) => (offset + i * 97) % ENTITIES),
    },
    features: FEATURES.map((f) => `wide:${f}`),
  })
}

async function load(url: string, payload: string, seconds: number): Promise<AutocannonResult> {
  const r = await autocannon({
    url: `${url}/get-online-features`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: payload,
    connections: CONNECTIONS,
    duration: seconds,
  })
  if (r.non2xx > 0 || r.errors > 0) {
    throw new Error(`${url}: ${r.non2xx} non-2xx answers and ${r.errors} errors under load`)
  }
  return r
}

/** One answer of a server, parsed and re-serialized (key order kept), as a result check. */
async function answer(url: string, payload: string): Promise<ResultCheck> {
  const res = await fetch(`${url}/get-online-features`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: payload,
  })
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}: ${await res.text()}`)
  const json = (await res.json()) as { results: Array<{ values: unknown[] }> }
  const d = new Digest()
  d.text(JSON.stringify(json), json.results[0]?.values.length ?? 0)
  return d.result()
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Alternating autocannon runs of the Larder server and the raw route on one backend. */
async function measure(
  ctx: BenchContext,
  backend: Backend,
  larder: Child,
  raw: Child,
): Promise<BenchResult[]> {
  const runSeconds = 2
  const rounds = Math.max(5, ctx.runs)
  const results: BenchResult[] = []
  for (const entities of [1, 100]) {
    const name = `${backend}: POST /get-online-features ${entities} entit${entities === 1 ? 'y' : 'ies'} x 50 features, ${CONNECTIONS} connections (timesMs = wall ms per request)`
    const payload = body(entities, 17)
    // Both answer the same JSON (checked before anything is timed).
    const [l0, r0] = await Promise.all([answer(larder.url, payload), answer(raw.url, payload)])
    if (l0.digest !== r0.digest || l0.rows !== r0.rows) {
      throw new Error(
        `${name}: the answers differ: larder ${l0.rows} rows, digest ${l0.digest.slice(0, 12)}; baseline ${r0.rows} rows, digest ${r0.digest.slice(0, 12)}`,
      )
    }
    // Warm both (JIT, SQLite page cache).
    await load(larder.url, payload, 1)
    await load(raw.url, payload, 1)
    const runs: Record<'larder' | 'raw', AutocannonResult[]> = { larder: [], raw: [] }
    for (let run = 0; run < rounds; run++) {
      const order = run % 2 === 0 ? (['raw', 'larder'] as const) : (['larder', 'raw'] as const)
      for (const subject of order) {
        const r = await load(subject === 'larder' ? larder.url : raw.url, payload, runSeconds)
        runs[subject].push(r)
        ctx.log(
          `${entities}x50 run ${run + 1} ${subject}: ${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`,
        )
      }
    }
    const figures = (rs: AutocannonResult[]) => ({
      rps: median(rs.map((r) => r.requests.average)),
      p50: median(rs.map((r) => r.latency.p50)),
      p99: median(rs.map((r) => r.latency.p99)),
    })
    const l = figures(runs.larder)
    const b = figures(runs.raw)
    const throughput = l.rps / b.rps
    const p99Ratio = l.p99 / Math.max(b.p99, 0.001)
    results.push(
      {
        case: name,
        subject: '@larder/server',
        baseline: false,
        timesMs: runs.larder.map((r) => 1000 / r.requests.average),
        peakRssMb: (await larder.maxRss()) / 2 ** 20,
        rows: runs.larder.reduce((s, r) => s + r.requests.total, 0),
        extra: {
          'req/s': Math.round(l.rps),
          p50_ms: l.p50,
          p99_ms: l.p99,
          throughput_vs_baseline: +throughput.toFixed(3),
          p99_vs_baseline: +p99Ratio.toFixed(3),
          target: throughput >= 0.7 && p99Ratio <= 1.5 ? 'met' : 'MISSED',
          check: `${l0.rows} rows, digest ${l0.digest.slice(0, 12)}`,
        },
      },
      {
        case: name,
        subject: `Fastify route + ${backend === 'redis' ? 'RedisOnlineStore' : 'SqliteOnlineStore'}.read`,
        baseline: true,
        timesMs: runs.raw.map((r) => 1000 / r.requests.average),
        peakRssMb: (await raw.maxRss()) / 2 ** 20,
        rows: runs.raw.reduce((s, r) => s + r.requests.total, 0),
        extra: { 'req/s': Math.round(b.rps), p50_ms: b.p50, p99_ms: b.p99 },
      },
    )
  }
  return results
}

const bench: Benchmark = {
  name: 'server-online',
  description:
    'Feature server POST /get-online-features on SQLite and Redis (1x50, 100x50) under autocannon vs a minimal Fastify route doing only the raw store reads; plus an RSS soak',
  defaultScale: 1,
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), 'larder-bench-server-'))
    const children: Child[] = []
    const results: BenchResult[] = []
    let larder: Child | undefined
    try {
      const backends: Backend[] = ['sqlite']
      const redis = await findRedis().catch(() => undefined)
      if (redis?.available) {
        process.env.LARDER_BENCH_REDIS_URL = redis.url
        backends.push('redis')
      } else {
        ctx.log(
          'redis: not reachable, the Redis cases are skipped (set REDIS_URL or run redis-server)',
        )
      }
      for (const backend of backends) {
        // Each backend has its own repo folder (registry), so one's teardown leaves the other.
        const repo = join(dir, backend)
        mkdirSync(repo)
        const store = openStore(repo, [driver, wide], backend)
        await store.apply({ skipSourceValidation: true })
        const ts = formatTime(BigInt(Date.now() - 60_000) * 1000n)
        const df: Record<string, unknown[]> = {
          driver_id: Array.from({ length: ENTITIES }, (_, i) => i),
          event_timestamp: new Array(ENTITIES).fill(ts),
        }
        for (const [j, f] of FEATURES.entries()) {
          df[f] = Array.from({ length: ENTITIES }, (_, i) => i + j / 64)
        }
        await store.writeToOnlineStore('wide', df)
        await store.close()
        ctx.log(`wrote ${ENTITIES} entities x ${FEATURES.length} features to ${backend}`)

        const larderChild = await startChild('larder', repo, backend)
        const raw = await startChild('raw', repo, backend)
        children.push(larderChild, raw)
        if (backend === 'sqlite') larder = larderChild
        results.push(...(await measure(ctx, backend, larderChild, raw)))
        if (backend === 'redis') {
          await Promise.allSettled([larderChild.stop(), raw.stop()])
          children.splice(children.indexOf(larderChild), 2)
          const cleanup = openStore(repo, [], backend)
          await cleanup.teardown()
          await cleanup.close()
        }
      }
      if (!larder) throw new Error('no SQLite server to soak')
      const soaked: Child = larder

      // Soak: steady load on the Larder server, RSS sampled every 2 s.
      const soakSeconds = Math.max(4, Math.round(30 * ctx.scale))
      ctx.log(`soak: ${soakSeconds} s of 1x50 load, RSS every 2 s`)
      const samples: number[] = [await soaked.rss()]
      const sampler = setInterval(() => {
        void soaked.rss().then((r) => samples.push(r))
      }, 2000)
      const soak = await load(soaked.url, body(1, 3), soakSeconds).finally(() =>
        clearInterval(sampler),
      )
      samples.push(await soaked.rss())
      const mb = (b: number) => +(b / 2 ** 20).toFixed(1)
      ctx.log(
        `soak: ${soak.requests.total} requests, RSS first ${mb(samples[0]!)} MB, last ${mb(samples.at(-1)!)} MB, max ${mb(Math.max(...samples))} MB`,
      )
      results.push({
        case: `soak ${soakSeconds} s, 1 entity x 50 features`,
        subject: '@larder/server',
        baseline: false,
        timesMs: [1000 / soak.requests.average],
        peakRssMb: mb(Math.max(...samples)),
        rows: soak.requests.total,
        extra: {
          'req/s': Math.round(soak.requests.average),
          p50_ms: soak.latency.p50,
          p99_ms: soak.latency.p99,
          rss_first_mb: mb(samples[0]!),
          rss_last_mb: mb(samples.at(-1)!),
          rss_max_mb: mb(Math.max(...samples)),
          rss_samples: samples.length,
        },
      })
      return results
    } finally {
      await Promise.allSettled(children.map((c) => c.stop()))
      rmSync(dir, { recursive: true, force: true })
    }
  },
}

export default bench

const childMode = process.env.LARDER_BENCH_SERVER_CHILD
if (childMode && process.send) {
  await serveChild(
    childMode,
    process.env.LARDER_BENCH_SERVER_DIR ?? '.',
    (process.env.LARDER_BENCH_SERVER_BACKEND as Backend | undefined) ?? 'sqlite',
  )
}
