// The online store conformance suite of @larder/testing, in full, on dynalite (in this
// process, on 127.0.0.1), in both write modes. Generous timeouts: client and emulator share
// this process's CPU, and the large-batch case makes 75k conditional writes in the default
// mode (~40 s on an idle 2-core machine, several minutes on a busy one).
import { onlineStoreConformance } from '@larder/testing'
import { afterAll, beforeAll } from 'vitest'
import { type LocalDynamo, localStore, startDynalite } from './dynalite-server.js'

let local: LocalDynamo
beforeAll(async () => {
  local = await startDynalite()
})
afterAll(() => local.close())

onlineStoreConformance({
  name: 'dynamodb (conditional writes, the default)',
  createStore: () => localStore(local),
  timeoutMs: 90_000,
})
onlineStoreConformance({
  name: 'dynamodb (check-then-batch writes)',
  createStore: () => localStore(local, { writeMode: 'check-then-batch' }),
  timeoutMs: 90_000,
})
