/**
 * Property-based fuzz of every route (issue #20): random and mutated JSON bodies, odd
 * headers, sizes and depths, sent through Fastify (`app.inject`) to a real server over a real
 * repo (Parquet + DuckDB offline, SQLite online). Properties: no answer is a 5xx; every
 * error answer is Larder's `{ error: { code, message } }`; no push is partially written (the
 * offline rows grow by exactly what 200 answers report). A fixed seed in CI;
 * `LARDER_PROPERTY_RUNS` and `LARDER_PROPERTY_SEED` for more or other runs.
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { type FeatureStore, formatTime } from '@larder/core'
import { fileOfflineStore } from '@larder/file'
import { propertyRuns, propertySeed } from '@larder/testing'
import fc from 'fast-check'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createFeatureServer, type FeatureServer } from '../src/index.js'
import { HOUR, serveRepo } from './fixture.js'

let dir: string
let base: bigint
let store: FeatureStore
let server: FeatureServer
let served: Awaited<ReturnType<typeof serveRepo>> | undefined
const counter = fileOfflineStore()

beforeAll(async () => {
  served = await serveRepo({ bodyLimit: 64 * 1024 })
  ;({ dir, base, store, server } = served)
}, 60_000)

afterAll(async () => {
  await served?.close()
  await counter.close()
})

async function offlineRows(): Promise<number> {
  const connection = await counter.connect()
  try {
    const path = join(dir, 'data/driver_push.parquet')
    const result = await connection.run(`SELECT count(*)::INTEGER FROM read_parquet('${path}')`)
    return (await result.getRows())[0]![0] as number
  } finally {
    connection.closeSync()
  }
}

const now = () => new Date(Date.now() - 60_000).toISOString()

/** Valid bodies of each route: the starting points of mutations. */
const valid: Record<string, () => Record<string, unknown>> = {
  '/get-online-features': () => ({
    entities: { driver_id: [1001, 1002], bonus: [1, 2] },
    features: ['driver_hourly_stats:conv_rate', 'boosted:boosted_rate'],
    full_feature_names: false,
  }),
  '/push': () => ({
    push_source_name: 'driver_push',
    df: {
      driver_id: [5001],
      event_timestamp: [now()],
      rating: [1.5],
      big: [2],
      payload: ['AAE='],
    },
    to: 'online_and_offline',
  }),
  '/write-to-online-store': () => ({
    feature_view_name: 'driver_hourly_stats',
    df: {
      driver_id: [5002],
      event_timestamp: [now()],
      created: [now()],
      conv_rate: [0.5],
      acc_rate: [0.25],
      trips: [3],
    },
  }),
  '/materialize': () => ({
    start_ts: formatTime(base - HOUR),
    end_ts: formatTime(base + HOUR),
    feature_views: ['driver_hourly_stats'],
  }),
  '/materialize-incremental': () => ({ end_ts: 'now' }),
}
const routes = Object.keys(valid)

/** JSON values that break assumptions: extremes, wrong types, odd strings. */
const nasty = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    null,
    '',
    'NaN',
    'Infinity',
    '-0',
    1e300,
    -1e300,
    2 ** 53 + 2,
    -(2 ** 63),
    '9223372036854775808',
    '2026-02-30T00:00:00Z',
    '2026-11-30T12:00:00+99:00',
    '-029719-04-05T22:13:00Z',
    '\u0000',
    '💥'.repeat(100),
    'driver_hourly_stats:',
    ':',
    '__proto__',
    [],
    {},
    [[[[[[[[[[1]]]]]]]]]],
  ),
)

