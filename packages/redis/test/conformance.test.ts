// The online store conformance suite of @larder/testing, against a real Redis.
import { onlineStoreConformance } from '@larder/testing'
import { describe } from 'vitest'
import { redisOnlineStore } from '../src/index.js'
import { redisUrl } from './service.js'

if (redisUrl) {
  onlineStoreConformance({ name: 'redis', createStore: () => redisOnlineStore({ url: redisUrl }) })
} else {
  describe.skip('online store conformance: redis (no Redis server)', () => {})
}
