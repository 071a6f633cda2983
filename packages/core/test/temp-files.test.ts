/** Temp files a killed process left are removed by the next write (issue #20, finding 9). */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { describe, expect, test } from 'vitest'
import {
  Registry,
  sweepStaleTempDirs,
  sweepStaleTemps,
  tempDirName,
  tempPathFor,
} from '../src/index.js'

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
  return Number(r.stdout.toString())
}

describe('temp files', () => {
  test('tempPathFor is hidden, next to the target, and carries this pid', () => {
    const p = tempPathFor('/repo/data/registry.json')
    expect(p).toMatch(
      new RegExp(`^/repo/data/\\.registry\\.json\\.${process.pid}\\.[0-9a-f]{12}\\.tmp$`),
    )
  })

  test("a registry write removes a killed writer's temps (old and new names), not a live one's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'larder-temps-'))
    const path = join(dir, 'registry.json')
    const dead = deadPid()
    const stale = [
      `registry.json.${dead}.3f1e5a3c-2b1d-4c55-9a57-0d6f1b2c3d4e.tmp`,
      `.registry.json.${dead}.0123456789ab.tmp`,
    ]
    const live = `.registry.json.${process.ppid}.0123456789ab.tmp`
    for (const f of [...stale, live, 'other.json.1.ab.tmp']) writeFileSync(join(dir, f), '{')
    const registry = new Registry(path, 'p')
    await registry.update((d) => d)
    expect(readdirSync(dir).sort()).toEqual([live, 'other.json.1.ab.tmp', 'registry.json'].sort())
    expect(await sweepStaleTemps(path)).toEqual([])
  })

  test('temp folders of dead processes are swept, ours stay', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'larder-tempdirs-'))
    const mine = join(parent, tempDirName('larder-duckdb-'))
    const theirs = join(parent, `larder-duckdb-${deadPid()}-0123456789ab`)
    mkdirSync(mine)
    mkdirSync(theirs)
    expect(await sweepStaleTempDirs(parent, 'larder-duckdb-')).toEqual([theirs])
    expect(readdirSync(parent)).toEqual([basename(mine)])
  })
})
