/**
 * `larder init DIR`: writes a runnable feature repo (the driver example) with Feast's driver
 * data, its timestamps moved so that the latest row is from the current hour.
 */
import { existsSync } from 'node:fs'
import { cp, mkdir, readdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
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
  return target
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
      ctx.io.out(`Next: larder -c ${dir} apply`)
    })
}
