/**
 * Temporary files that a crash cannot leave behind for ever. A write stages its output as
 * `.<name>.<pid>.<random>.tmp` next to the target (same file system, so the final rename is
 * atomic). The owner's pid in the name lets the next write to the same target (or
 * `sweepStaleTemps` from a doctor command) tell a stale file of a killed process from the
 * live one of a concurrent writer, and remove it.
 */
import { randomUUID } from 'node:crypto'
import { readdir, rm, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** A temp file older than this is stale even if a process with its pid is running (pid reuse). */
const MAX_TEMP_AGE_MS = 6 * 3600_000

/**
 * Where to stage a new version of `target`: a hidden name in the same folder carrying this
 * process's pid (see {@link sweepStaleTemps}).
 * @example
 * tempPathFor('/repo/data/registry.json') // '/repo/data/.registry.json.4242.1f0c2a9b.tmp'
 */
export function tempPathFor(target: string): string {
  const id = randomUUID().replaceAll('-', '').slice(0, 12)
  return join(dirname(target), `.${basename(target)}.${process.pid}.${id}.tmp`)
}

/** True when a process with this pid runs on this machine. */
function isAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * Removes the temp files (and temp folders) of `target` left by processes that are gone:
 * names made by {@link tempPathFor} (and the registry's older `<name>.<pid>.<uuid>.tmp`)
 * whose pid no longer runs, or that are older than 6 hours. Never throws: a sweep that fails
 * leaves files for the next one.
 * @returns the paths removed.
 * @example
 * await sweepStaleTemps('/repo/data/driver_stats.parquet')
 */
export async function sweepStaleTemps(target: string): Promise<string[]> {
  const name = escapeRegExp(basename(target))
  const pattern = new RegExp(`^(?:\\.${name}|${name})\\.(\\d+)\\.[0-9a-f-]+\\.tmp$`)
  const removed: string[] = []
  let entries: string[]
  try {
    entries = await readdir(dirname(target))
  } catch {
    return removed
  }
  for (const entry of entries) {
    const m = pattern.exec(entry)
    if (!m) continue
    const path = join(dirname(target), entry)
    try {
      const old = Date.now() - (await stat(path)).mtimeMs > MAX_TEMP_AGE_MS
      if (!old && isAlive(Number(m[1]))) continue
      await rm(path, { recursive: true, force: true })
      removed.push(path)
    } catch {
      // Gone already, or not ours to remove: the next sweep tries again.
    }
  }
  return removed
}

/**
 * A temp folder name for this process under `parent`: `<prefix><pid>-<random>`, so that
 * {@link sweepStaleTempDirs} can remove the folders of processes that were killed.
 */
export function tempDirName(prefix: string): string {
  return `${prefix}${process.pid}-${randomUUID().replaceAll('-', '').slice(0, 12)}`
}

/**
 * Removes folders `<prefix><pid>-*` under `parent` whose process no longer runs (see
 * {@link tempDirName}). Never throws.
 * @returns the paths removed.
 */
export async function sweepStaleTempDirs(parent: string, prefix: string): Promise<string[]> {
  const pattern = new RegExp(`^${escapeRegExp(prefix)}(\\d+)-[0-9a-f]+$`)
  const removed: string[] = []
  let entries: string[]
  try {
    entries = await readdir(parent)
  } catch {
    return removed
  }
  for (const entry of entries) {
    const m = pattern.exec(entry)
    if (!m || isAlive(Number(m[1]))) continue
    const path = join(parent, entry)
    try {
      await rm(path, { recursive: true, force: true })
      removed.push(path)
    } catch {
      // Not ours to remove (another user's): leave it.
    }
  }
  return removed
}
