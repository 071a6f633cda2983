// The README's example runs against the Kafka test broker, and the README shows exactly it.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startKafkaTestBroker } from '@larder/emulators'
import { expect, test } from 'vitest'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const example = 'test/fixtures/readme-ingest.ts'

test('the README example is test/fixtures/readme-ingest.ts and prints what it says', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const source = readFileSync(new URL(`../${example}`, import.meta.url), 'utf8')
  expect(readme).toContain(`\`\`\`ts\n${source.slice(source.indexOf('\n') + 1)}\`\`\``)
  const broker = await startKafkaTestBroker()
  try {
    // Not spawnSync: the broker answers from this process's event loop.
    const child = spawn(process.execPath, [example], {
      cwd: packageDir,
      env: {
        ...process.env,
        KAFKA_BROKERS: broker.brokers.join(','),
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
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
    expect(stderr.replace(/\(node:\d+\) TimeoutNegativeWarning[^\n]*\n[^\n]*\n[^\n]*\n/, '')).toBe(
      '',
    )
    expect(code).toBe(0)
    expect(stdout).toBe(
      'driver_trips: 2 read, 2 written offline\n[ { driver_id: 1001n, trips: 7n } ]\n',
    )
  } finally {
    await broker.close()
  }
}, 30_000)
