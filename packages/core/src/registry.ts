/**
 * The registry: a JSON document holding every applied definition (as specs) and each view's
 * materialization intervals, kept by a {@link RegistryStore} (a local file by default; S3,
 * GCS or PostgreSQL to share it between machines). Updates are versioned: an update states
 * the version it was computed from, and the store writes only if nobody wrote in between
 * (compare-and-swap), so two concurrent `apply` runs, on one machine or on several, can never
 * silently lose one's changes.
 */
import { createHash } from 'node:crypto'
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseTime } from './duration.js'
import { isLarderError, LarderError } from './errors.js'
import { type RegistryStore, registryConflict, type StoredRegistry } from './registry-store.js'
import type {
  EntitySpec,
  FeatureServiceSpec,
  FeatureViewSpec,
  OnDemandFeatureViewSpec,
  SourceSpec,
  StreamFeatureViewSpec,
} from './spec.js'
import { sweepStaleTemps, tempPathFor } from './temp-files.js'

/** A materialized interval of a view, ISO-8601 UTC. */
export interface MaterializationInterval {
  start: string
  end: string
  /** When it was recorded. */
  at: string
}

/**
 * Adds an interval to a view's recorded intervals, merging every interval it overlaps or
 * touches (one's end equal to the other's start) into one: repeated and incremental runs
 * keep the list as short as the number of disjoint spans, whatever the number of runs. The
 * result is sorted by start; a merged interval keeps the latest `at`.
 * @example
 * mergeInterval([{ start: 'T0', end: 'T1', at }], { start: 'T1', end: 'T2', at: later })
 * // [{ start: 'T0', end: 'T2', at: later }]
 */
export function mergeInterval(
  intervals: readonly MaterializationInterval[],
  added: MaterializationInterval,
): MaterializationInterval[] {
  const spans = [...intervals, added].map((i) => ({
    start: parseTime(i.start, 'recorded start'),
    end: parseTime(i.end, 'recorded end'),
    interval: i,
  }))
  spans.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
  const out: Array<(typeof spans)[number]> = []
  for (const span of spans) {
    const last = out.at(-1)
    if (!last || span.start > last.end) {
      out.push({ ...span })
      continue
    }
    let { end, at } = last.interval
    if (span.end > last.end) {
      last.end = span.end
      end = span.interval.end
    }
    if (span.interval.at > at) at = span.interval.at
    last.interval = { start: last.interval.start, end, at }
  }
  return out.map((s) => s.interval)
}

/** The registry file's content. */
export interface RegistryData {
  /** Layout version of this file. */
  formatVersion: 1
  project: string
  /** Incremented by every write; updates are checked against it. */
  version: number
  updatedAt: string
  entities: EntitySpec[]
  dataSources: SourceSpec[]
  featureViews: FeatureViewSpec[]
  streamFeatureViews: StreamFeatureViewSpec[]
  onDemandFeatureViews: OnDemandFeatureViewSpec[]
  featureServices: FeatureServiceSpec[]
  /** view name -> intervals, sorted by start, touching or overlapping ones merged. */
  materializations: Record<string, MaterializationInterval[]>
}

/** An empty registry for a project (version 0: never written). */
export function emptyRegistry(project: string): RegistryData {
  return {
    formatVersion: 1,
    project,
    version: 0,
    updatedAt: new Date(0).toISOString(),
    entities: [],
    dataSources: [],
    featureViews: [],
    streamFeatureViews: [],
    onDemandFeatureViews: [],
    featureServices: [],
    materializations: {},
  }
}

const LIST_FIELDS = [
  'entities',
  'dataSources',
  'featureViews',
  'streamFeatureViews',
  'onDemandFeatureViews',
  'featureServices',
] as const

