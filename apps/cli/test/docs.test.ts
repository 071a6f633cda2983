// Every TypeScript sample in the docs compiles against the workspace's packages: README.md,
// docs/*.md and each package's README. A sample whose first line is a `// path.ts` comment is
// written at that path (so a test sample can import '../src/index.js'); the others are
// modules of their own. HTML comments right before a sample (invisible when rendered) give
// what a fragment needs to compile:
//   <!-- sample prelude: import { x } from '@larder/y' -->   code put before the sample
//   <!-- sample file: test/x.test.ts -->                    where the sample is written
//   <!-- sample file: @package/src/x.ts -->                 ... among its package's sources
//   <!-- sample stub src/index.ts: export ... -->            a module the sample imports (The online store of docs/writing-a-backend.md also runs, under the
// conformance suite, in the packaging check.)
import { spawnSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, test } from 'vitest'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const cli = fileURLToPath(new URL('..', import.meta.url))

function docs(): string[] {
  const out = [join(root, 'README.md')]
  for (const f of readdirSync(join(root, 'docs')).sort())
    if (f.endsWith('.md')) out.push(join(root, 'docs', f))
  for (const group of ['packages', 'apps', 'tooling'])
    for (const name of readdirSync(join(root, group)).sort()) {
      const readme = join(root, group, name, 'README.md')
      if (existsSync(readme)) out.push(readme)
    }
  out.push(join(cli, 'templates', 'quickstart', 'README.md'))
  return out
}

/** `@larder/x` -> its built types, wherever the package lives in the workspace. */
function workspacePaths(): Record<string, string[]> {
  const paths: Record<string, string[]> = {}
  for (const group of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, group))) {
      const pkgFile = join(root, group, name, 'package.json')
      if (!existsSync(pkgFile)) continue
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { name: string }
      paths[pkg.name] = [join(root, group, name, 'dist', 'index.d.ts')]
    }
  }
  return paths
}

test('every ts sample in the docs compiles', () => {
  // A package's samples are written inside that package (in a hidden folder removed after the
  // run), so that their imports resolve as its own code does: its dependencies, `../src/...`.
  // Samples of the root docs go into this package, which has every backend as a dependency.
  const runId = `.doc-samples-${process.pid}`
  const work = mkdtempSync(join(tmpdir(), 'larder-doc-samples-'))
  const created: string[] = []
  const origin = new Map<string, string>()
  const files: string[] = []
  try {
    for (const doc of docs()) {
      const text = readFileSync(doc, 'utf8')
      const home =
        doc.startsWith(join(root, 'packages')) ||
        doc.startsWith(join(root, 'apps')) ||
        doc.startsWith(join(root, 'tooling'))
          ? join(root, relative(root, doc).split(sep).slice(0, 2).join(sep))
          : cli
      const folder = join(home, runId, relative(root, doc).replace(/[^a-zA-Z0-9]+/g, '_'))
      let k = 0
      for (const m of text.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```/gm)) {
        const before = text.slice(0, m.index)
        const line = before.split('\n').length + 1
        // The HTML comments between the previous paragraph and the sample.
        const notes = /((?:<!--[\s\S]*?-->\s*)*)$/.exec(before)?.[1] ?? ''
        let prelude = ''
        let named = /^\/\/ ([\w./-]+\.ts)\s*\n/.exec(m[1] ?? '')?.[1]
        for (const n of notes.matchAll(
          /<!-- sample (prelude|file|stub ([\w./-]+)):\s*([\s\S]*?)\s*-->/g,
        )) {
          if (n[1] === 'prelude') prelude += `${n[3]}\n`
          else if (n[1] === 'file') named = n[3]
          else {
            const stub = join(folder, n[2]!)
            mkdirSync(dirname(stub), { recursive: true })
            writeFileSync(stub, `${n[3]}\n`)
            files.push(stub)
          }
        }
        const code = prelude + (m[1] ?? '')
        // `@package/...`: inside the doc's own package (a module among its sources).
        const file = named?.startsWith('@package/')
          ? join(home, named.slice('@package/'.length))
          : join(folder, named ?? `sample-${++k}.ts`)
        if (named?.startsWith('@package/')) created.push(file)
        mkdirSync(dirname(file), { recursive: true })
        if (!created.includes(join(home, runId))) created.push(join(home, runId))
        writeFileSync(file, code)
        origin.set(file, `${relative(root, doc)}:${line}`)
        files.push(file)
      }
    }
    expect(files.length).toBeGreaterThan(20)
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2024',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          moduleDetection: 'force',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          allowImportingTsExtensions: true,
          types: ['node'],
          typeRoots: [join(cli, 'node_modules', '@types')],
          paths: workspacePaths(),
        },
        files,
      }),
    )
    const tsc = spawnSync(join(cli, 'node_modules', '.bin', 'tsc'), ['-p', work], {
      cwd: work,
      encoding: 'utf8',
    })
    // Each error names the doc and the line its sample starts at.
    const errors = (tsc.stdout + tsc.stderr)
      .split('\n')
      .filter((l) => /error TS/.test(l))
      .map((l) => {
        const file = resolve(work, l.split('(')[0] ?? '')
        return `${origin.get(file) ?? file}: ${l.slice(l.indexOf('('))}`
      })
    expect(errors).toEqual([])
    expect(tsc.status).toBe(0)
  } finally {
    for (const dir of created) rmSync(dir, { recursive: true, force: true })
    rmSync(work, { recursive: true, force: true })
  }
})
