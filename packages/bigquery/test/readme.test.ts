// The README's example runs against the BigQuery stand-in, and the README shows exactly it.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startBigQueryEmulator } from '@larder/emulators'
import { expect, test } from 'vitest'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const example = 'test/fixtures/readme-example.ts'

test('the README example is test/fixtures/readme-example.ts and prints what it says', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const source = readFileSync(new URL(`../${example}`, import.meta.url), 'utf8')
  expect(readme).toContain(`\`\`\`ts\n${source.slice(source.indexOf('\n') + 1)}\`\`\``)
  const emulator = await startBigQueryEmulator({ projectId: 'demo' })
  try {
    // Not spawnSync: the stand-in answers from this process's event loop.
    const child = spawn(process.execPath, [example], {
      cwd: packageDir,
      env: { ...process.env, BIGQUERY_ENDPOINT: emulator.url, METADATA_SERVER_DETECTION: 'none' },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const code = await new Promise((r) => child.on('close', r))
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).toBe('[ 5n, 7n ]\n[ { driver_id: 1001n, trips: 7n } ]\n')
  } finally {
    await emulator.close()
  }
}, 60_000)
