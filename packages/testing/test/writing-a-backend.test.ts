// The online store of docs/writing-a-backend.md, taken from the document itself (the ts block
// that extends OnlineStoreBase, as the packaging check finds it), passes the online
// conformance suite in full.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { OnlineStore } from '@larder/core'
import { afterAll } from 'vitest'
import { onlineStoreConformance } from '../src/index.js'

const docPath = join(import.meta.dirname, '../../../docs/writing-a-backend.md')
const doc = readFileSync(docPath, 'utf8')
const block = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)]
  .map((m) => m[1])
  .find((code) => code?.includes('extends OnlineStoreBase'))
if (!block) throw new Error(`${docPath}: no ts block with a class extending OnlineStoreBase`)
// Written beside this test so that '@larder/core' resolves as it does for a backend package.
const dir = mkdtempSync(join(import.meta.dirname, '.doc-example-'))
const file = join(dir, 'map-online-store.ts')
writeFileSync(file, block)
const example = (await import(pathToFileURL(file).href)) as {
  MapOnlineStore: new () => OnlineStore
}
afterAll(() => rmSync(dir, { recursive: true, force: true }))

onlineStoreConformance({
  name: 'docs/writing-a-backend.md MapOnlineStore',
  createStore: () => new example.MapOnlineStore(),
})
