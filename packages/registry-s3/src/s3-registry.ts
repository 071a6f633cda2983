/**
 * A registry kept as one S3 object. Writes are S3 conditional writes: `If-None-Match: *` for
 * the first one, `If-Match: <ETag read>` after that, so two machines applying at once get one
 * success and one REGISTRY_CONFLICT, and nothing is lost.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import {
  LarderError,
  type RegistryStore,
  registryConflict,
  type StoredRegistry,
} from '@larder/core'

const COMPONENT = 'registry-s3'

/** The calls this store makes; a real `S3Client` fits (or any client with the same `send`). */
export interface S3ClientLike {
  send(command: GetObjectCommand | PutObjectCommand | DeleteObjectCommand): Promise<unknown>
  destroy?(): void
}

/** Options of {@link s3Registry}. */
export interface S3RegistryOptions {
  /** `s3://bucket/path/registry.json`. */
  url: string
  /** AWS region. @default the SDK's default chain (AWS_REGION, profile...) */
  region?: string
  /**
   * Another S3-compatible endpoint (MinIO, a local stand-in). A loopback endpoint needs no
   * credentials and uses path-style addressing.
   */
  endpoint?: string
  /** Path-style URLs (`endpoint/bucket/key`). @default true with an endpoint, else false */
  forcePathStyle?: boolean
  /** Credentials; default: the AWS default chain (environment, profile, role). */
  credentials?: S3ClientConfig['credentials']
  /** A client of your own (closed by you, not by the store). */
  client?: S3ClientLike
}

/** Splits `s3://bucket/key?region=..&endpoint=..` into its parts. */
export function parseS3Url(url: string): {
  bucket: string
  key: string
  region?: string
  endpoint?: string
} {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new LarderError('INVALID_CONFIG', `registry URL ${url} is not a URL`, {
      component: COMPONENT,
      hint: 'write it as s3://bucket/path/registry.json',
    })
  }
  const key = decodeURIComponent(u.pathname.replace(/^\//, ''))
  if (u.protocol !== 's3:' || u.hostname === '' || key === '' || key.endsWith('/')) {
    throw new LarderError(
      'INVALID_CONFIG',
      `registry URL ${url} must name a bucket and an object key`,
      { component: COMPONENT, hint: 'write it as s3://bucket/path/registry.json' },
    )
  }
  const region = u.searchParams.get('region') ?? undefined
  const endpoint = u.searchParams.get('endpoint') ?? undefined
  return {
    bucket: u.hostname,
    key,
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
  }
}

function isLoopback(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '')
    return host === 'localhost' || host === '::1' || host.startsWith('127.')
  } catch {
    return false
  }
}

interface AwsLikeError {
  name?: string
  Code?: string
  $metadata?: { httpStatusCode?: number }
  message?: string
}

/**
 * The registry store in S3.
 * @example
 * registry: s3Registry({ url: 's3://my-bucket/larder/registry.json', region: 'eu-west-1' })
 */
export class S3RegistryStore implements RegistryStore {
  readonly location: string
  readonly #bucket: string
  readonly #key: string
  readonly #client: S3ClientLike
  readonly #ownsClient: boolean

