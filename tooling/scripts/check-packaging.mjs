// `pnpm check:packaging [--keep]`: Larder as a new user gets it, outside the monorepo.
//
// 1. Packs every publishable package with `pnpm pack` and checks each tarball (LICENSE,
//    engines, no `workspace:` ranges, every file its `exports`/`bin` name).
// 2. Installs core + file + sqlite + the CLI tarballs into an empty npm project in a temp
//    folder (third-party dependencies come from the npm registry) and checks that no other
//    backend came with them.
// 3. Runs `npx larder init/apply/get-historical-features/materialize/get-online-features`
//    there, opens a repo that has no install of its own from a plain Node script (the SDK),
//    and checks that `serve` without @larder/server is one line naming the package.
// 4. Publishes the online store of docs/writing-a-backend.md as a package of its own (code
//    taken from the page, compiled, `npm pack`ed, installed from its tarball) and runs the
//    page's `onlineStoreConformance` test against it with vitest.
// Needs Node 24 first on PATH (every `pnpm` script has it) and npm. Exits non-zero with the
// failing step's output.
import { spawnSync } from 'node:child_process'
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const keep = process.argv.includes('--keep')
const work = mkdtempSync(join(tmpdir(), 'larder-packaging-'))
const started = performance.now()
const env = {
  ...process.env,
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  npm_config_loglevel: 'error',
  NO_COLOR: '1',
}
// Not the monorepo's pnpm context: the CLI must resolve paths as it does after an npm install.
delete env.INIT_CWD

let failed = false
function fail(message) {
  failed = true
  process.stderr.write(`packaging check FAILED: ${message}\n`)
  process.stderr.write(`(work folder kept: ${work})\n`)
  process.exit(1)
}
function step(title) {
  process.stdout.write(`\n== ${title} (${((performance.now() - started) / 1000).toFixed(1)} s)\n`)
}
/** Runs a command; fails the check (with its output) unless it exits 0. */
function sh(cmd, args, cwd, { allowFail = false } = {}) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (r.error) fail(`${cmd} ${args.join(' ')}: ${r.error.message}`)
  if (r.status !== 0 && !allowFail)
    fail(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}\n${r.stdout}${r.stderr}`)
  return r
}
function expect(ok, message) {
  if (!ok) fail(message)
}

const node = sh('node', ['--version'], root).stdout.trim()
expect(
  Number(node.slice(1).split('.')[0]) >= 24,
  `run with Node 24 first on PATH (found ${node}); use pnpm check:packaging`,
)

// 1. Pack every publishable package.
step('pack every publishable package')
const tarballs = new Map()
const tarDir = join(work, 'tarballs')
mkdirSync(tarDir)
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(join(root, group)).sort()) {
    const dir = join(root, group, name)
    let pkg
    try {
      pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    } catch {
      continue
    }
    if (pkg.private) continue
    const before = new Set(readdirSync(tarDir))
    sh('pnpm', ['pack', '--pack-destination', tarDir], dir)
    const made = readdirSync(tarDir).filter((f) => !before.has(f))
    expect(made.length === 1, `pnpm pack of ${pkg.name} made ${made.length} files`)
    const tgz = join(tarDir, made[0])
    tarballs.set(pkg.name, tgz)
    const files = new Set(sh('tar', ['-tzf', tgz], work).stdout.trim().split('\n'))
    const packed = JSON.parse(sh('tar', ['-xOzf', tgz, 'package/package.json'], work).stdout)
    const problems = []
    if (!files.has('package/LICENSE')) problems.push('no LICENSE')
    if (packed.license !== 'Apache-2.0') problems.push(`license is ${packed.license}`)
    if (!packed.engines?.node) problems.push('no engines.node')
    if (JSON.stringify(packed).includes('workspace:')) problems.push('a workspace: range left')
    const named = [
      ...Object.values(packed.exports ?? {}).flatMap((e) =>
        typeof e === 'string' ? [e] : Object.values(e),
      ),
      ...Object.values(packed.bin ?? {}),
    ]
    for (const f of named)
      if (!files.has(`package/${f.replace(/^\.\//, '')}`)) problems.push(`missing ${f}`)
    expect(problems.length === 0, `${pkg.name}: ${problems.join(', ')}`)
    process.stdout.write(`${pkg.name}: ${files.size} files, ok\n`)
  }
}
for (const name of ['@larder/core', '@larder/file', '@larder/sqlite', '@larder/testing', 'larder'])
  expect(tarballs.has(name), `no tarball for ${name}`)

