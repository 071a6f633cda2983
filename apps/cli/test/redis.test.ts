// The quickstart repo runs on Redis by changing the two lines its config's comment names.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findRedis } from '@larder/testing'
import { describe, expect, test } from 'vitest'

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const redis = await findRedis()

describe.skipIf(!redis.available)('the quickstart repo on Redis', () => {
  test('two changed lines: apply, materialize and online reads go to Redis', () => {
    const url = redis.available ? redis.url : ''
    const repo = join(mkdtempSync(join(tmpdir(), 'larder-redis-')), 'repo')
    const run = (args: string[]) =>
      spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' })
    expect(run(['init', repo]).status).toBe(0)
    const configPath = join(repo, 'larder.config.ts')
    const config = readFileSync(configPath, 'utf8')
    const lines = config.split('\n')
    const at = lines.findIndex((l) => l.trim().startsWith('onlineStore: sqliteOnlineStore('))
    expect(at).toBeGreaterThan(0)
    // A project of its own, so runs on a shared Redis never collide.
    const project = `qs_${Date.now().toString(36)}`
    const importAt = lines.indexOf("import { sqliteOnlineStore } from '@larder/sqlite'")
    expect(importAt).toBeGreaterThan(0)
    // The two lines the config's comment names: the import, and the onlineStore line.
    lines[importAt] = "import { redisOnlineStore } from '@larder/redis'"
    lines[at] = `  onlineStore: redisOnlineStore({ url: '${url}' }),`
    const changed = lines.join('\n').replace("project: 'quickstart'", `project: '${project}'`)
    writeFileSync(configPath, changed)
    expect(changed.split('\n').filter((l, i) => l !== config.split('\n')[i])).toHaveLength(3) // two lines, and the project name
    try {
      expect(run(['-c', repo, 'apply']).status).toBe(0)
      const mat = run(['-c', repo, 'materialize-incremental', 'now'])
      expect(mat.status).toBe(0)
      expect(mat.stdout).toContain('10 row(s) written')
      const online = run([
        '-c',
        repo,
        'get-online-features',
        '--entities',
        '{"driver_id":[1002,9999]}',
        '--features',
        'driver_hourly_stats:avg_daily_trips',
      ])
      expect(online.status).toBe(0)
      const json = JSON.parse(online.stdout) as {
        results: Array<{ statuses: string[]; values: unknown[] }>
      }
      expect(json.results[1]?.statuses).toEqual(['PRESENT', 'NOT_FOUND'])
      expect(typeof json.results[1]?.values[0]).toBe('number')
      // Nothing went to SQLite.
      expect(() => readFileSync(join(repo, 'data', 'online.db'))).toThrow()
    } finally {
      run(['-c', repo, 'teardown'])
    }
  })
})