  constructor(options: S3RegistryOptions) {
    const parsed = parseS3Url(options.url)
    this.#bucket = parsed.bucket
    this.#key = parsed.key
    this.location = `s3://${parsed.bucket}/${parsed.key}`
    if (options.client) {
      this.#client = options.client
      this.#ownsClient = false
    } else {
      const endpoint = options.endpoint ?? parsed.endpoint
      const region = options.region ?? parsed.region
      const loopback = endpoint !== undefined && isLoopback(endpoint)
      this.#client = new S3Client({
        ...(region ? { region } : loopback ? { region: 'us-east-1' } : {}),
        ...(endpoint ? { endpoint } : {}),
        forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
        ...(options.credentials
          ? { credentials: options.credentials }
          : loopback
            ? { credentials: { accessKeyId: 'larder', secretAccessKey: 'larder' } }
            : {}),
      })
      this.#ownsClient = true
    }
  }

  async read(): Promise<StoredRegistry | undefined> {
    let out: { Body?: { transformToString(): Promise<string> }; ETag?: string }
    try {
      out = (await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key }),
      )) as typeof out
    } catch (err) {
      const e = err as AwsLikeError
      if (
        e.name !== 'NoSuchBucket' &&
        (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404)
      ) {
        return undefined
      }
      throw this.#fail(err, 'read', 's3:GetObject')
    }
    const text = (await out.Body?.transformToString()) ?? ''
    return { text, version: bareEtag(out.ETag ?? '') }
  }

  async write(text: string, expectedVersion: string | undefined): Promise<string> {
    try {
      const out = (await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key,
          Body: text,
          ContentType: 'application/json',
          ...(expectedVersion === undefined
            ? { IfNoneMatch: '*' }
            : { IfMatch: `"${expectedVersion}"` }),
        }),
      )) as { ETag?: string }
      return bareEtag(out.ETag ?? '')
    } catch (err) {
      const e = err as AwsLikeError
      const status = e.$metadata?.httpStatusCode
      if (e.name === 'PreconditionFailed' || status === 412) {
        throw registryConflict(this.location, 'its ETag moved on')
      }
      if (
        e.name === 'ConditionalRequestConflict' ||
        (status === 409 && e.name !== 'NoSuchBucket')
      ) {
        throw registryConflict(this.location, 'a concurrent conditional write')
      }
      if (
        expectedVersion !== undefined &&
        (e.name === 'NoSuchKey' || (status === 404 && e.name !== 'NoSuchBucket'))
      ) {
        throw registryConflict(this.location, 'it was deleted')
      }
      throw this.#fail(err, 'write', 's3:PutObject')
    }
  }

  async delete(): Promise<void> {
    try {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key }))
    } catch (err) {
      throw this.#fail(err, 'delete', 's3:DeleteObject')
    }
  }

  async close(): Promise<void> {
    if (this.#ownsClient) this.#client.destroy?.()
  }

  #fail(err: unknown, what: string, permission: string): LarderError {
    const e = err as AwsLikeError
    const status = e.$metadata?.httpStatusCode
    if (e.name === 'NoSuchBucket') {
      return new LarderError(
        'INVALID_CONFIG',
        `cannot ${what} registry ${this.location}: bucket '${this.#bucket}' does not exist`,
        {
          component: COMPONENT,
          cause: err,
          hint: 'create the bucket or fix the registry URL',
        },
      )
    }
    if (e.name === 'AccessDenied' || status === 403) {
      return new LarderError(
        'BACKEND_ERROR',
        `cannot ${what} registry ${this.location}: access denied`,
        {
          component: COMPONENT,
          cause: err,
          hint: `grant ${permission} on arn:aws:s3:::${this.#bucket}/${this.#key} to the credentials in use (AWS default chain)`,
        },
      )
    }
    if (status === undefined || status >= 500) {
      return new LarderError(
        'BACKEND_UNAVAILABLE',
        `cannot ${what} registry ${this.location}: ${e.name ?? 'error'}: ${firstLine(e.message)}`,
        {
          component: COMPONENT,
          cause: err,
          hint: 'check the network, the region and the endpoint; the command can be retried',
        },
      )
    }
    return new LarderError(
      'BACKEND_ERROR',
      `cannot ${what} registry ${this.location}: ${e.name ?? 'error'} (HTTP ${status}): ${firstLine(e.message)}`,
      {
        component: COMPONENT,
        cause: err,
      },
    )
  }
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0] ?? ''
}

function bareEtag(value: string): string {
  return value.replace(/^W\//, '').replace(/^"|"$/g, '')
}

/**
 * A registry kept in S3: a URL string, or options with region, endpoint and credentials.
 * @example
 * export default defineConfig({
 *   project: 'quickstart',
 *   registry: s3Registry('s3://my-bucket/larder/registry.json'),
 *   offlineStore: fileOfflineStore(), onlineStore: sqliteOnlineStore(),
 * })
 */
export function s3Registry(options: S3RegistryOptions | string): S3RegistryStore {
  return new S3RegistryStore(typeof options === 'string' ? { url: options } : options)
}

/** What core calls for a `registry: 's3://...'` setting. */
export function registryStore(url: string): S3RegistryStore {
  return s3Registry(url)
}
