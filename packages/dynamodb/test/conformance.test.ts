// The online store conformance suite of @larder/testing, on dynalite (in this process, on
// 127.0.0.1), in both write modes.
import { onlineStoreConformance } from '@larder/testing'
import { afterAll, beforeAll } from 'vitest'
import { type LocalDynamo, localStore, startDynalite } from './dynalite-server.js'

let local: LocalDynamo
beforeAll(async () => {
  local = await startDynalite()
})
afterAll(() => local.close())

onlineStoreConformance({
  name: 'dynamodb (conditional writes)',
  createStore: () => localStore(local),
})
onlineStoreConformance({
  name: 'dynamodb (check-then-batch writes)',
  createStore: () => localStore(local, { writeMode: 'check-then-batch' }),
})
