// The online store conformance suite of @larder/testing, against a real Redis: with the
// default of many keys per script call, and with one key per call (what Cluster uses).
import { onlineStoreConformance } from '@larder/testing'
import { describe } from 'vitest'
import { redisOnlineStore } from '../src/index.js'
import { redisUrl } from './service.js'

if (redisUrl) {
  onlineStoreConformance({
    name: 'redis',
    createStore: () => redisOnlineStore({ url: redisUrl }),
    keyTtl: {
      createStore: () => redisOnlineStore({ url: redisUrl, keyTtlSeconds: 1 }),
      waitMs: 2100,
    },
  })
  onlineStoreConformance({
    name: 'redis (one key per script call, as on Cluster)',
    createStore: () => redisOnlineStore({ url: redisUrl, keysPerScript: 1, batchSize: 7 }),
    capabilities: { largeBatches: false },
  })
} else {
  describe.skip('online store conformance: redis (no Redis server)', () => {})
}