// 2. An empty npm project with only what the quickstart needs.
step('npm install core + file + sqlite + the CLI into an empty project')
const project = join(work, 'project')
mkdirSync(project)
writeFileSync(
  join(project, 'package.json'),
  `${JSON.stringify({ name: 'packaging-check', private: true, type: 'module' }, null, 2)}\n`,
)
sh(
  'npm',
  [
    'install',
    ...['@larder/core', '@larder/file', '@larder/sqlite', 'larder'].map((n) => tarballs.get(n)),
  ],
  project,
)
const installed = readdirSync(join(project, 'node_modules', '@larder')).sort()
expect(
  JSON.stringify(installed) === JSON.stringify(['core', 'file', 'sqlite']),
  `expected only @larder/core, file and sqlite installed, found ${installed.join(', ')}`,
)

// 3. The CLI and the SDK from that project.
step('npx larder init / apply / get-historical-features / materialize / get-online-features')
const larder = (...args) => sh('npx', ['--no-install', 'larder', ...args], project)
const init = larder('init', 'demo').stdout
expect(init.includes('Next: npx larder -c demo apply'), `init printed:\n${init}`)
const repoPkg = JSON.parse(readFileSync(join(project, 'demo', 'package.json'), 'utf8'))
expect(repoPkg.type === 'module', 'the repo package.json is not "type": "module"')
expect(
  larder('-c', 'demo', 'apply').stdout.includes('Registry version 1 written'),
  'apply wrote no registry',
)
const now = new Date()
const iso = (d) => d.toISOString()
writeFileSync(
  join(project, 'labels.csv'),
  `driver_id,event_timestamp\n1001,${iso(now)}\n1002,${iso(now)}\n9999,${iso(now)}\n`,
)
const hist = larder(
  '-c',
  'demo',
  'get-historical-features',
  '--entity-df',
  'labels.csv',
  '--features',
  'driver_hourly_stats:conv_rate,driver_hourly_stats:avg_daily_trips',
  '--output',
  'train.csv',
).stdout
expect(hist.includes('Wrote 3 rows x 4 columns'), `get-historical-features printed:\n${hist}`)
const train = readFileSync(join(project, 'train.csv'), 'utf8').trim().split('\n')
expect(
  train[0] === 'driver_id,event_timestamp,conv_rate,avg_daily_trips',
  `train.csv header: ${train[0]}`,
)
expect(/^1001,[^,]+,[0-9.]+,\d+$/.test(train[1] ?? ''), `driver 1001 has no features: ${train[1]}`)
const start = iso(new Date(now.getTime() - 2 * 86_400_000))
const mat = larder('-c', 'demo', 'materialize', start, iso(now)).stdout
expect(/Materialized 2 view\(s\), 10 row\(s\) written/.test(mat), `materialize printed:\n${mat}`)
const online = JSON.parse(
  larder(
    '-c',
    'demo',
    'get-online-features',
    '--entities',
    '{"driver_id":[1001,9999]}',
    '--features',
    'driver_hourly_stats:conv_rate',
  ).stdout,
)
expect(
  JSON.stringify(online.results[1].statuses) === '["PRESENT","NOT_FOUND"]',
  `online statuses: ${JSON.stringify(online.results[1].statuses)}`,
)
const serve = sh('npx', ['--no-install', 'larder', '-c', 'demo', 'serve', '--port', '0'], project, {
  allowFail: true,
})
expect(
  serve.status === 1 &&
    serve.stderr.trim() ===
      'error: [larder] [cli] larder serve needs @larder/server, which is not installed: run `npm install @larder/server` in your project',
  `serve without @larder/server: exit ${serve.status}\n${serve.stderr}`,
)

step("the repo's definitions type-check with its own package.json and tsconfig (typed store)")
writeFileSync(
  join(project, 'demo', 'typed.ts'),
  `import { FeatureStore } from '@larder/core'
import type * as defs from './features.ts'

const store = (await FeatureStore.open('.')).typed<typeof defs>()
const online = await store.getOnlineFeatures({
  entities: { driver_id: [1001] },
  features: ['driver_hourly_stats:conv_rate'],
})
const rate: number | null | undefined = online.toRows()[0]?.conv_rate
const training = await store.getHistoricalFeatures({
  entityDf: [{ driver_id: 1001, event_timestamp: new Date(), val_to_add: 1, val_to_add_2: 2 }],
  featureService: 'driver_activity',
})
const trips: bigint | null | undefined = (await training.toRows())[0]?.avg_daily_trips
// @ts-expect-error: not a feature of the view
await store.getOnlineFeatures({ entities: { driver_id: [1] }, features: ['driver_hourly_stats:nope'] })
void rate
void trips
`,
)
sh(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(project, 'demo')], project)
rmSync(join(project, 'demo', 'typed.ts'))