function checkShape(data: unknown, path: string): asserts data is RegistryData {
  const fail = (why: string) =>
    new LarderError('REGISTRY_CORRUPT', `registry ${path} is not a Larder registry: ${why}`, {
      component: 'registry',
      hint: 'restore it from a backup, or delete it and run `larder apply` again (materialization history is lost)',
    })
  if (!data || typeof data !== 'object') throw fail('not a JSON object')
  const d = data as Record<string, unknown>
  if (d.formatVersion !== 1) throw fail(`unknown formatVersion ${JSON.stringify(d.formatVersion)}`)
  if (typeof d.version !== 'number' || typeof d.project !== 'string')
    throw fail('version or project missing')
  for (const f of LIST_FIELDS) if (!Array.isArray(d[f])) throw fail(`'${f}' is not a list`)
  if (!d.materializations || typeof d.materializations !== 'object')
    throw fail("'materializations' missing")
}

/** Options of {@link Registry.update}. */
export interface RegistryUpdateOptions {
  /**
   * The version the change was computed from. When the registry has moved on since, the
   * update fails with REGISTRY_CONFLICT instead of overwriting someone else's change. Omit
   * for merges that re-read the latest data (materialization intervals): those are retried
   * on a concurrent write.
   */
  expectedVersion?: number
}

/** Options of {@link FileRegistryStore}. */
export interface FileRegistryStoreOptions {
  /** How long a write waits for another writer's lock file. @default 10000 */
  lockTimeoutMs?: number
}

/**
 * The registry logic over any {@link RegistryStore} (the local file by default): parsing and
 * shape checks, the project check, versioned updates with REGISTRY_CONFLICT, teardown.
 * @example
 * const registry = new Registry('/repo/data/registry.json', 'quickstart')
 * const data = await registry.read()
 */
export class Registry {
  /** Where the registry lives, for messages (a path or a URL without credentials). */
  readonly location: string
  readonly project: string
  readonly #store: Promise<RegistryStore>

