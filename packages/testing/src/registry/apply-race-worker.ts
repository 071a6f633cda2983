/**
 * One "machine" of {@link registryApplyRace}: opens a registry store from a module, plans a
 * repo with one view against it, says `planned`, waits for `go` on stdin, applies, and reports
 * the outcome as one JSON line. Run by the race, not by hand.
 */
import { createInterface } from 'node:readline'
import {
  entity,
  FeatureStore,
  featureView,
  memoryOfflineStore,
  memoryOnlineStore,
  type RegistryStore,
  t,
} from '@larder/core'

const [moduleUrl, factoryName, argJson, viewName, project] = process.argv.slice(2)
if (!moduleUrl || !factoryName || argJson === undefined || !viewName || !project) {
  process.stderr.write('usage: apply-race-worker MODULE_URL FACTORY ARG_JSON VIEW PROJECT\n')
  process.exit(2)
}
const mod = (await import(moduleUrl)) as Record<string, (arg: unknown) => RegistryStore>
const factory = mod[factoryName]
if (typeof factory !== 'function') throw new Error(`${moduleUrl} has no export ${factoryName}`)
const driver = entity({ name: 'driver', joinKeys: ['driver_id'] })
const view = featureView({
  name: viewName,
  entities: [driver],
  schema: { x: t.int64 },
  source: { kind: 'memory', name: `${viewName}_src`, table: 't', timestampField: 'ts' },
})
const store = new FeatureStore({
  repoPath: process.cwd(),
  config: {
    project,
    registry: factory(JSON.parse(argJson)),
    offlineStore: memoryOfflineStore({}),
    onlineStore: memoryOnlineStore(),
  },
  definitions: [driver, view].map((d) => ({ definition: d, origin: 'worker' })),
})
const plan = await store.plan({ skipSourceValidation: true })
process.stdout.write('planned\n')
const rl = createInterface({ input: process.stdin })
for await (const line of rl) {
  if (line.trim() !== 'go') continue
  try {
    const result = await store.apply({ plan })
    process.stdout.write(`${JSON.stringify({ ok: true, version: result.version })}\n`)
  } catch (err) {
    const e = err as { code?: string; message?: string }
    process.stdout.write(`${JSON.stringify({ ok: false, code: e.code, message: e.message })}\n`)
  }
  break
}
rl.close()
await store.close()
