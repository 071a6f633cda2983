/**
 * Where a registry document is kept: the contract every registry store implements (the local
 * file by default; S3, GCS and PostgreSQL in their own packages), and how a `registry` setting
 * of `larder.config.ts` (a path, a URL or a store object) becomes a store.
 *
 * A store knows nothing of registry content: it reads and writes one text document with a
 * version token (a content hash, an ETag, a GCS generation, a row version) and writes only if
 * the document is still at the version the writer read (compare-and-swap). The registry logic
 * (diff, intervals, conflict messages, caching) lives above it, once, in `Registry`.
 */
import { isAbsolute, resolve } from 'node:path'
import { LarderError } from './errors.js'

/** A registry document as stored, with the token that identifies this version of it. */
export interface StoredRegistry {
  /** The document (JSON text). */
  text: string
  /**
   * Opaque token of this version (ETag, generation, row version, content hash). Passed back
   * to {@link RegistryStore.write} as the expected version.
   */
  version: string
}

/**
 * Keeps one registry document. Implementations: `fileRegistryStore` (core, the default),
 * `s3Registry` (@larder/registry-s3), `gcsRegistry` (@larder/registry-gcs), `postgresRegistry`
 * (@larder/registry-postgres). Run `registryStoreConformance` from @larder/testing on a new
 * one.
 */
export interface RegistryStore {
  /** Where the document lives, for messages (`s3://bucket/key`); never holds credentials. */
  readonly location: string
  /** The document and its version token; `undefined` when nothing is stored yet. */
  read(): Promise<StoredRegistry | undefined>
  /**
   * Writes the document only if the stored one is still at `expectedVersion` (`undefined`:
   * only if none is stored). Resolves with the new version token.
   * @throws LarderError REGISTRY_CONFLICT when another writer got there first (nothing is
   * written); BACKEND_UNAVAILABLE / BACKEND_ERROR when the store cannot be reached or refuses.
   */
  write(text: string, expectedVersion: string | undefined): Promise<string>
  /** Removes the document (teardown); no error when there is none. */
  delete(): Promise<void>
  /**
   * Called once by core before any other call with the config's project (a store keeping
   * several projects' registries, such as a PostgreSQL table, keys its row by it).
   */
  configure?(context: { project: string }): void
  /** Releases connections. */
  close?(): Promise<void>
}

/** The REGISTRY_CONFLICT error a store throws when its compare-and-swap fails. */
export function registryConflict(location: string, detail?: string): LarderError {
  return new LarderError(
    'REGISTRY_CONFLICT',
    `registry ${location} was changed by another writer${detail ? ` (${detail})` : ''}`,
    {
      component: 'registry',
      hint: 'run the command again to compute the change against the new registry',
    },
  )
}

/**
 * The package that provides each registry URL scheme. A URL `registry` setting loads the
 * package (it must be installed beside @larder/core) and calls its `registryStore(url)`.
 */
export const REGISTRY_SCHEMES: Readonly<Record<string, string>> = {
  's3:': '@larder/registry-s3',
  'gs:': '@larder/registry-gcs',
  'postgres:': '@larder/registry-postgres',
  'postgresql:': '@larder/registry-postgres',
}

/** What `registry` in `larder.config.ts` may be. */
export type RegistrySetting = string | RegistryStore

/** True when `value` looks like a {@link RegistryStore}. */
export function isRegistryStore(value: unknown): value is RegistryStore {
  const v = value as Partial<RegistryStore> | null
  return (
    !!v &&
    typeof v === 'object' &&
    typeof v.read === 'function' &&
    typeof v.write === 'function' &&
    typeof v.delete === 'function' &&
    typeof v.location === 'string'
  )
}

/** The URL scheme of a registry setting (`s3:`), or undefined for a file path. */
export function registryScheme(setting: string): string | undefined {
  const m = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(setting)
  if (!m || m[1] === undefined) return undefined
  const scheme = m[1].toLowerCase()
  return scheme === 'file:' ? undefined : scheme
}

/**
 * What messages call a `registry` setting: the store's location, the absolute file path, or
 * the URL without its password and query.
 */
export function registryLocation(setting: RegistrySetting | undefined, repoPath: string): string {
  if (setting !== undefined && typeof setting !== 'string') return setting.location
  const value = setting ?? 'data/registry.json'
  if (registryScheme(value) === undefined) {
    const path = value.startsWith('file://') ? new URL(value).pathname : value
    return isAbsolute(path) ? path : resolve(repoPath, path)
  }
  try {
    const u = new URL(value)
    if (u.password) u.password = '***'
    u.search = ''
    return u.toString()
  } catch {
    return `${registryScheme(value)}// registry`
  }
}

/**
 * Turns a `registry` setting into a store: a store object as is; `s3://`, `gs://`,
 * `postgres://` URLs through their package; anything else as a file path relative to the repo.
 * @example
 * const store = await resolveRegistryStore('data/registry.json', '/repo', fileRegistryStore)
 */
export async function resolveRegistryStore(
  setting: RegistrySetting | undefined,
  repoPath: string,
  fileStore: (path: string) => RegistryStore,
): Promise<RegistryStore> {
  if (setting !== undefined && typeof setting !== 'string') return setting
  const value = setting ?? 'data/registry.json'
  const scheme = registryScheme(value)
  if (scheme === undefined) {
    const path = value.startsWith('file://') ? new URL(value).pathname : value
    return fileStore(isAbsolute(path) ? path : resolve(repoPath, path))
  }
  const pkg = REGISTRY_SCHEMES[scheme]
  if (pkg === undefined) {
    throw new LarderError(
      'INVALID_CONFIG',
      `registry URL scheme '${scheme}//' is not one Larder knows`,
      {
        component: 'registry',
        hint: `use a file path, ${Object.keys(REGISTRY_SCHEMES)
          .map((s) => `${s}//`)
          .join(', ')} or a registry store object`,
      },
    )
  }
  let mod: { registryStore?: (url: string) => RegistryStore }
  try {
    mod = (await import(pkg)) as typeof mod
  } catch (err) {
    throw new LarderError(
      'INVALID_CONFIG',
      `a ${scheme}// registry needs the package ${pkg}, which cannot be loaded (${(err as Error).message.split('\n')[0]})`,
      { component: 'registry', cause: err, hint: `install it beside @larder/core: npm i ${pkg}` },
    )
  }
  if (typeof mod.registryStore !== 'function') {
    throw new LarderError('INVALID_CONFIG', `${pkg} does not export registryStore(url)`, {
      component: 'registry',
      hint: `update ${pkg} to the version of @larder/core`,
    })
  }
  return mod.registryStore(value)
}
