/**
 * The registry store conformance suite: what every place a registry is kept (file, S3, GCS,
 * PostgreSQL, a third party's) must do so that several machines can share one registry with
 * no lost update. A backend runs it in a few lines:
 *
 * ```ts
 * import { registryStoreConformance } from '@larder/testing'
 * registryStoreConformance({
 *   name: 's3',
 *   newLocation: () => `s3://bucket/${randomUUID()}/registry.json`,
 *   open: (url) => s3Registry({ url, ...opts }),
 * })
 * ```
 *
 * Each case opens stores on a fresh, empty location; several stores opened on one location
 * stand for several machines sharing it.
 */
import { isLarderError, Registry, type RegistryStore } from '@larder/core'
import { afterEach, describe, expect, test } from 'vitest'

/** Options of {@link registryStoreConformance}. */
export interface RegistryStoreConformanceOptions<L = string> {
  /** The backend's name, used in the suite's title. */
  name: string
  /** A new, empty location (a fresh key, object or row) each call. */
  newLocation: () => L | Promise<L>
  /** Opens a store on a location (each call is a new client, as another machine would have). */
  open: (location: L) => RegistryStore | Promise<RegistryStore>
  /** Writers racing in the concurrent case. @default 8 */
  concurrentWriters?: number
}

async function conflictOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    if (isLarderError(err, 'REGISTRY_CONFLICT')) return 'conflict'
    throw err
  }
  return 'ok'
}

/** Registers the registry store cases with vitest. */
export function registryStoreConformance<L>(options: RegistryStoreConformanceOptions<L>): void {
  const open: RegistryStore[] = []
  let location: L
  const openAt = async (where: L) => {
    const s = await options.open(where)
    open.push(s)
    return s
  }
  const store = async () => {
    location = await options.newLocation()
    return openAt(location)
  }
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close?.()
  })

  describe(`registry store conformance: ${options.name}`, () => {
    test('an empty location reads as nothing; a first write creates it', async () => {
      const s = await store()
      expect(await s.read()).toBeUndefined()
      const v1 = await s.write('{"a":1}', undefined)
      expect(typeof v1).toBe('string')
      expect(await s.read()).toEqual({ text: '{"a":1}', version: v1 })
      expect(s.location).not.toMatch(/password|secret/i)
    })

    test('a write at the version read replaces the document and gives a new version', async () => {
      const s = await store()
      const v1 = await s.write('{"n":1}', undefined)
      const v2 = await s.write('{"n":2}', v1)
      expect(v2).not.toBe(v1)
      expect(await s.read()).toEqual({ text: '{"n":2}', version: v2 })
    })

    test('a create-only write over an existing document conflicts and writes nothing', async () => {
      const s = await store()
      const v1 = await s.write('{"first":true}', undefined)
      expect(await conflictOf(s.write('{"second":true}', undefined))).toBe('conflict')
      expect(await s.read()).toEqual({ text: '{"first":true}', version: v1 })
    })

    test('a write from a stale version conflicts and writes nothing', async () => {
      const s = await store()
      const v1 = await s.write('{"n":1}', undefined)
      const v2 = await s.write('{"n":2}', v1)
      expect(await conflictOf(s.write('{"n":"stale"}', v1))).toBe('conflict')
      expect(await s.read()).toEqual({ text: '{"n":2}', version: v2 })
    })

    test('writers racing from the same version: exactly one wins, the others conflict', async () => {
      const s = await store()
      const base = await s.write('{"n":0}', undefined)
      const n = options.concurrentWriters ?? 8
      const writers = await Promise.all(
        Array.from({ length: n }, () => openAt(location)), // as if from other machines
      )
      const results = await Promise.all(
        writers.map((w, i) => conflictOf(w.write(`{"n":${i + 1}}`, base))),
      )
      expect(results.filter((r) => r === 'ok')).toHaveLength(1)
      const winner = results.indexOf('ok')
      expect((await s.read())?.text).toBe(`{"n":${winner + 1}}`)
    })

    test('create-only writers racing on an empty location: exactly one wins', async () => {
      const s = await store()
      const n = options.concurrentWriters ?? 8
      const writers = await Promise.all(Array.from({ length: n }, () => openAt(location)))
      const results = await Promise.all(
        writers.map((w, i) => conflictOf(w.write(`{"w":${i}}`, undefined))),
      )
      expect(results.filter((r) => r === 'ok')).toHaveLength(1)
      expect((await s.read())?.text).toBe(`{"w":${results.indexOf('ok')}}`)
    })

    test('delete removes the document; deleting nothing is fine; a new first write works', async () => {
      const s = await store()
      await s.delete()
      await s.write('{"x":1}', undefined)
      await s.delete()
      expect(await s.read()).toBeUndefined()
      await s.delete()
      const v = await s.write('{"x":2}', undefined)
      expect(await s.read()).toEqual({ text: '{"x":2}', version: v })
    })

    test('large documents and any Unicode round-trip exactly', async () => {
      const s = await store()
      const text = JSON.stringify({
        views: Array.from({ length: 2000 }, (_, i) => ({ name: `view_${i}`, d: 'é🙂\u2028"\\' })),
      })
      const v = await s.write(text, undefined)
      const back = await s.read()
      expect(back?.version).toBe(v)
      expect(back?.text).toBe(text)
    })

    test('a Registry over this store: concurrent merges from several machines all land', async () => {
      await store()
      const n = 6
      const registries = await Promise.all(
        Array.from({ length: n }, async () => new Registry(await openAt(location), 'race')),
      )
      await Promise.all(
        registries.map((r, i) =>
          r.update((d) => {
            d.materializations[`view_${i}`] = [
              {
                start: '2026-01-01T00:00:00Z',
                end: '2026-01-02T00:00:00Z',
                at: '2026-01-02T00:00:00Z',
              },
            ]
            return d
          }),
        ),
      )
      const data = await registries[0]!.read()
      expect(data.version).toBe(n)
      expect(Object.keys(data.materializations).sort()).toEqual(
        Array.from({ length: n }, (_, i) => `view_${i}`).sort(),
      )
    })

    test('a wrong version token is a conflict, not a crash', async () => {
      const s = await store()
      await s.write('{}', undefined)
      expect(await conflictOf(s.write('{"bad":1}', 'not-a-version-token'))).toBe('conflict')
    })
  })
}
