// The CLI as an installed package sees it: an old Node gets one clear line, a backend the
// config imports but the project lacks is named, and `init` makes a project of its own.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const CORE = fileURLToPath(new URL('../node_modules/@larder/core/dist/index.js', import.meta.url))
const run = (args: string[], node = process.execPath) =>
  spawnSync(node, [BIN, ...args], { encoding: 'utf8', cwd: tmpdir() })

// The machines' system Node is 20: the version check is tested against it where it exists.
const OLD_NODE = '/usr/bin/node'
const oldVersion = existsSync(OLD_NODE)
  ? spawnSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim()
  : ''
const haveOldNode = /^v(1\d|2[0-3])\./.test(oldVersion)
if (!haveOldNode) {
  const reason = `no Node older than 24 at ${OLD_NODE} (found '${oldVersion || 'nothing'}')`
  if (process.env.LARDER_REQUIRE_SERVICES === '1')
    throw new Error(`the Node version tests need an old Node: ${reason}`)
  console.warn(`\n*** SKIPPING the old-Node tests: ${reason} ***\n`)
}

describe.skipIf(!haveOldNode)(`on ${OLD_NODE} (${oldVersion})`, () => {
  test('the CLI says which Node it needs, in one line', () => {
    const r = run(['--help'], OLD_NODE)
    expect(r.status).toBe(1)
    expect(r.stderr.trim().split('\n')).toEqual([
      `error: Larder needs Node.js 24 or newer (found ${oldVersion.slice(1)}): install Node.js 24 LTS and run again`,
    ])
  })

  test('the SDK says it too, before anything else goes wrong', () => {
    const script = `import(${JSON.stringify(CORE)}).then((m) => m.FeatureStore.open('/nowhere')).catch((e) => console.log(e.message))`
    const r = spawnSync(OLD_NODE, ['-e', script], { encoding: 'utf8' })
    expect(r.stdout.split('\n')[0]).toMatch(
      new RegExp(
        `^\\[larder\\] Larder needs Node.js 24 or newer \\(found ${oldVersion.slice(1)}\\)`,
      ),
    )
  })
})

test('a backend the config imports but the project lacks: one line naming the package', () => {
  const repo = join(mkdtempSync(join(tmpdir(), 'larder-install-')), 'repo')
  expect(run(['init', repo]).status).toBe(0)
  const config = join(repo, 'larder.config.ts')
  writeFileSync(
    config,
    readFileSync(config, 'utf8').replace(
      "import { sqliteOnlineStore } from '@larder/sqlite'",
      "import { sqliteOnlineStore } from '@larder/sqlite'\nimport { mongoOnlineStore } from '@larder/mongodb'\nvoid mongoOnlineStore",
    ),
  )
  const r = run(['-c', repo, 'plan'])
  expect(r.status).toBe(1)
  expect(r.stderr.trim().split('\n')).toEqual([
    `error: [larder] [loader] larder.config.ts imports @larder/mongodb, which is not installed: run \`npm install @larder/mongodb\` in the repo's project (${repo})`,
  ])
})

test('init writes a package.json and a tsconfig, and prints a command that runs', () => {
  const repo = join(mkdtempSync(join(tmpdir(), 'larder-install-')), 'My Repo')
  const r = run(['init', repo])
  expect(r.status).toBe(0)
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'))
  expect(pkg).toMatchObject({
    name: 'my-repo',
    type: 'module',
    engines: { node: '>=24' },
    dependencies: {
      '@larder/core': '^0.1.0',
      '@larder/file': '^0.1.0',
      '@larder/sqlite': '^0.1.0',
    },
    devDependencies: { larder: '^0.1.0' },
  })
  // Every package the repo's files import is in its package.json.
  const imported = new Set<string>()
  for (const f of ['larder.config.ts', 'features.ts'])
    for (const m of readFileSync(join(repo, f), 'utf8').matchAll(
      /^import .* from '(@larder\/[a-z]+)'/gm,
    ))
      imported.add(m[1]!)
  expect([...imported].sort()).toEqual(Object.keys(pkg.dependencies).sort())
  const tsconfig = JSON.parse(readFileSync(join(repo, 'tsconfig.json'), 'utf8'))
  expect(tsconfig.compilerOptions).toMatchObject({ module: 'nodenext', verbatimModuleSyntax: true })
  // Inside the monorepo the CLI is the workspace's: the root has its bin.
  const next = r.stdout.split('\n').find((l) => l.startsWith('Next: '))
  expect(next).toBe(`Next: pnpm exec larder -c ${repo} apply`)
  const root = fileURLToPath(new URL('../../..', import.meta.url))
  const [cmd, ...args] = next!.slice('Next: '.length).replace(repo, '\0').split(' ')
  const applied = spawnSync(
    cmd!,
    args.map((a) => (a === '\0' ? repo : a)),
    {
      cwd: root,
      encoding: 'utf8',
    },
  )
  expect(applied.stderr).toBe('')
  expect(applied.status).toBe(0)
  expect(applied.stdout).toContain('Registry version 1 written')
})

test('the SDK opens a repo that has no install of its own from a script whose project has the backends', () => {
  const repo = join(mkdtempSync(join(tmpdir(), 'larder-sdk-')), 'repo')
  expect(run(['init', repo]).status).toBe(0)
  const script = `import { FeatureStore } from '@larder/core'
const store = await FeatureStore.open(${JSON.stringify(repo)})
console.log((await store.plan()).text.split('\\n')[0])
await store.close()`
  // This package's folder stands for the user's project: its node_modules has the backends.
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
  })
  expect(r.stderr).toBe('')
  expect(r.stdout.trim()).toBe('Created entity driver')
})
