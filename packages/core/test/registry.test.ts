import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import {
  type AnyDefinition,
  collectRepo,
  diffRegistry,
  emptyRegistry,
  entity,
  FileRegistryStore,
  featureService,
  featureView,
  formatDiff,
  isLarderError,
  mergeInterval,
  Registry,
  t,
} from '../src/index.js'

const tmp = () => mkdtempSync(join(tmpdir(), 'larder-registry-'))

const src = { kind: 'file', name: 's', path: 'x.parquet', timestampField: 'ts' }
const driver = entity({ name: 'driver', joinKeys: ['driver_id'] })
const at = (...defs: AnyDefinition[]) => defs.map((d) => ({ definition: d, origin: 'f.ts' }))

describe('Registry', () => {
  test('an absent file is an empty registry; updates round-trip and bump the version', async () => {
    const registry = new Registry(join(tmp(), 'data', 'registry.json'), 'p')
    expect(await registry.read()).toEqual(emptyRegistry('p'))
    const view = featureView({ name: 'v', entities: [driver], source: src, schema: { a: t.int64 } })
    const written = await registry.update(
      (d) => ({ ...d, entities: [driver.spec], featureViews: [view.spec] }),
      { expectedVersion: 0 },
    )
    expect(written.version).toBe(1)
    const again = await registry.read()
    expect(again).toEqual(written)
    expect(again.featureViews[0]).toEqual(view.spec)
  })

  test('an update computed from an old version is a REGISTRY_CONFLICT and changes nothing', async () => {
    const registry = new Registry(join(tmp(), 'registry.json'), 'p')
    await registry.update((d) => ({ ...d, entities: [driver.spec] }), { expectedVersion: 0 })
    const before = readFileSync(registry.path, 'utf8')
    await expect(
      registry.update((d) => ({ ...d, entities: [] }), { expectedVersion: 0 }),
    ).rejects.toSatisfy(
      (err) =>
        isLarderError(err, 'REGISTRY_CONFLICT') &&
        /it was version 0, it is now version 1/.test((err as Error).message),
    )
    expect(readFileSync(registry.path, 'utf8')).toBe(before)
  })

  test('concurrent merges under the lock lose nothing', async () => {
    const registry = new Registry(join(tmp(), 'registry.json'), 'p')
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        registry.update((d) => {
          d.materializations.v = [
            ...(d.materializations.v ?? []),
            { start: String(i), end: String(i), at: '' },
          ]
          return d
        }),
      ),
    )
    const data = await registry.read()
    expect(data.version).toBe(20)
    expect(data.materializations.v?.map((m) => m.start).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => String(i)).sort(),
    )
  })

  test('a corrupt file or another project is a clear error', async () => {
    const dir = tmp()
    writeFileSync(join(dir, 'bad.json'), '{ not json')
    await expect(new Registry(join(dir, 'bad.json'), 'p').read()).rejects.toThrow(
      /registry .*bad.json is not valid JSON/,
    )
    writeFileSync(join(dir, 'shape.json'), '{"formatVersion": 9}')
    await expect(new Registry(join(dir, 'shape.json'), 'p').read()).rejects.toThrow(
      /unknown formatVersion 9/,
    )
    const ok = new Registry(join(dir, 'r.json'), 'one')
    await ok.update((d) => d)
    await expect(new Registry(join(dir, 'r.json'), 'two').read()).rejects.toThrow(
      /belongs to project 'one', but the config says 'two'/,
    )
  })

  test('a stale lock of a dead process is broken', async () => {
    const dir = tmp()
    writeFileSync(
      join(dir, 'r.json.lock'),
      JSON.stringify({ pid: 2 ** 22 + 12345, at: Date.now() }),
    )
    const store = new FileRegistryStore(join(dir, 'r.json'), { lockTimeoutMs: 2000 })
    const written = await new Registry(store, 'p').update((d) => d)
    expect(written.version).toBe(1)
  })

  test('two processes applying at once: one wins, the other gets a conflict, nothing is lost', async () => {
    const dir = tmp()
    const registryPath = join(dir, 'registry.json')
    const worker = fileURLToPath(new URL('./fixtures/concurrent-apply-worker.mjs', import.meta.url))
    const start = (view: string) => {
      const child = spawn(process.execPath, [worker, registryPath, view], {
        cwd: dir,
        stdio: ['pipe', 'pipe', 'inherit'],
      })
      const lines: string[] = []
      let notify: (() => void) | undefined
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        lines.push(...chunk.split('\n').filter(Boolean))
        notify?.()
      })
      const waitFor = (n: number) =>
        new Promise<void>((resolve) => {
          notify = () => lines.length >= n && resolve()
          notify()
        })
      const exited = new Promise<number>((resolve) =>
        child.on('exit', (code) => resolve(code ?? 1)),
      )
      return { child, lines, waitFor, exited }
    }
    const a = start('view_a')
    const b = start('view_b')
    await Promise.all([a.waitFor(1), b.waitFor(1)])
    expect(a.lines[0]).toBe('planned')
    expect(b.lines[0]).toBe('planned')
    a.child.stdin.write('go\n')
    b.child.stdin.write('go\n')
    await Promise.all([a.waitFor(2), b.waitFor(2), a.exited, b.exited])
    const outcomes = [a, b].map(
      (w) => JSON.parse(w.lines[1]!) as { ok: boolean; code?: string; message?: string },
    )
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1)
    const loser = outcomes.find((o) => !o.ok)!
    expect(loser.code).toBe('REGISTRY_CONFLICT')
    expect(loser.message).toMatch(/another apply won the race|changed since the plan was made/)
    const winner = outcomes[0]!.ok ? 'view_a' : 'view_b'
    const data = JSON.parse(readFileSync(registryPath, 'utf8'))
    expect(data.version).toBe(1)
    expect(data.featureViews.map((v: { name: string }) => v.name)).toEqual([winner])
  }, 30_000)
})

