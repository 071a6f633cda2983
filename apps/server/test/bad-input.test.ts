/**
 * Issue #20's bad-input findings, each reproduced against a real server over a real repo
 * (Parquet + DuckDB offline, SQLite online): every one must be a 4xx naming the problem,
 * never a 500, never a silent shift of the data.
 */
import { rmSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { type FeatureStore, formatTime } from '@larder/core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createFeatureServer, type FeatureServer } from '../src/index.js'
import { serveRepo } from './fixture.js'

let dir: string
let base: bigint
let store: FeatureStore
let server: FeatureServer
let served: Awaited<ReturnType<typeof serveRepo>> | undefined

beforeAll(async () => {
  served = await serveRepo({})
  ;({ dir, base, store, server } = served)
}, 60_000)

afterAll(async () => {
  await served?.close()
})

async function post(path: string, body: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, json: JSON.parse(text) }
}

async function expect400(path: string, body: unknown, message: RegExp) {
  const a = await post(path, body)
  expect({ status: a.status, code: a.json.error?.code }).toEqual({
    status: 400,
    code: 'INVALID_INPUT',
  })
  expect(a.json.error.message).toMatch(message)
}

const features = ['driver_hourly_stats:conv_rate']
const pushRow = (over: Record<string, unknown[]> = {}) => ({
  push_source_name: 'driver_push',
  df: {
    driver_id: [9101],
    event_timestamp: [new Date(Date.now() - 5000).toISOString()],
    rating: [1],
    big: [1],
    payload: ['AA=='],
    ...over,
  },
  to: 'online',
})