type Mutation = (body: Record<string, unknown>) => void
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Replace a field or a column (or one of its values) with a nasty value.
  fc.tuple(fc.nat(), fc.nat(), nasty).map(
    ([i, j, v]): Mutation =>
      (body) => {
        const keys = Object.keys(body)
        const key = keys[i % keys.length]!
        const field = body[key]
        if (field && typeof field === 'object' && !Array.isArray(field)) {
          const cols = Object.keys(field)
          const col = cols[j % Math.max(cols.length, 1)]
          if (col !== undefined) {
            const list = (field as Record<string, unknown>)[col]
            if (Array.isArray(list) && list.length > 0 && j % 2 === 0) list[j % list.length] = v
            else (field as Record<string, unknown>)[col] = v
            return
          }
        }
        body[key] = v
      },
  ),
  // Drop a field, add an unknown one.
  fc.nat().map(
    (i): Mutation =>
      (body) => {
        const keys = Object.keys(body)
        delete body[keys[i % keys.length]!]
      },
  ),
  fc.tuple(fc.string({ maxLength: 8 }), nasty).map(
    ([k, v]): Mutation =>
      (body) => {
        body[k] = v
      },
  ),
  // Ragged or long columns.
  fc.integer({ min: 0, max: 3000 }).map(
    (n): Mutation =>
      (body) => {
        const df = (body.df ?? body.entities) as Record<string, unknown[]> | undefined
        if (df && typeof df === 'object') {
          const first = Object.keys(df)[0]
          if (first && Array.isArray(df[first])) df[first] = Array.from({ length: n }, (_, i) => i)
        }
      },
  ),
)

/** One request: a route, a body (mutated valid JSON, random JSON or raw text), headers. */
const request = fc.record({
  method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT'),
  url: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...routes) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('/health', '/health/ready', '/metrics', '/nope', '/push?x=1'),
    },
  ),
  body: fc.oneof(
    { weight: 6, arbitrary: fc.array(mutation, { maxLength: 3 }).map((ms) => ({ ms })) },
    { weight: 2, arbitrary: fc.json({ maxDepth: 4 }).map((text) => ({ text })) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 1, max: 300 }).map((d) => ({
        text: `{"entities": {"driver_id": ${'['.repeat(d)}1${']'.repeat(d)}}}`,
      })),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((text) => ({ text })) },
  ),
  contentType: fc.constantFrom(
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    undefined,
  ),
  idempotent: fc.boolean(),
})

let keys = 0

test('no route answers 5xx to any input, errors keep their shape, pushes are whole', async () => {
  let offlineWritten = 0
  const before = await offlineRows()
  const seen = new Map<number, number>()
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      let payload: string | undefined
      if ('ms' in r.body) {
        const route = valid[r.url] ?? valid['/push']!
        const body = route()
        for (const m of r.body.ms) m(body)
        payload = JSON.stringify(body)
      } else payload = r.body.text
      const headers: Record<string, string> = {}
      if (r.contentType) headers['content-type'] = r.contentType
      if (r.idempotent) headers['idempotency-key'] = `fuzz-${++keys}`
      const res = await server.app.inject({
        method: r.method as 'GET' | 'POST' | 'PUT',
        url: r.url,
        headers,
        ...(r.method !== 'GET' && { payload }),
      })
      seen.set(res.statusCode, (seen.get(res.statusCode) ?? 0) + 1)
      expect(
        res.statusCode,
        `${r.method} ${r.url} ${payload?.slice(0, 300)}\n${res.body}`,
      ).toBeLessThan(500)
      if (res.statusCode >= 400 && r.url !== '/metrics') {
        const json = JSON.parse(res.body) as { error: { code: string; message: string } }
        expect(Object.keys(json)).toEqual(['error'])
        expect(typeof json.error.code).toBe('string')
        expect(json.error.message.length).toBeGreaterThan(0)
      }
      if (res.statusCode === 200 && r.url.startsWith('/push') && r.method === 'POST') {
        offlineWritten += (JSON.parse(res.body) as { offline_rows_written: number })
          .offline_rows_written
      }
    }),
    { numRuns: propertyRuns(250), seed: propertySeed(), endOnFailure: true },
  )
  // Nothing partial: the offline copy grew by exactly what the 200 answers reported.
  expect(await offlineRows()).toBe(before + offlineWritten)
  // The fuzz reached the handlers, not only the parsers.
  expect(seen.get(200) ?? 0).toBeGreaterThan(10)
  expect(seen.get(400) ?? 0).toBeGreaterThan(10)
}, 120_000)
