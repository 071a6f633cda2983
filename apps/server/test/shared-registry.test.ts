// A registry that cannot be read keeps the last good snapshot serving, and the server says so
// in /health, /health/ready and /metrics (registry_stale), without leaking paths; once the
// registry reads again, the flag clears.
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { formatTime } from '@larder/core'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createFeatureServer, type FeatureServer } from '../src/index.js'
import { HOUR, makeRepo, openStore } from './fixture.js'

let dir: string
let server: FeatureServer

beforeAll(async () => {
  const repo = await makeRepo()
  dir = repo.dir
  const store = openStore(dir)
  await store.materialize(formatTime(repo.base - HOUR), formatTime(repo.base + 10n * HOUR))
  server = await createFeatureServer(store, { port: 0, logger: false, registryTtlSeconds: 0.1 })
}, 60_000)

afterAll(async () => {
  await server?.close()
  rmSync(dir, { recursive: true, force: true })
})

const get = async (path: string) => {
  const res = await fetch(`${server.url}${path}`)
  return { status: res.status, text: await res.text() }
}

async function waitFor(what: string, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000
  while (Date.now() < deadline) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

test('an unreadable registry: reads go on from the last snapshot, and health and metrics say so', async () => {
  const path = join(dir, 'data', 'registry.json')
  const good = readFileSync(path, 'utf8')
  const health = JSON.parse((await get('/health')).text)
  expect(health).toMatchObject({ status: 'ok', registry_stale: false })
  writeFileSync(path, '{ not json')
  try {
    await waitFor(
      'a stale registry',
      async () => JSON.parse((await get('/health')).text).registry_stale,
    )
    const stale = JSON.parse((await get('/health')).text)
    expect(stale.registry_version).toBe(health.registry_version)
    expect(stale.registry_error).toMatch(/not valid JSON/)
    expect(stale.registry_error).not.toContain(dir)
    const ready = await get('/health/ready')
    expect(ready.status).toBe(200)
    expect(JSON.parse(ready.text)).toMatchObject({ status: 'ready', registry_stale: true })
    expect((await get('/metrics')).text).toMatch(/^larder_registry_stale 1$/m)
    // Online reads still answer from the snapshot.
    const res = await fetch(`${server.url}/get-online-features`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        entities: { driver_id: [1001] },
        features: ['driver_hourly_stats:trips'],
      }),
    })
    expect(res.status).toBe(200)
  } finally {
    writeFileSync(path, good)
  }
  await waitFor(
    'a fresh registry',
    async () => !JSON.parse((await get('/health')).text).registry_stale,
  )
  expect((await get('/metrics')).text).toMatch(/^larder_registry_stale 0$/m)
})
