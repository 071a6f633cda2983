/**
 * A small client for the Confluent Schema Registry REST API: schemas by id (cached for the
 * life of the client: ids are immutable) and subject versions, with run-time credentials.
 */
import {
  LarderError,
  recordError,
  type SchemaRegistryRef,
  type SchemaRegistryRuntimeOptions,
} from '@larder/core'

/** A schema reference (`import "other.proto"` or a named Avro type from another subject). */
export interface SchemaReference {
  /** The import name (Protobuf file name) or the full name of the Avro type. */
  name: string
  subject: string
  version: number
}

/** A schema as the registry returns it. */
export interface RegisteredSchema {
  /** The schema text (Avro JSON or .proto source). */
  schema: string
  /** `AVRO` (the registry's default when absent), `PROTOBUF` or `JSON`. */
  schemaType: 'AVRO' | 'PROTOBUF' | 'JSON'
  references: SchemaReference[]
  /** Set for subject versions. */
  id?: number
  subject?: string
  version?: number
}

const COMPONENT = 'schema-registry'

function redact(url: string): string {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    return u.toString().replace(/\/$/, '')
  } catch {
    return url
  }
}

/**
 * Talks to one Schema Registry. Concurrent first requests for one schema id share a single
 * HTTP request; successful answers are kept, failures are not (the next use retries).
 */
export class SchemaRegistryClient {
  readonly url: string
  readonly #options: SchemaRegistryRuntimeOptions
  readonly #byId = new Map<number, Promise<RegisteredSchema>>()
  readonly #byVersion = new Map<string, Promise<RegisteredSchema>>()

  /**
   * @param ref Where the registry is (stored in the registry spec).
   * @param options Credentials and settings given at run time (never stored).
   */
  constructor(ref: SchemaRegistryRef, options: SchemaRegistryRuntimeOptions = {}) {
    if (typeof ref.url !== 'string' || !/^https?:\/\//.test(ref.url)) {
      throw new LarderError(
        'INVALID_DEFINITION',
        `schemaRegistry.url must be an http(s) URL, got ${JSON.stringify(ref.url)}`,
        { component: COMPONENT },
      )
    }
    this.url = ref.url.replace(/\/+$/, '')
    this.#options = options
  }

