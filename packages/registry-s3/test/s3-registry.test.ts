// The S3 registry store against the S3 stand-in of tooling/emulators, through the unmodified
// AWS SDK: the registry store conformance suite, errors, and a REGISTRY_CONFLICT for one of
// two machines applying at once.
import { randomUUID } from 'node:crypto'
import { isLarderError } from '@larder/core'
import { type S3Emulator, startS3Emulator } from '@larder/emulators'
import { registryApplyRace, registryStoreConformance } from '@larder/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseS3Url, s3Registry } from '../src/index.js'

let s3: S3Emulator
beforeAll(async () => {
  s3 = await startS3Emulator({ buckets: ['larder'] })
})
afterAll(async () => {
  await s3.close()
})

registryStoreConformance({
  name: 's3 (stand-in)',
  newLocation: () => `s3://larder/reg/${randomUUID()}/registry.json`,
  open: (url) => s3Registry({ url, endpoint: s3.endpoint }),
})

describe('s3 registry store', () => {
  it('parses bucket, key, region and endpoint from the URL', () => {
    expect(
      parseS3Url('s3://b/a/b/registry.json?region=eu-west-1&endpoint=http://127.0.0.1:9'),
    ).toEqual({
      bucket: 'b',
      key: 'a/b/registry.json',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9',
    })
    for (const bad of ['s3://bucket', 's3://bucket/folder/', 'http://x/y', 'not a url']) {
      expect(() => parseS3Url(bad)).toThrow(/s3:\/\/bucket\/path\/registry.json/)
    }
  })

  it('a missing bucket is a config error naming it', async () => {
    const store = s3Registry({ url: 's3://nope/registry.json', endpoint: s3.endpoint })
    await expect(store.read()).rejects.toThrow(/bucket 'nope' does not exist/)
    await expect(store.write('{}', undefined)).rejects.toThrow(/bucket 'nope' does not exist/)
    await store.close()
  })

  it('an unreachable endpoint is BACKEND_UNAVAILABLE naming the location', async () => {
    const store = s3Registry({ url: 's3://larder/x.json', endpoint: 'http://127.0.0.1:9' })
    const err = await store.read().catch((e: unknown) => e)
    expect(isLarderError(err, 'BACKEND_UNAVAILABLE')).toBe(true)
    expect(String((err as Error).message)).toContain('s3://larder/x.json')
    await store.close()
  }, 30_000)

  it('two machines applying at once: one wins, the other gets REGISTRY_CONFLICT, nothing is lost', async () => {
    const arg = { url: `s3://larder/race/${randomUUID()}.json`, endpoint: s3.endpoint }
    const outcomes = await registryApplyRace({
      moduleUrl: new URL('../dist/index.js', import.meta.url).href,
      factory: 's3Registry',
      arg,
      project: 'race',
    })
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1)
    expect(outcomes.find((o) => !o.ok)?.code).toBe('REGISTRY_CONFLICT')
    const winner = outcomes[0]?.ok ? 'view_a' : 'view_b'
    const store = s3Registry(arg)
    const data = JSON.parse((await store.read())?.text ?? '{}')
    await store.close?.()
    expect(data.version).toBe(1)
    expect(data.featureViews.map((v: { name: string }) => v.name)).toEqual([winner])
  }, 30_000)

  it('the endpoint and region can come from the URL (one config line)', async () => {
    const store = s3Registry(`s3://larder/${randomUUID()}.json?endpoint=${s3.endpoint}`)
    const v = await store.write('{"ok":true}', undefined)
    expect(await store.read()).toEqual({ text: '{"ok":true}', version: v })
    await store.close()
  })
})