  /**
   * @param store a store, a promise of one (URL settings load their package first), or a
   * file path.
   * @param location what messages call it, when `store` is a promise.
   */
  constructor(
    store: RegistryStore | Promise<RegistryStore> | string,
    project: string,
    location?: string,
  ) {
    this.project = project
    const resolved: RegistryStore | Promise<RegistryStore> =
      typeof store === 'string' ? new FileRegistryStore(store) : store
    this.location =
      location ??
      (typeof store === 'string' ? store : 'location' in resolved ? resolved.location : 'registry')
    this.#store = Promise.resolve(resolved).then((s) => {
      s.configure?.({ project })
      return s
    })
    // A store that failed to load reports it on use, not as an unhandled rejection.
    this.#store.catch(() => {})
  }

  /** Same as {@link location} (the file path for file registries). */
  get path(): string {
    return this.location
  }

  /** The store behind this registry. */
  store(): Promise<RegistryStore> {
    return this.#store
  }

  /** Reads the registry; nothing stored yet is an empty registry (version 0). */
  async read(): Promise<RegistryData> {
    return (await this.#readStored()).data
  }

  async #readStored(): Promise<{ data: RegistryData; token: string | undefined }> {
    const store = await this.#store
    const stored = await store.read()
    if (stored === undefined) return { data: emptyRegistry(this.project), token: undefined }
    let data: unknown
    try {
      data = JSON.parse(stored.text)
    } catch (err) {
      throw new LarderError('REGISTRY_CORRUPT', `registry ${this.location} is not valid JSON`, {
        component: 'registry',
        cause: err,
        hint: 'restore it from a backup, or delete it and run `larder apply` again',
      })
    }
    checkShape(data, this.location)
    if (data.project !== this.project) {
      throw new LarderError(
        'INVALID_CONFIG',
        `registry ${this.location} belongs to project '${data.project}', but the config says '${this.project}'`,
        {
          component: 'registry',
          hint: "point `registry` in larder.config.ts at this project's own registry",
        },
      )
    }
    return { data, token: stored.version }
  }

  /**
   * Applies `mutate` to the latest data and writes the result only if nobody wrote in
   * between (the store's compare-and-swap). Resolves with what was written. Without
   * `expectedVersion`, a concurrent write makes it re-read and re-apply `mutate` (up to 20
   * times); with it, a concurrent write is a REGISTRY_CONFLICT.
   */
  async update(
    mutate: (data: RegistryData) => RegistryData | Promise<RegistryData>,
    options: RegistryUpdateOptions = {},
  ): Promise<RegistryData> {
    const store = await this.#store
    for (let attempt = 1; ; attempt++) {
      const { data: current, token } = await this.#readStored()
      if (options.expectedVersion !== undefined && current.version !== options.expectedVersion) {
        throw new LarderError(
          'REGISTRY_CONFLICT',
          `registry ${this.location} changed while this command ran (it was version ${options.expectedVersion}, it is now version ${current.version}): another apply won the race`,
          {
            component: 'registry',
            hint: 'run the command again to compute the change against the new registry',
          },
        )
      }
      const next = await mutate(structuredClone(current))
      next.version = current.version + 1
      next.updatedAt = new Date().toISOString()
      try {
        await store.write(`${JSON.stringify(next, null, 2)}\n`, token)
        return next
      } catch (err) {
        if (!isLarderError(err, 'REGISTRY_CONFLICT')) throw err
        if (options.expectedVersion !== undefined) {
          throw new LarderError(
            'REGISTRY_CONFLICT',
            `registry ${this.location} changed while this command ran (it was version ${options.expectedVersion}): another apply won the race`,
            {
              component: 'registry',
              cause: err,
              hint: 'run the command again to compute the change against the new registry',
            },
          )
        }
        if (attempt >= 20) throw err
        await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt))
      }
    }
  }

  /** Deletes the registry (teardown). */
  async remove(): Promise<void> {
    await (await this.#store).delete()
  }

  /** Releases the store's connections. */
  async close(): Promise<void> {
    const store = await this.#store.catch(() => undefined)
    await store?.close?.()
  }
}

/**
 * The registry as a local JSON file (the default): written atomically (temp file + rename)
 * under a lock file; its version token is the SHA-256 of the content.
 * @example
 * const store = fileRegistryStore('/repo/data/registry.json')
 */
export class FileRegistryStore implements RegistryStore {
  readonly path: string
  readonly location: string
  readonly #lockTimeoutMs: number

  constructor(path: string, options: FileRegistryStoreOptions = {}) {
    this.path = path
    this.location = path
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 10_000
  }

