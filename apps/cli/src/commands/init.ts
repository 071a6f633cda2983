/**
 * `larder init DIR`: writes a runnable feature repo (the driver example) with Feast's driver
 * data, its timestamps moved so that the latest row is from the current hour.
 */
import { existsSync } from 'node:fs'
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import { LarderError } from '@larder/core'
import type { Command } from 'commander'
import type { CommandContext } from '../context.js'

/** The template folder shipped with the CLI. */
export const TEMPLATE_DIR = fileURLToPath(new URL('../../templates/quickstart', import.meta.url))

/** Options of {@link initRepo}. */
export interface InitOptions {
  /** The latest data row is moved to within the hour before this instant. @default now */
  now?: Date
  /** Write into a non-empty folder. @default false */
  force?: boolean
}

/**
 * Creates a feature repo in `dir` and returns its absolute path.
 * @throws LarderError INVALID_INPUT when `dir` exists and is not empty (unless `force`).
 */
export async function initRepo(dir: string, options: InitOptions = {}): Promise<string> {
  const target = resolve(dir)
  if (existsSync(target) && (await readdir(target)).length > 0 && !options.force) {
    throw new LarderError('INVALID_INPUT', `${target} exists and is not empty`, {
      component: 'init',
      hint: 'choose a new folder, or pass --force to write into it',
    })
  }
  await mkdir(target, { recursive: true })
  await cp(TEMPLATE_DIR, target, { recursive: true, filter: (src) => !src.endsWith('.parquet') })
  await mkdir(join(target, 'data'), { recursive: true })
  await shiftDriverData(
    join(TEMPLATE_DIR, 'data', 'driver_stats.parquet'),
    join(target, 'data', 'driver_stats.parquet'),
    options.now,
  )
  await writeProjectFiles(target)
  return target
}

/** The packages a repo made by `larder init` imports (its config and definitions). */
export const REPO_PACKAGES = ['@larder/core', '@larder/file', '@larder/sqlite'] as const

/**
 * The repo's `package.json` (`"type": "module"`, the packages it uses, the CLI) and a
 * `tsconfig.json` for type-checking its definitions, so that after `npm install` the repo is
 * a project of its own. Files that exist already are left as they are.
 */
async function writeProjectFiles(target: string): Promise<void> {
  const cli = JSON.parse(
    await readFile(new URL('../../package.json', import.meta.url), 'utf8'),
  ) as { version: string }
  const range = `^${cli.version}`
  const name =
    basename(target)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[._-]+/, '') || 'feature-repo'
  const pkg = {
    name,
    private: true,
    type: 'module',
    description: 'A Larder feature repo',
    engines: { node: '>=24' },
    dependencies: Object.fromEntries(REPO_PACKAGES.map((p) => [p, range])),
    devDependencies: { larder: range },
  }
  const tsconfig = {
    compilerOptions: {
      target: 'es2024',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      verbatimModuleSyntax: true,
      erasableSyntaxOnly: true,
      allowImportingTsExtensions: true,
    },
    include: ['**/*.ts'],
    exclude: ['node_modules', 'data'],
  }
  for (const [file, content] of [
    ['package.json', pkg],
    ['tsconfig.json', tsconfig],
  ] as const) {
    const path = join(target, file)
    if (!existsSync(path)) await writeFile(path, `${JSON.stringify(content, null, 2)}\n`)
  }
}

/**
 * How the user runs this CLI: `npx larder` when it is installed from npm, `pnpm exec larder`
 * inside the Larder monorepo (where the root has the workspace's `larder` bin).
 */
export function larderCommand(): string {
  return import.meta.url.includes('/node_modules/') ? 'npx larder' : 'pnpm exec larder'
}

async function shiftDriverData(from: string, to: string, now = new Date()): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:')
  const conn = await instance.connect()
  try {
    await conn.run("SET TimeZone = 'UTC'")
    const quote = (p: string) => `'${p.replaceAll("'", "''")}'`
    // A whole number of hours, so hourly rows stay on the hour, chosen so that the latest row
    // lands within the last hour and never in the future.
    const target = `TIMESTAMPTZ ${quote(now.toISOString())}`
    const latest = `(SELECT max(event_timestamp) FROM read_parquet(${quote(from)}))`
    const shift = `to_hours(CAST(floor(epoch(${target} - ${latest}) / 3600) AS BIGINT))`
    await rm(to, { force: true })
    await conn.run(
      `COPY (SELECT * REPLACE (event_timestamp + ${shift} AS event_timestamp, created + ${shift} AS created) FROM read_parquet(${quote(from)}) ORDER BY event_timestamp, driver_id) TO ${quote(to)} (FORMAT parquet)`,
    )
  } finally {
    conn.closeSync()
    instance.closeSync()
  }
}

/** Adds `init` to `program`. */
export function registerInit(program: Command, ctx: CommandContext): void {
  program
    .command('init')
    .description('create a feature repo with the driver example and its data')
    .argument('<dir>', 'folder to create')
    .option('--force', 'write into a folder that is not empty')
    .action(async (dir: string, opts: { force?: boolean }) => {
      const target = await initRepo(resolve(ctx.cwd(), dir), { force: !!opts.force })
      ctx.io.out(`Created a feature repo in ${target}`)
      ctx.io.out(`Next: ${larderCommand()} -c ${dir} apply`)
      ctx.io.out(
        `Its package.json lists the packages it uses: \`npm install\` in ${dir} makes it a project of its own.`,
      )
    })
}
