/**
 * A registry kept as one Google Cloud Storage object. The version token is the object's
 * generation; writes carry `ifGenerationMatch` (0 for the first write), so two machines
 * applying at once get one success and one REGISTRY_CONFLICT, and nothing is lost.
 */
import { Storage, type StorageOptions } from '@google-cloud/storage'
import {
  LarderError,
  type RegistryStore,
  registryConflict,
  type StoredRegistry,
} from '@larder/core'

const COMPONENT = 'registry-gcs'

/** Options of {@link gcsRegistry}. */
export interface GcsRegistryOptions {
  /** `gs://bucket/path/registry.json`. */
  url: string
  /** Google Cloud project (for quota and billing). @default from the credentials */
  projectId?: string
  /**
   * Another endpoint (a local stand-in). The client sends no credentials to a custom
   * endpoint.
   */
  apiEndpoint?: string
  /** A service-account key file; default: Application Default Credentials. */
  keyFilename?: string
  /** A `Storage` client of your own. */
  storage?: Storage
}

/** Splits `gs://bucket/key` into its parts. */
export function parseGcsUrl(url: string): { bucket: string; name: string } {
  let u: URL | undefined
  try {
    u = new URL(url)
  } catch {
    u = undefined
  }
  const name = u ? decodeURIComponent(u.pathname.replace(/^\//, '')) : ''
  if (u?.protocol !== 'gs:' || u.hostname === '' || name === '' || name.endsWith('/')) {
    throw new LarderError(
      'INVALID_CONFIG',
      `registry URL ${url} must name a bucket and an object`,
      {
        component: COMPONENT,
        hint: 'write it as gs://bucket/path/registry.json',
      },
    )
  }
  return { bucket: u.hostname, name }
}

interface GcsLikeError {
  code?: number | string
  message?: string
}

/**
 * The registry store in Google Cloud Storage.
 * @example
 * registry: gcsRegistry({ url: 'gs://my-bucket/larder/registry.json' })
 */
export class GcsRegistryStore implements RegistryStore {
  readonly location: string
  readonly #bucket: string
  readonly #name: string
  readonly #storage: Storage

  constructor(options: GcsRegistryOptions) {
    const { bucket, name } = parseGcsUrl(options.url)
    this.#bucket = bucket
    this.#name = name
    this.location = `gs://${bucket}/${name}`
    const storageOptions: StorageOptions = {
      ...(options.projectId ? { projectId: options.projectId } : {}),
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
      ...(options.keyFilename ? { keyFilename: options.keyFilename } : {}),
    }
    this.#storage = options.storage ?? new Storage(storageOptions)
  }

  #file(generation?: string) {
    const bucket = this.#storage.bucket(this.#bucket)
    return generation === undefined
      ? bucket.file(this.#name)
      : bucket.file(this.#name, { generation: Number(generation) })
  }

  async read(): Promise<StoredRegistry | undefined> {
    // Metadata first, then that very generation's bytes: a write in between makes the
    // download 404, and the read starts again.
    for (let attempt = 0; attempt < 5; attempt++) {
      let generation: string
      try {
        const [meta] = await this.#file().getMetadata()
        generation = String(meta.generation)
      } catch (err) {
        if ((err as GcsLikeError).code === 404) {
          if (await this.#bucketMissing()) throw this.#noBucket(err)
          return undefined
        }
        throw this.#fail(err, 'read', 'storage.objects.get')
      }
      try {
        const [bytes] = await this.#file(generation).download()
        return { text: bytes.toString('utf8'), version: generation }
      } catch (err) {
        if ((err as GcsLikeError).code === 404) continue
        throw this.#fail(err, 'read', 'storage.objects.get')
      }
    }
    throw new LarderError(
      'BACKEND_UNAVAILABLE',
      `registry ${this.location} changed five times while being read`,
      {
        component: COMPONENT,
        hint: 'the command can be retried',
      },
    )
  }

  async write(text: string, expectedVersion: string | undefined): Promise<string> {
    if (expectedVersion !== undefined && !/^\d+$/.test(expectedVersion)) {
      throw registryConflict(this.location, `'${expectedVersion}' is not a generation`)
    }
    const file = this.#file()
    try {
      await file.save(text, {
        resumable: false,
        contentType: 'application/json',
        preconditionOpts: { ifGenerationMatch: expectedVersion ?? 0 },
      })
    } catch (err) {
      if ((err as GcsLikeError).code === 412) {
        throw registryConflict(this.location, 'its generation moved on')
      }
      if ((err as GcsLikeError).code === 404 && (await this.#bucketMissing())) {
        throw this.#noBucket(err)
      }
      throw this.#fail(err, 'write', 'storage.objects.create')
    }
    return String(file.metadata.generation)
  }

  async delete(): Promise<void> {
    try {
      await this.#file().delete({ ignoreNotFound: true })
    } catch (err) {
      throw this.#fail(err, 'delete', 'storage.objects.delete')
    }
  }

  async #bucketMissing(): Promise<boolean> {
    try {
      const [exists] = await this.#storage.bucket(this.#bucket).exists()
      return !exists
    } catch {
      return false
    }
  }

  #noBucket(err: unknown): LarderError {
    return new LarderError(
      'INVALID_CONFIG',
      `registry ${this.location}: bucket '${this.#bucket}' does not exist`,
      {
        component: COMPONENT,
        cause: err,
        hint: 'create the bucket or fix the registry URL',
      },
    )
  }

  #fail(err: unknown, what: string, permission: string): LarderError {
    const e = err as GcsLikeError
    const message = (e.message ?? String(err)).split('\n')[0]
    if (e.code === 403 || e.code === 401) {
      return new LarderError(
        'BACKEND_ERROR',
        `cannot ${what} registry ${this.location}: access denied`,
        {
          component: COMPONENT,
          cause: err,
          hint: `grant ${permission} on bucket ${this.#bucket} to the credentials in use (Application Default Credentials)`,
        },
      )
    }
    const status = typeof e.code === 'number' ? e.code : undefined
    if (status === undefined || status >= 500 || status === 429) {
      return new LarderError(
        'BACKEND_UNAVAILABLE',
        `cannot ${what} registry ${this.location}: ${message}`,
        {
          component: COMPONENT,
          cause: err,
          hint: 'check the network and the endpoint; the command can be retried',
        },
      )
    }
    return new LarderError(
      'BACKEND_ERROR',
      `cannot ${what} registry ${this.location}: ${message}`,
      {
        component: COMPONENT,
        cause: err,
      },
    )
  }
}

/**
 * A registry kept in Google Cloud Storage: a URL string, or options.
 * @example
 * export default defineConfig({
 *   project: 'quickstart',
 *   registry: gcsRegistry('gs://my-bucket/larder/registry.json'),
 *   offlineStore: fileOfflineStore(), onlineStore: sqliteOnlineStore(),
 * })
 */
export function gcsRegistry(options: GcsRegistryOptions | string): GcsRegistryStore {
  return new GcsRegistryStore(typeof options === 'string' ? { url: options } : options)
}

/** What core calls for a `registry: 'gs://...'` setting. */
export function registryStore(url: string): GcsRegistryStore {
  return gcsRegistry(url)
}
