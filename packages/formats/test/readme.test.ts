// The README's examples run, and the README shows exactly those files.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

/** The fenced output block that follows the example's code block in the README. */
function printedAfter(source: string): string {
  const at = readme.indexOf(source)
  const m = /```\n\n[^`]*```\n([\s\S]*?)```/.exec(readme.slice(at + source.length - 1))
  return m?.[1] ?? ''
}

for (const name of ['readme-json', 'readme-avro-registry', 'readme-protobuf']) {
  test(`${name}: the README shows it and what it prints`, () => {
    const file = `test/fixtures/${name}.ts`
    const source = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')
    const body = source.slice(source.indexOf('\n') + 1)
    expect(readme).toContain(`\`\`\`ts\n${body}\`\`\``)
    // Imports '@larder/formats', which test/global-setup.ts builds first.
    const run = spawnSync(process.execPath, [file], { cwd: packageDir, encoding: 'utf8' })
    expect(run.stderr).toBe('')
    expect(run.stdout).toBe(printedAfter(body))
    expect(run.stdout.length).toBeGreaterThan(20)
  })
}
