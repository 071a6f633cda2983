// The README's local example runs, and the README shows exactly that file.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const example = 'test/fixtures/readme-local.ts'

test('the README example is test/fixtures/readme-local.ts and prints what it says', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const source = readFileSync(new URL(`../${example}`, import.meta.url), 'utf8')
  expect(readme).toContain(`\`\`\`ts\n${source.slice(source.indexOf('\n') + 1)}\`\`\``)
  // Imports '@larder/dynamodb', the build test/global-setup.ts makes.
  const run = spawnSync(process.execPath, [example], {
    cwd: packageDir,
    encoding: 'utf8',
    timeout: 60_000,
  })
  expect(run.stderr).toBe('')
  expect(run.stdout).toBe('1 0 { values: [ 12n, 0.5 ], eventTs: 1767225600000000n }\n')
})