step('the SDK opens a repo with no install of its own from a plain Node script')
const elsewhere = join(work, 'elsewhere', 'demo')
cpSync(join(project, 'demo'), elsewhere, { recursive: true })
writeFileSync(
  join(project, 'read.mjs'),
  `import { FeatureStore } from '@larder/core'
const store = await FeatureStore.open(${JSON.stringify(elsewhere)})
const online = await store.getOnlineFeatures({
  entities: { driver_id: [1001] },
  features: ['driver_hourly_stats:avg_daily_trips'],
})
console.log(JSON.stringify(online.toJSON().results[1].statuses))
await store.close()
`,
)
const sdk = sh('node', ['read.mjs'], project).stdout.trim()
expect(sdk === '["PRESENT"]', `the SDK read ${sdk}`)

// 4. A third-party online store, published from its own tarball, as the docs describe it.
step('the online store of docs/writing-a-backend.md as a package of its own, under conformance')
const doc = readFileSync(join(root, 'docs', 'writing-a-backend.md'), 'utf8')
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
const storeCode = blocks.find((b) => /extends OnlineStoreBase/.test(b))
const testCode = blocks.find((b) => /onlineStoreConformance\(/.test(b))
expect(
  storeCode && testCode,
  'docs/writing-a-backend.md has no online store or no conformance test block',
)
const third = join(work, 'larder-map-online-store')
mkdirSync(join(third, 'src'), { recursive: true })
writeFileSync(join(third, 'src', 'index.ts'), storeCode)
writeFileSync(
  join(third, 'package.json'),
  `${JSON.stringify(
    {
      name: 'larder-map-online-store',
      version: '0.0.1',
      type: 'module',
      license: 'Apache-2.0',
      exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
      files: ['dist'],
      peerDependencies: { '@larder/core': '*' },
    },
    null,
    2,
  )}\n`,
)
// Compiled against the core the project installed, with the workspace's compiler.
writeFileSync(
  join(third, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      target: 'es2024',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      declaration: true,
      outDir: 'dist',
      rootDir: 'src',
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(root, 'apps', 'cli', 'node_modules', '@types')],
      paths: {
        '@larder/core': [join(project, 'node_modules', '@larder', 'core', 'dist', 'index.d.ts')],
      },
    },
    include: ['src'],
  }),
)
sh(join(root, 'node_modules', '.bin', 'tsc'), ['-p', third], third)
const packed = sh('npm', ['pack', '--pack-destination', tarDir], third)
  .stdout.trim()
  .split('\n')
  .pop()
const vitest = JSON.parse(
  readFileSync(join(root, 'apps', 'cli', 'node_modules', 'vitest', 'package.json'), 'utf8'),
).version
sh(
  'npm',
  ['install', join(tarDir, packed), tarballs.get('@larder/testing'), `vitest@${vitest}`],
  project,
)
mkdirSync(join(project, 'test'))
writeFileSync(
  join(project, 'test', 'conformance.test.ts'),
  testCode.replace(/from '\.\.\/src\/index\.js'/, "from 'larder-map-online-store'"),
)
const conf = sh('npx', ['--no-install', 'vitest', 'run', '--root', project], project)
const summary = conf.stdout.match(/Tests\s+(.*)/)?.[1] ?? ''
// Cases for capabilities the example store does not declare (store.capabilities) skip.
expect(
  /\d+ passed/.test(summary) && !/failed/.test(summary) && conf.status === 0,
  `conformance: ${summary}\n${conf.stdout}`,
)
process.stdout.write(`onlineStoreConformance on the published example store: ${summary.trim()}\n`)

step(`packaging check passed in ${((performance.now() - started) / 1000).toFixed(0)} s`)
if (!keep && !failed) rmSync(work, { recursive: true, force: true })
else process.stdout.write(`work folder: ${work}\n`)
