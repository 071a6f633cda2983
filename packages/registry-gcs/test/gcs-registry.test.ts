// The GCS registry store against the GCS stand-in of tooling/emulators, through the unmodified
// @google-cloud/storage client: the registry store conformance suite, URL parsing, errors.
import { randomUUID } from 'node:crypto'
import { Storage } from '@google-cloud/storage'
import { isLarderError } from '@larder/core'
import { type GcsEmulator, startGcsEmulator } from '@larder/emulators'
import { registryApplyRace, registryStoreConformance } from '@larder/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gcsRegistry, parseGcsUrl } from '../src/index.js'

let gcs: GcsEmulator
beforeAll(async () => {
  gcs = await startGcsEmulator({ buckets: ['larder'] })
})
afterAll(async () => {
  await gcs.close()
})

registryStoreConformance({
  name: 'gcs (stand-in)',
  newLocation: () => `gs://larder/reg/${randomUUID()}/registry.json`,
  open: (url) => gcsRegistry({ url, apiEndpoint: gcs.apiEndpoint, projectId: 'test' }),
})

describe('gcs registry store', () => {
  it('parses bucket and object from the URL', () => {
    expect(parseGcsUrl('gs://b/a/registry.json')).toEqual({ bucket: 'b', name: 'a/registry.json' })
    for (const bad of ['gs://bucket', 'gs://bucket/dir/', 's3://b/k', 'nope']) {
      expect(() => parseGcsUrl(bad)).toThrow(/gs:\/\/bucket\/path\/registry.json/)
    }
  })

  it('two machines applying at once: one wins, the other gets REGISTRY_CONFLICT, nothing is lost', async () => {
    const arg = {
      url: `gs://larder/race/${randomUUID()}.json`,
      apiEndpoint: gcs.apiEndpoint,
      projectId: 'test',
    }
    const outcomes = await registryApplyRace({
      moduleUrl: new URL('../dist/index.js', import.meta.url).href,
      factory: 'gcsRegistry',
      arg,
      project: 'race',
    })
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1)
    expect(outcomes.find((o) => !o.ok)?.code).toBe('REGISTRY_CONFLICT')
    const winner = outcomes[0]?.ok ? 'view_a' : 'view_b'
    const store = gcsRegistry(arg)
    const data = JSON.parse((await store.read())?.text ?? '{}')
    expect(data.version).toBe(1)
    expect(data.featureViews.map((v: { name: string }) => v.name)).toEqual([winner])
  }, 30_000)

  it('a missing bucket is a config error naming it', async () => {
    const store = gcsRegistry({
      url: 'gs://nope/registry.json',
      apiEndpoint: gcs.apiEndpoint,
      projectId: 'test',
    })
    await expect(store.read()).rejects.toThrow(/bucket 'nope' does not exist/)
    await expect(store.write('{}', undefined)).rejects.toThrow(/bucket 'nope' does not exist/)
  })

  it('an unreachable endpoint is BACKEND_UNAVAILABLE naming the location', async () => {
    const storage = new Storage({
      apiEndpoint: 'http://127.0.0.1:9',
      projectId: 'test',
      retryOptions: { autoRetry: false },
    })
    const store = gcsRegistry({ url: 'gs://larder/x.json', storage })
    const err = await store.read().catch((e: unknown) => e)
    expect(isLarderError(err, 'BACKEND_UNAVAILABLE')).toBe(true)
    expect((err as Error).message).toContain('gs://larder/x.json')
  })
})
