/**
 * Loads a feature repo: `larder.config.ts` and every other `.ts` file in the folder (except
 * those matched by `.larderignore`), collecting the exported definitions. TypeScript runs
 * through Node's built-in type stripping (Node >= 24), so repo files use erasable syntax
 * only (no enums, no parameter properties) and `import type` for types.
 */
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { join, matchesGlob, relative, resolve, sep } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type LarderConfig, validateConfig } from './config.js'
import { type AnyDefinition, isDefinition } from './definitions.js'
import { isLarderError, LarderError } from './errors.js'
import type { Located } from './repo.js'
import { installRepoResolution, packageName } from './runtime.js'

/** The config file name. */
export const CONFIG_FILE = 'larder.config.ts'
/** The ignore file name (one glob per line, `#` comments), like Feast's `.feastignore`. */
export const IGNORE_FILE = '.larderignore'

const ALWAYS_IGNORED = ['node_modules', '.git', 'dist', 'data', '.turbo']

/** A loaded repo. */
export interface LoadedRepo {
  /** Absolute repo path. */
  repoPath: string
  config: LarderConfig
  /** Definitions with where they were exported from. */
  definitions: Array<Located<AnyDefinition>>
  /** Definition files read, relative to the repo. */
  files: string[]
}

async function readIgnore(repoPath: string): Promise<string[]> {
  const file = join(repoPath, IGNORE_FILE)
  if (!existsSync(file)) return []
  return (await readFile(file, 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.replace(/\/$/, ''))
}

function ignored(rel: string, patterns: string[]): boolean {
  const posix = rel.split(sep).join('/')
  return patterns.some(
    (p) =>
      posix === p ||
      posix.startsWith(`${p}/`) ||
      matchesGlob(posix, p) ||
      matchesGlob(posix, `${p}/**`),
  )
}

/** Lists the definition files of a repo (every `.ts` but the config, tests and ignored files). */
export async function listDefinitionFiles(repoPath: string): Promise<string[]> {
  const patterns = await readIgnore(repoPath)
  const out: string[] = []
  const walk = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true })
    entries.sort((a, b) => a.name.localeCompare(b.name))
    for (const entry of entries) {
      const abs = join(dir, entry.name)
      const rel = relative(repoPath, abs)
      if (entry.name.startsWith('.') || (ALWAYS_IGNORED.includes(entry.name) && dir === repoPath))
        continue
      if (entry.name === 'node_modules' || ignored(rel, patterns)) continue
      if (entry.isDirectory()) await walk(abs)
      else if (
        entry.isFile() &&
        /\.(m?ts)$/.test(entry.name) &&
        !/\.d\.m?ts$/.test(entry.name) &&
        !/\.(test|spec)\.m?ts$/.test(entry.name) &&
        rel !== CONFIG_FILE
      ) {
        out.push(rel)
      }
    }
  }
  await walk(repoPath)
  return out
}

/** The package a failed import could not find, when that is why it failed. */
function missingPackage(err: unknown): string | undefined {
  if ((err as NodeJS.ErrnoException | undefined)?.code !== 'ERR_MODULE_NOT_FOUND') return undefined
  const m = /Cannot find package '([^']+)'/.exec((err as Error).message)
  return m?.[1] ? packageName(m[1]) : undefined
}

async function importFile(repoPath: string, rel: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(join(repoPath, rel)).href)) as Record<string, unknown>
  } catch (err) {
    if (isLarderError(err)) {
      throw new LarderError(err.code, `${rel}: ${err.reason}`, {
        component: 'loader',
        cause: err,
        ...(err.hint ? { hint: err.hint } : {}),
      })
    }
    const missing = missingPackage(err)
    if (missing) {
      throw new LarderError('INVALID_CONFIG', `${rel} imports ${missing}, which is not installed`, {
        component: 'loader',
        cause: err,
        hint: `run \`npm install ${missing}\` in the repo's project (${repoPath})`,
      })
    }
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err)
    throw new LarderError('INVALID_DEFINITION', `cannot load ${rel}: ${message}`, {
      component: 'loader',
      cause: err,
      hint: 'fix the file; repo files run with Node type stripping (no enums, use `import type` for types)',
    })
  }
}

/**
 * Loads the repo at `repoPath`: its config and definitions.
 * @throws LarderError INVALID_CONFIG when the folder or config is missing or invalid.
 */
export async function loadRepo(repoPath: string): Promise<LoadedRepo> {
  const abs = resolve(repoPath)
  installRepoResolution()
  if (!existsSync(abs)) {
    throw new LarderError('INVALID_CONFIG', `repo folder ${abs} does not exist`, {
      component: 'loader',
      hint: 'create one with `larder init DIR`, or pass the right folder with -c',
    })
  }
  const configPath = join(abs, CONFIG_FILE)
  if (!existsSync(configPath)) {
    throw new LarderError('INVALID_CONFIG', `no ${CONFIG_FILE} in ${abs}`, {
      component: 'loader',
      hint: 'create a repo with `larder init DIR`, or pass the repo folder with -c',
    })
  }
  const configModule = await importFile(abs, CONFIG_FILE)
  const config = configModule.default
  validateConfig(config, configPath)
  const files = await listDefinitionFiles(abs)
  const definitions: Array<Located<AnyDefinition>> = []
  for (const rel of files) {
    const mod = await importFile(abs, rel)
    for (const [name, value] of Object.entries(mod)) {
      if (isDefinition(value)) definitions.push({ definition: value, origin: `${rel}#${name}` })
    }
  }
  return { repoPath: abs, config, definitions, files }
}
