// Every CLI option is checked before anything runs (issue #20, finding 8): a bad value is one
// line naming the option and the accepted range, exit code non-zero, nothing started.
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const repo = join(mkdtempSync(join(tmpdir(), 'larder-cli-options-')), 'repo')

function larder(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, '-c', repo, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  })
  return { code: r.status, err: r.stderr.trim() }
}

describe('bad option values are one clear line', () => {
  test.each([
    [
      ['serve', '--registry-ttl', '0'],
      /--registry-ttl must be a number from 0.1 to 86400, got '0'/,
    ],
    [['serve', '--body-limit', '1e99'], /--body-limit must be a whole number from 1 to 1073741824/],
    [['serve', '--max-entity-rows', '-5'], /--max-entity-rows .* got '-5'/],
    [['serve', '--port', 'http'], /--port must be a whole number from 0 to 65535, got 'http'/],
    [['serve', '--request-timeout', ''], /--request-timeout .* got ''/],
    [['materialize', '2026-01-01', 'now', '--views', ''], /--views is empty: name at least one/],
    [['materialize-incremental', 'now', '--views', ' , '], /--views is empty/],
    [
      ['ingest', '--metrics-port', '99999'],
      /--metrics-port must be a whole number from 0 to 65535/,
    ],
  ])('%j', (args, message) => {
    const r = larder(args)
    expect(r.code).not.toBe(0)
    expect(r.err.split('\n')).toHaveLength(1)
    expect(r.err).toMatch(message)
  })
})
