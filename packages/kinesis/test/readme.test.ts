// The README's example runs against kinesalite, and the README shows exactly it.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startKinesalite } from '@larder/emulators'
import { expect, test } from 'vitest'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const example = 'test/fixtures/readme-ingest.ts'

test('the README example is test/fixtures/readme-ingest.ts and prints what it says', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const source = readFileSync(new URL(`../${example}`, import.meta.url), 'utf8')
  expect(readme).toContain(`\`\`\`ts\n${source.slice(source.indexOf('\n') + 1)}\`\`\``)
  const kinesis = await startKinesalite()
  const dir = mkdtempSync(join(tmpdir(), 'larder-kinesis-readme-'))
  try {
    await kinesis.createStream('drivers', 2)
    const event = (trips: number, minute: number) => ({
      key: '1001',
      data: JSON.stringify({
        driver_id: 1001,
        trips,
        event_timestamp: new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString(),
      }),
    })
    await kinesis.put('drivers', [event(7, 30), event(3, 10)])
    // Not spawnSync: kinesalite answers from this process's event loop.
    const child = spawn(process.execPath, [example, dir], {
      cwd: packageDir,
      env: {
        ...process.env,
        KINESIS_ENDPOINT: kinesis.endpoint,
        AWS_ACCESS_KEY_ID: 'larder-test',
        AWS_SECRET_ACCESS_KEY: 'larder-test',
        AWS_EC2_METADATA_DISABLED: 'true',
      },
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
    expect(stdout).toBe(
      'driver_trips: 2 read, 2 written offline\n[ { driver_id: 1001n, trips: 7n } ]\n',
    )
  } finally {
    await kinesis.close()
    rmSync(dir, { recursive: true, force: true })
  }
}, 30_000)
