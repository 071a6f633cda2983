// The online store conformance suite of @larder/testing, on dynalite (in this process, on
// 127.0.0.1), in both write modes. Every case runs in both. The large-batch case of the
// default 'conditional' mode writes 10k rows instead of 50k: against an in-process dynalite a
// conditional UpdateItem costs ~3 ms of this process's CPU (SDK + emulator), so 50k + 25k
// conditional writes would take about four minutes; 'check-then-batch' runs the full 50k.
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
  largeBatch: { writeRows: 10_000, readKeys: 5_000 },
  timeoutMs: 60_000,
})
onlineStoreConformance({
  name: 'dynamodb (check-then-batch writes)',
  createStore: () => localStore(local, { writeMode: 'check-then-batch' }),
  timeoutMs: 60_000,
})
