// The online store conformance suite of @larder/testing, on a file database and in memory.
import { onlineStoreConformance } from '@larder/testing'
import { sqliteOnlineStore } from '../src/index.js'

onlineStoreConformance({ name: 'sqlite (file)', createStore: () => sqliteOnlineStore() })
onlineStoreConformance({
  name: 'sqlite (:memory:)',
  createStore: () => sqliteOnlineStore({ path: ':memory:' }),
})