describe('plan diff', () => {
  test('created, updated (with field lines) and deleted objects; then no changes', () => {
    const v1 = featureView({
      name: 'stats',
      entities: [driver],
      source: src,
      ttl: 60,
      schema: { conv_rate: t.float32, trips: t.int64 },
    })
    const svc = featureService({ name: 'svc', features: [v1] })
    const first = collectRepo(at(driver, v1, svc))
    const created = diffRegistry(emptyRegistry('p'), first)
    expect(formatDiff(created)).toBe(
      [
        'Created entity driver',
        'Created data source s',
        'Created feature view stats',
        'Created feature service svc',
      ].join('\n'),
    )
    const registered = { ...emptyRegistry('p'), version: 1, ...first }
    expect(formatDiff(diffRegistry(registered, first))).toBe('No changes to registry')

    const v2 = featureView({
      name: 'stats',
      entities: [driver],
      source: src,
      ttl: 120,
      schema: { conv_rate: t.float64, acc: t.float32 },
    })
    const second = collectRepo(at(driver, v2))
    expect(formatDiff(diffRegistry(registered, second))).toBe(
      [
        'Updated feature view stats',
        '  features.conv_rate.valueType: float32 -> float64',
        '  features.trips.valueType: int64 -> (none)',
        '  ttlSeconds: 60 -> 120',
        '  features.acc.valueType: (none) -> float32',
        'Deleted feature service svc',
      ].join('\n'),
    )
  })
})

describe('materialization intervals stay few (issue #20, finding 12)', () => {
  const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString()
  const iv = (start: string, end: string, n = 0) => ({ start, end, at: at(n) })

  test('touching and overlapping intervals merge; disjoint ones stay, sorted by start', () => {
    let list = mergeInterval([], iv('2026-01-01T00:00:00Z', '2026-01-01T06:00:00Z', 1))
    list = mergeInterval(list, iv('2026-01-01T06:00:00Z', '2026-01-01T07:00:00Z', 2))
    expect(list).toEqual([iv('2026-01-01T00:00:00Z', '2026-01-01T07:00:00Z', 2)])
    list = mergeInterval(list, iv('2026-01-02T00:00:00Z', '2026-01-02T01:00:00Z', 3))
    list = mergeInterval(list, iv('2025-12-30T00:00:00Z', '2025-12-30T01:00:00Z', 4))
    expect(list.map((i) => i.start)).toEqual([
      '2025-12-30T00:00:00Z',
      '2026-01-01T00:00:00Z',
      '2026-01-02T00:00:00Z',
    ])
    // One interval spanning the gaps swallows them all; one inside changes nothing but `at`.
    list = mergeInterval(list, iv('2025-12-30T00:30:00Z', '2026-01-02T00:00:00Z', 5))
    expect(list).toEqual([iv('2025-12-30T00:00:00Z', '2026-01-02T01:00:00Z', 5)])
    list = mergeInterval(list, iv('2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', 6))
    expect(list).toEqual([iv('2025-12-30T00:00:00Z', '2026-01-02T01:00:00Z', 6)])
  })

  test('91 incremental runs and 91 repeated runs leave one entry', () => {
    let list: ReturnType<typeof mergeInterval> = []
    const hour = (h: number) => new Date(Date.UTC(2026, 0, 1, h)).toISOString().replace('.000', '')
    for (let h = 0; h < 91; h++) list = mergeInterval(list, iv(hour(h), hour(h + 1), h))
    for (let r = 0; r < 91; r++) list = mergeInterval(list, iv(hour(0), hour(5), r))
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ start: hour(0), end: hour(91) })
  })
})
