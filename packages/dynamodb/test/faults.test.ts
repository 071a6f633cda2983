// DynamoDB behind a fault proxy (issue #20, finding 2): a hung endpoint fails within
// requestTimeoutMs (times the SDK's attempts) as BACKEND_UNAVAILABLE, never hangs.
import { isLarderError, noopLogger } from '@larder/core'
import { driverKey, type FaultProxy, startFaultProxy, testView } from '@larder/testing'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { dynamodbOnlineStore } from '../src/index.js'
import { LOCAL_CREDENTIALS, type LocalDynamo, startDynalite } from './dynalite-server.js'

const stats = testView('driver_stats', ['driver'], { conv_rate: 'float64' })
let local: LocalDynamo
let proxy: FaultProxy

beforeAll(async () => {
  local = await startDynalite()
  proxy = await startFaultProxy({ target: local.endpoint })
})
afterAll(async () => {
  await proxy.close()
  await local.close()
})

test('a hung DynamoDB endpoint is BACKEND_UNAVAILABLE within the request timeout', async () => {
  // No requestHandler given: the store's requestTimeoutMs configures the created client's.
  await using store = dynamodbOnlineStore({
    endpoint: proxy.url,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    requestTimeoutMs: 300,
    clientConfig: { maxAttempts: 2 },
  })
  store.configure({
    project: `faults_${Date.now().toString(36)}`,
    repoPath: '.',
    logger: noopLogger,
  })
  await store.update({ keep: [stats], drop: [], entities: [] })
  expect(await store.read(stats, [driverKey(1)], ['conv_rate'])).toEqual([undefined])
  proxy.setMode('hold')
  const began = performance.now()
  try {
    const err = await store.read(stats, [driverKey(1)], ['conv_rate']).catch((e: unknown) => e)
    expect(isLarderError(err, 'BACKEND_UNAVAILABLE')).toBe(true)
    expect(performance.now() - began).toBeLessThan(5000)
  } finally {
    proxy.setMode('pass')
  }
}, 20_000)
