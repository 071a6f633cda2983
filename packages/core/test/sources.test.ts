import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import {
  checkSource,
  entity,
  FeatureStore,
  featureView,
  isLarderError,
  type LarderError,
  memoryOfflineStore,
  memoryOnlineStore,
  memorySourceKind,
  type SourceKind,
  type SourceSpec,
  sourceKindNames,
  t,
} from '../src/index.js'

interface TableSource extends SourceSpec {
  kind: 'memory'
  table: string
}

/** A kind that counts its calls, to see who calls it. */
function countingKind(): SourceKind<TableSource> & { calls: number } {
  return {
    kind: 'memory',
    calls: 0,
    validate(spec) {
      this.calls++
      memorySourceKind.validate(spec)
    },
  }
}

function errorOf(fn: () => unknown): LarderError {
  try {
    fn()
  } catch (err) {
    if (isLarderError(err)) return err
    throw err
  }
  throw new Error('expected a LarderError')
}

const driver = entity({ name: 'driver', joinKeys: ['driver_id'], valueType: t.int64 })
const good: TableSource = {
  kind: 'memory',
  name: 'stats',
  table: 'stats',
  timestampField: 'event_timestamp',
}

describe('checkSource: common fields in core, own fields in the kind', () => {
  test('common fields are checked by core and named after the backend', () => {
    const kind = countingKind()
    const err = errorOf(() => checkSource({ ...good, timestampField: '' }, kind))
    expect(err.code).toBe('INVALID_DEFINITION')
    expect(err.message).toMatch(
      /^\[larder\] \[memory\] memory source 'stats': timestampField is required/,
    )
    expect(kind.calls).toBe(0)
    expect(errorOf(() => checkSource({ ...good, datePartitionColumn: '' }, kind)).message).toMatch(
      /datePartitionColumn must be a column name/,
    )
    expect(
      errorOf(() => checkSource({ ...good, fieldMapping: { a: 'x', b: 'x' } }, kind)).message,
    ).toMatch(/fieldMapping maps both 'a' and 'b' to 'x'/)
  })

  test("then the kind's own validate runs; a spec of another kind is refused", () => {
    const kind = countingKind()
    checkSource(good, kind)
    expect(kind.calls).toBe(1)
    expect(errorOf(() => checkSource({ ...good, table: '' }, kind)).message).toMatch(
      /memory source 'stats' has no table/,
    )
    expect(
      errorOf(() => checkSource({ ...good, kind: 'file' } as unknown as TableSource, kind)).message,
    ).toMatch(/source 'stats' has kind 'file', not 'memory'/)
  })
})

function openStore(definitions: unknown[], dir = mkdtempSync(join(tmpdir(), 'larder-src-'))) {
  const kind = countingKind()
  const offline = memoryOfflineStore()
  Object.defineProperty(offline, 'sourceKinds', { value: [kind] })
  const store = new FeatureStore({
    repoPath: dir,
    config: { project: 'src', offlineStore: offline, onlineStore: memoryOnlineStore() },
    definitions: definitions.map((d) => ({ definition: d as never, origin: 'test' })),
  })
  return { store, kind, dir }
}

describe('stores expose SourceKind objects; core calls them on plan and on registry load', () => {
  test('a memory store lists its kind as an object', () => {
    expect(memoryOfflineStore().sourceKinds).toEqual([memorySourceKind])
    expect(sourceKindNames(memoryOfflineStore())).toEqual(['memory'])
  })

  test("plan checks each view's source with the store's kind, even when skipping source reads", async () => {
    const bad = featureView({
      name: 'bad',
      entities: [driver],
      schema: { trips: t.int64 },
      source: { ...good, table: '' },
    })
    const { store, kind } = openStore([driver, bad])
    const err = await store.plan({ skipSourceValidation: true }).catch((e: unknown) => e)
    expect(isLarderError(err, 'INVALID_DEFINITION')).toBe(true)
    expect((err as Error).message).toMatch(
      /plan: feature view 'bad': memory source 'stats' has no table/,
    )
    expect(kind.calls).toBe(1)
  })

  test('a stored spec edited by hand fails on load, naming the registry file and the view', async () => {
    const view = featureView({
      name: 'stats',
      entities: [driver],
      schema: { trips: t.int64 },
      source: good,
    })
    const { store, dir } = openStore([driver, view])
    await store.apply({ skipSourceValidation: true })
    const path = join(dir, 'data/registry.json')
    const data = JSON.parse(readFileSync(path, 'utf8'))
    data.featureViews[0].source.createdTimestampColumn = 'event_timestamp'
    writeFileSync(path, JSON.stringify(data))
    const reopened = openStore([], dir)
    const err = await reopened.store
      .getOnlineFeatures({ entities: { driver_id: [1] }, features: ['stats:trips'] })
      .catch((e: unknown) => e)
    expect(isLarderError(err, 'INVALID_DEFINITION')).toBe(true)
    expect((err as Error).message).toContain(`registry ${path}: feature view 'stats': `)
    expect((err as Error).message).toMatch(/is the same column as timestampField/)
    expect(reopened.kind.calls).toBe(0)
  })
})
