// Core's default registry store (the local file) through the registry store conformance
// suite, and two processes applying at once to one registry file.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
// The built package: the race spawns its compiled worker.
import { registryApplyRace, registryStoreConformance } from '@larder/testing'
import { describe, expect, it } from 'vitest'

const dir = mkdtempSync(join(tmpdir(), 'larder-registry-file-'))
let n = 0

registryStoreConformance({
  name: 'file (core default)',
  newLocation: () => join(dir, `r${n++}`, 'registry.json'),
  open: async (path) => (await import('@larder/core')).fileRegistryStore(path),
})

describe('file registry shared by two processes', () => {
  it('both apply at once: one wins, the other gets REGISTRY_CONFLICT, nothing is lost', async () => {
    const path = join(dir, 'race', 'registry.json')
    const outcomes = await registryApplyRace({
      moduleUrl: import.meta.resolve('@larder/core'),
      factory: 'fileRegistryStore',
      arg: path,
      project: 'race',
    })
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1)
    const loser = outcomes.find((o) => !o.ok)
    expect(loser?.code).toBe('REGISTRY_CONFLICT')
    const winner = outcomes[0]?.ok ? 'view_a' : 'view_b'
    const data = JSON.parse(readFileSync(path, 'utf8'))
    expect(data.version).toBe(1)
    expect(data.featureViews.map((v: { name: string }) => v.name)).toEqual([winner])
  }, 30_000)
})