  /**
   * The schema registered under `id` (`GET /schemas/ids/{id}`), fetched once per id.
   * @throws LarderError INVALID_RECORD when the registry has no such id (a record naming an
   *   unknown schema is a bad record); BACKEND_UNAVAILABLE / BACKEND_ERROR for faults.
   */
  getSchemaById(id: number): Promise<RegisteredSchema> {
    let pending = this.#byId.get(id)
    if (!pending) {
      pending = this.#get(`/schemas/ids/${id}`, `schema id ${id}`, true)
      this.#byId.set(id, pending)
      pending.catch(() => this.#byId.delete(id))
    }
    return pending
  }

  /**
   * A version of a subject (`GET /subjects/{subject}/versions/{version}`); `latest` is
   * fetched every time, numbered versions once.
   * @throws LarderError NOT_FOUND when the subject or version does not exist.
   */
  getSubjectVersion(subject: string, version: number | 'latest'): Promise<RegisteredSchema> {
    const path = `/subjects/${encodeURIComponent(subject)}/versions/${version}`
    const what = `subject '${subject}' version ${version}`
    if (version === 'latest') return this.#get(path, what, false)
    let pending = this.#byVersion.get(path)
    if (!pending) {
      pending = this.#get(path, what, false)
      this.#byVersion.set(path, pending)
      pending.catch(() => this.#byVersion.delete(path))
    }
    return pending
  }

  #headers(): Record<string, string> {
    const headers: Record<string, string> = {
      accept: 'application/vnd.schemaregistry.v1+json, application/json',
      ...this.#options.headers,
    }
    const auth = this.#options.auth
    if (auth && 'bearerToken' in auth) headers.authorization = `Bearer ${auth.bearerToken}`
    else if (auth) {
      const token = Buffer.from(`${auth.username}:${auth.password}`).toString('base64')
      headers.authorization = `Basic ${token}`
    }
    return headers
  }

  async #get(path: string, what: string, missingIsRecordError: boolean): Promise<RegisteredSchema> {
    const where = redact(this.url)
    let response: Response
    try {
      response = await fetch(this.url + path, {
        headers: this.#headers(),
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
      })
    } catch (err) {
      throw new LarderError('BACKEND_UNAVAILABLE', `cannot reach the Schema Registry at ${where}`, {
        component: COMPONENT,
        cause: err,
        hint: 'check schemaRegistry.url and that the registry is running',
      })
    }
    const text = await response.text()
    let body: Record<string, unknown> | undefined
    try {
      body = JSON.parse(text) as Record<string, unknown>
    } catch {
      body = undefined
    }
    if (!response.ok) {
      const code = body?.error_code
      const message = typeof body?.message === 'string' ? body.message : text.slice(0, 200)
      const detail = `${code ?? response.status} ${message}`.trim()
      if (response.status === 404) {
        const reason = `${what} is not in the Schema Registry at ${where} (${detail})`
        if (missingIsRecordError) throw recordError(COMPONENT, reason)
        throw new LarderError('NOT_FOUND', reason, { component: COMPONENT })
      }
      if (response.status === 401 || response.status === 403) {
        throw new LarderError(
          'BACKEND_ERROR',
          `the Schema Registry at ${where} refused the request for ${what} (${detail})`,
          {
            component: COMPONENT,
            hint: 'pass its credentials at run time (schemaRegistry auth in the streams config)',
          },
        )
      }
      throw new LarderError(
        response.status >= 500 ? 'BACKEND_UNAVAILABLE' : 'BACKEND_ERROR',
        `the Schema Registry at ${where} answered ${response.status} for ${what} (${detail})`,
        { component: COMPONENT },
      )
    }
    if (!body || typeof body.schema !== 'string') {
      throw new LarderError(
        'BACKEND_ERROR',
        `the Schema Registry at ${where} answered ${what} without a schema`,
        { component: COMPONENT },
      )
    }
    const type = body.schemaType ?? 'AVRO'
    if (type !== 'AVRO' && type !== 'PROTOBUF' && type !== 'JSON') {
      throw new LarderError(
        'BACKEND_ERROR',
        `the Schema Registry at ${where} gave ${what} an unknown schemaType ${JSON.stringify(type)}`,
        { component: COMPONENT },
      )
    }
    const references = Array.isArray(body.references) ? (body.references as SchemaReference[]) : []
    return {
      schema: body.schema,
      schemaType: type,
      references,
      ...(typeof body.id === 'number' ? { id: body.id } : {}),
      ...(typeof body.subject === 'string' ? { subject: body.subject } : {}),
      ...(typeof body.version === 'number' ? { version: body.version } : {}),
    }
  }
}

/**
 * The references of a schema, depth first, each once, dependencies before dependents (the
 * order to load them in).
 */
export async function resolveReferences(
  client: SchemaRegistryClient,
  references: readonly SchemaReference[],
): Promise<Array<{ reference: SchemaReference; schema: RegisteredSchema }>> {
  const out: Array<{ reference: SchemaReference; schema: RegisteredSchema }> = []
  const seen = new Set<string>()
  const visit = async (refs: readonly SchemaReference[]): Promise<void> => {
    for (const reference of refs) {
      const key = `${reference.subject}@${reference.version}`
      if (seen.has(key)) continue
      seen.add(key)
      const schema = await client.getSubjectVersion(reference.subject, reference.version)
      await visit(schema.references)
      out.push({ reference, schema })
    }
  }
  await visit(references)
  return out
}

/**
 * Keeps one client per registry URL and credentials, so decoders created from one format share
 * its schema cache.
 */
export class SchemaRegistryClients {
  readonly #clients = new Map<string, SchemaRegistryClient>()

  /** The client for `ref` with the run-time `options`. */
  get(ref: SchemaRegistryRef, options: SchemaRegistryRuntimeOptions = {}): SchemaRegistryClient {
    const key = JSON.stringify([ref.url, options.auth ?? null, options.headers ?? null])
    let client = this.#clients.get(key)
    if (!client) {
      client = new SchemaRegistryClient(ref, options)
      this.#clients.set(key, client)
    }
    return client
  }
}