  async read(): Promise<StoredRegistry | undefined> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw new LarderError(
        'REGISTRY_CORRUPT',
        `cannot read registry ${this.path}: ${(err as Error).message}`,
        {
          component: 'registry',
          cause: err,
        },
      )
    }
    return { text, version: contentVersion(text) }
  }

  async write(text: string, expectedVersion: string | undefined): Promise<string> {
    const release = await this.lock(this.#lockTimeoutMs)
    try {
      const current = await this.read()
      if (current?.version !== expectedVersion) {
        throw registryConflict(
          this.location,
          current === undefined
            ? 'it was deleted'
            : expectedVersion === undefined
              ? 'it already exists'
              : 'its content moved on',
        )
      }
      await this.writeAtomically(text)
      return contentVersion(text)
    } finally {
      await release()
    }
  }

  async delete(): Promise<void> {
    const release = await this.lock(this.#lockTimeoutMs)
    try {
      await rm(this.path, { force: true })
    } finally {
      await release()
    }
  }

  private async writeAtomically(text: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true })
    // Under the lock: temp files of writers that were killed are removed here.
    await sweepStaleTemps(this.path)
    const tmp = tempPathFor(this.path)
    try {
      const handle = await open(tmp, 'w')
      try {
        await handle.writeFile(text)
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(tmp, this.path)
    } catch (err) {
      await rm(tmp, { force: true })
      throw err
    }
  }

  private async lock(timeoutMs: number): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`
    await mkdir(dirname(this.path), { recursive: true })
    const deadline = Date.now() + timeoutMs
    let delay = 2
    for (;;) {
      try {
        const handle = await open(lockPath, 'wx')
        await handle.writeFile(JSON.stringify({ pid: process.pid, at: Date.now() }))
        await handle.close()
        return async () => {
          await rm(lockPath, { force: true })
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      if (await this.lockIsStale(lockPath)) {
        await rm(lockPath, { force: true })
        continue
      }
      if (Date.now() > deadline) {
        throw new LarderError(
          'REGISTRY_CONFLICT',
          `registry ${this.path} is locked by another Larder process`,
          {
            component: 'registry',
            hint: `wait for it to finish; if none is running, delete ${lockPath}`,
          },
        )
      }
      await new Promise((r) => setTimeout(r, delay))
      delay = Math.min(delay * 2, 50)
    }
  }

  private async lockIsStale(lockPath: string): Promise<boolean> {
    try {
      const text = await readFile(lockPath, 'utf8')
      const { pid, at } = JSON.parse(text) as { pid: number; at: number }
      if (Date.now() - at > 120_000) return true
      try {
        process.kill(pid, 0)
        return false
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ESRCH'
      }
    } catch {
      // Half-written or vanished lock: stale only if it is old.
      try {
        return Date.now() - (await stat(lockPath)).mtimeMs > 5_000
      } catch {
        return true
      }
    }
  }
}

/** Options of {@link copyRegistry}. */
export interface CopyRegistryOptions {
  /** Replace a registry already at the destination. @default false */
  overwrite?: boolean
}

/**
 * Copies a project's registry from one store to another (moving it to S3, GCS or PostgreSQL,
 * or back to a file). The document is checked before it is written; the destination must be
 * empty unless `overwrite`, and the write is a compare-and-swap like any other.
 * @returns the copied registry.
 * @throws LarderError NOT_FOUND when the source holds no registry, REGISTRY_CONFLICT when the
 * destination holds one (without `overwrite`) or changed during the copy.
 * @example
 * await copyRegistry(fileRegistryStore('data/registry.json'), s3Registry('s3://b/registry.json'))
 */
export async function copyRegistry(
  from: RegistryStore,
  to: RegistryStore,
  options: CopyRegistryOptions = {},
): Promise<RegistryData> {
  const source = await from.read()
  if (source === undefined) {
    throw new LarderError('NOT_FOUND', `there is no registry at ${from.location}`, {
      component: 'registry',
      hint: 'check the source location, or run `larder apply` to create one',
    })
  }
  let data: unknown
  try {
    data = JSON.parse(source.text)
  } catch (err) {
    throw new LarderError('REGISTRY_CORRUPT', `registry ${from.location} is not valid JSON`, {
      component: 'registry',
      cause: err,
    })
  }
  checkShape(data, from.location)
  to.configure?.({ project: data.project })
  const existing = await to.read()
  if (existing !== undefined && !options.overwrite) {
    throw new LarderError('REGISTRY_CONFLICT', `${to.location} already holds a registry`, {
      component: 'registry',
      hint: 'pass --overwrite to replace it, or choose another destination',
    })
  }
  await to.write(source.text, existing?.version)
  return data
}

/** The version token of a file registry: the SHA-256 of its content. */
function contentVersion(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/** The default registry store: a local JSON file. */
export function fileRegistryStore(
  path: string,
  options?: FileRegistryStoreOptions,
): FileRegistryStore {
  return new FileRegistryStore(path, options)
}

/** Writes a registry snapshot to a path (used by tests and `registry-dump --output`). */
export async function writeRegistryFile(path: string, data: RegistryData): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, `${JSON.stringify(data, null, 2)}\n`)
}
