// `larder serve` starts the feature server on the repo and stops cleanly on SIGTERM.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

test('serve answers /health and online reads, then drains and exits 0 on SIGTERM', async () => {
  const repo = join(mkdtempSync(join(tmpdir(), 'larder-serve-')), 'repo')
  for (const args of [
    ['init', repo],
    ['-c', repo, 'apply'],
    ['-c', repo, 'materialize-incremental', 'now'],
  ]) {
    expect(spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' }).status).toBe(0)
  }
  const child = spawn(process.execPath, [BIN, '-c', repo, 'serve', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`no listening line in: ${out}`)), 20_000)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const m = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
    child.on('exit', (code) => reject(new Error(`serve exited early (${code}): ${out}`)))
  })
  const health = await fetch(`${url}/health`)
  expect(health.status).toBe(200)
  const res = await fetch(`${url}/get-online-features`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      entities: { driver_id: [1001, 9999] },
      features: ['driver_hourly_stats:avg_daily_trips'],
    }),
  })
  expect(res.status).toBe(200)
  const body = (await res.json()) as { results: Array<{ statuses: string[] }> }
  expect(body.results[1]?.statuses).toEqual(['PRESENT', 'NOT_FOUND'])
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  child.kill('SIGTERM')
  expect(await exited).toBe(0)
})