/** `[[[...1...]]]` nested `depth` deep, as JSON text. */
const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`

describe('finding 3: deeply nested JSON is a 400, not a 500', () => {
  test('in entities, push columns, request data and write-to-online-store', async () => {
    const deep = nested(5000)
    await expect400(
      '/get-online-features',
      `{"entities": {"driver_id": [${deep}]}, "features": ["driver_hourly_stats:conv_rate"]}`,
      /nests objects and lists more than 32 deep/,
    )
    await expect400(
      '/push',
      `{"push_source_name": "driver_push", "df": {"driver_id": [${deep}]}}`,
      /more than 32 deep/,
    )
    await expect400(
      '/get-online-features',
      `{"entities": {"driver_id": [1], "bonus": [${deep}]}, "features": ["boosted:boosted_rate"]}`,
      /more than 32 deep/,
    )
  })

  test('nesting under the limit is checked as a value and named, never thrown raw', async () => {
    await expect400(
      '/get-online-features',
      `{"entities": {"driver_id": [${nested(28)}]}, "features": ["driver_hourly_stats:conv_rate"]}`,
      /join key 'driver_id', row 0: expected int64, got \[\[\[/,
    )
    await expect400(
      '/push',
      pushRow({ rating: [JSON.parse(nested(28))] }),
      /column 'rating', row 0: expected float64/,
    )
  })
})

describe('finding 4: UTC offsets beyond ±18:00 are refused, not applied', () => {
  test('materialize and push', async () => {
    await expect400(
      '/materialize',
      { start_ts: '2026-11-29T12:00:00Z', end_ts: '2026-11-30T12:00:00+99:00' },
      /\+99:00, beyond ±18:00/,
    )
    await expect400(
      '/push',
      pushRow({ event_timestamp: ['2026-11-30T12:00:00+99:00'] }),
      /event_timestamp.*\+99:00, beyond ±18:00/,
    )
    await expect400(
      '/push',
      pushRow({ event_timestamp: ['2026-11-30T12:00:00+05:75'] }),
      /beyond ±18:00/,
    )
    // The widest real offsets still work.
    const ok = await post('/push', pushRow({ event_timestamp: ['2026-11-30T12:00:00+14:00'] }))
    expect(ok.status).toBe(200)
  })
})

describe('finding 6: float32 overflow is refused', () => {
  test('1e300 into a float32 feature is a 400 naming the column', async () => {
    await expect400(
      '/write-to-online-store',
      {
        feature_view_name: 'driver_hourly_stats',
        df: {
          driver_id: [9102],
          event_timestamp: [new Date().toISOString()],
          conv_rate: [1e300],
          acc_rate: [0.5],
          trips: [1],
        },
      },
      /column 'conv_rate', row 0: expected float32, got 1e\+300 \(beyond the float32 range/,
    )
    const read = await post('/get-online-features', { entities: { driver_id: [9102] }, features })
    expect(read.json.results[1].statuses).toEqual(['NOT_FOUND'])
  })
})

describe('finding 12: input that was accepted silently', () => {
  test('an unknown entity column is a 400 naming it and the columns that are used', async () => {
    await expect400(
      '/get-online-features',
      { entities: { driver_id: [1001], zzz: [1] }, features },
      /column\(s\) 'zzz' that no requested feature uses: .*'driver_id'/,
    )
    // Request data of a requested on-demand view is used, so it is fine.
    const ok = await post('/get-online-features', {
      entities: { driver_id: [1001], bonus: [1] },
      features: ['boosted:boosted_rate'],
    })
    expect(ok.status).toBe(200)
  })

  test('a key given twice in one object is a 400', async () => {
    await expect400(
      '/get-online-features',
      '{"entities": {"driver_id": [1001]}, "features": ["driver_hourly_stats:conv_rate"], "features": []}',
      /JSON key 'features' appears twice/,
    )
    await expect400(
      '/push',
      '{"push_source_name": "driver_push", "df": {"driver_id": [1], "driver_\\u0069d": [2]}}',
      /JSON key 'driver_id' appears twice/,
    )
    // The same key in two different objects is fine.
    const ok = await post(
      '/get-online-features',
      '{"entities": {"driver_id": [1001]}, "features": ["driver_hourly_stats:conv_rate"], "x": {"driver_id": 1}}',
    )
    expect(ok.json.error.message).toMatch(/unknown field 'x'/)
  })

  test('times outside the years 0001..9999 are refused (RFC 3339 cannot show them)', async () => {
    await expect400(
      '/push',
      pushRow({ event_timestamp: [-1e12] }),
      /event_timestamp.*years 0001 to 9999/,
    )
    await expect400('/push', pushRow({ event_timestamp: [1e300] }), /years 0001 to 9999/)
  })
})

/** Sends raw bytes and returns the raw answer (for requests fetch refuses to send). */
function raw(request: string): Promise<string> {
  const { port } = new URL(server.url)
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(port) })
    let answer = ''
    socket.on('data', (chunk) => {
      answer += chunk.toString()
    })
    socket.on('end', () => resolve(answer))
    socket.on('error', reject)
    socket.write(request)
  })
}

function bodyOf(answer: string): { error: { code: string; message: string } } {
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))
}

describe("finding 11: Node's own HTTP errors answer in Larder's error shape", () => {
  test('a 20 KB URL is 431 and a wrong Content-Length is 400, both { error: { code, message } }', async () => {
    const long = await raw(`GET /health?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`)
    expect(long).toMatch(/^HTTP\/1\.1 431 /)
    expect(bodyOf(long).error).toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/headers are larger than the server accepts/),
    })
    const bad = await raw('POST /push HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}')
    expect(bad).toMatch(/^HTTP\/1\.1 400 /)
    expect(bodyOf(bad).error.message).toMatch(/malformed HTTP request/)
    expect(Object.keys(bodyOf(bad))).toEqual(['error'])
  })
})

describe('finding 7: error bodies name repo-relative paths', () => {
  test('a push to a missing single-file source is 404 naming data/..., not the absolute folder', async () => {
    rmSync(join(dir, 'data/driver_push.parquet'))
    const a = await post('/push', { ...pushRow(), to: 'offline' })
    expect(a.status).toBe(404)
    expect(a.json.error.message).toMatch(/file 'data\/driver_push\.parquet' does not exist/)
    expect(JSON.stringify(a.json)).not.toContain(dir)
  })
})

describe('finding 8: server options are checked', () => {
  test('out-of-range numbers are INVALID_CONFIG naming the option', async () => {
    const bad: Array<[Record<string, number>, RegExp]> = [
      [{ registryTtlSeconds: 0 }, /registryTtlSeconds is 0; .* from 0.1 to 86400/],
      [{ bodyLimit: 1e99 }, /bodyLimit is 1e\+99/],
      [{ maxEntityRows: -5 }, /maxEntityRows is -5/],
      [{ requestTimeoutMs: Number.NaN }, /requestTimeoutMs is NaN/],
      [{ port: 70_000 }, /port is 70000/],
    ]
    for (const [options, message] of bad) {
      await expect(createFeatureServer(store, { ...options, logger: false })).rejects.toThrow(
        message,
      )
    }
  })
})
