/**
 * A small client for the Confluent Schema Registry REST API: schemas by id (cached for the
 * life of the client: ids are immutable) and subject versions, with run-time credentials.
 */
import {
  type FormatContext,
  isLarderError,
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
      // Confluent's "not found" codes: 40401 subject, 40402 version, 40403 schema. A bare 404
      // means the URL is not a Schema Registry: a fault, never a reason to dead-letter.
      if (response.status === 404 && (code === 40401 || code === 40402 || code === 40403)) {
        const reason = `${what} is not in the Schema Registry at ${where} (${detail})`
        if (missingIsRecordError) throw recordError(COMPONENT, reason)
        throw new LarderError('NOT_FOUND', reason, { component: COMPONENT })
      }
      if (response.status === 404) {
        throw new LarderError(
          'BACKEND_ERROR',
          `${where} answered 404 for ${what} without a Schema Registry error code (${detail})`,
          { component: COMPONENT, hint: 'check schemaRegistry.url: is it the registry root?' },
        )
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
 * A format's `schemaRegistry` option: `url` (and `subject`, for describe) are stored in the
 * registry spec. `auth`, `headers` and `timeoutMs` given here are used by this process only and
 * never stored; prefer passing them at run time (the app's `streams.schemaRegistry` config), so
 * secrets stay out of definition files.
 */
export type SchemaRegistryOptions = SchemaRegistryRef & SchemaRegistryRuntimeOptions

/**
 * The Schema Registry side of a framed format, shared by Avro and Protobuf: one client per
 * run-time credentials (decoders of one format share its caches), each schema id fetched and
 * parsed once per client (concurrent first uses share the work; failures are not kept), and
 * the latest version of the format's subject for `describe()`.
 */
export class RegistryBinding<T> {
  /** What the registry spec stores: the URL and subject, never credentials. */
  readonly ref: SchemaRegistryRef
  readonly #defined: SchemaRegistryRuntimeOptions
  readonly #clients = new Map<string, SchemaRegistryClient>()
  readonly #parsed = new WeakMap<SchemaRegistryClient, Map<number, Promise<T>>>()
  readonly #ready = new WeakMap<SchemaRegistryClient, Map<number, T>>()
  readonly #parse: (client: SchemaRegistryClient, id: number) => Promise<T>

  /**
   * @param options The definition's `schemaRegistry` option (its URL is checked now).
   * @param parse Fetches and parses the schema of an id (called once per client and id).
   */
  constructor(
    options: SchemaRegistryOptions,
    parse: (client: SchemaRegistryClient, id: number) => Promise<T>,
  ) {
    const { url, subject, auth, headers, timeoutMs } = options
    this.ref = { url, ...(subject !== undefined ? { subject } : {}) }
    this.#defined = {
      ...(auth ? { auth } : {}),
      ...(headers ? { headers } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    }
    this.#parse = parse
    this.client({}) // checks the URL at definition time
  }

  /** The client for a decoder: run-time settings of `context` over the definition's. */
  client(context: FormatContext): SchemaRegistryClient {
    const options = { ...this.#defined, ...context.schemaRegistry }
    const key = JSON.stringify([options.auth ?? null, options.headers ?? null])
    let client = this.#clients.get(key)
    if (!client) {
      client = new SchemaRegistryClient(this.ref, options)
      this.#clients.set(key, client)
    }
    return client
  }

  /** The parsed schema of `id`, once per client. */
  schema(client: SchemaRegistryClient, id: number): Promise<T> {
    let cache = this.#parsed.get(client)
    if (!cache) {
      cache = new Map()
      this.#parsed.set(client, cache)
    }
    let pending = cache.get(id)
    if (!pending) {
      pending = this.#parse(client, id)
      cache.set(id, pending)
      const owner = cache
      pending.then(
        (value) => {
          let ready = this.#ready.get(client)
          if (!ready) {
            ready = new Map()
            this.#ready.set(client, ready)
          }
          ready.set(id, value)
        },
        () => owner.delete(id),
      )
    }
    return pending
  }

  /** The parsed schema of `id` when it is already loaded (no waiting), else undefined. */
  ready(client: SchemaRegistryClient, id: number): T | undefined {
    return this.#ready.get(client)?.get(id)
  }

  /**
   * The parsed latest version of the subject (`subject`, else `<stream>-value`), or undefined
   * when there is no subject name or the registry has no such subject.
   */
  async latest(context: FormatContext): Promise<{ id: number; schema: T } | undefined> {
    const name = this.ref.subject ?? (context.stream ? `${context.stream}-value` : undefined)
    if (!name) return undefined
    const client = this.client(context)
    const latest = await client.getSubjectVersion(name, 'latest').catch((err: unknown) => {
      if (isLarderError(err, 'NOT_FOUND')) return undefined
      throw err
    })
    if (latest?.id === undefined) return undefined
    return { id: latest.id, schema: await this.schema(client, latest.id) }
  }
}

/**
 * Checks a framed-or-plain format's options at definition time: an object with either its
 * plain option (`schema`, `protoFile`) or `schemaRegistry`, not both, not neither.
 * @returns true for Schema Registry framing.
 * @throws LarderError INVALID_DEFINITION naming the format function and both choices.
 */
export function isFramed(
  options: unknown,
  fn: string,
  plainKey: string,
  plainUsage: string,
  component: string,
): boolean {
  const usage = `${plainUsage} (plain) or { schemaRegistry: { url } } (framed)`
  if (!options || typeof options !== 'object') {
    throw new LarderError('INVALID_DEFINITION', `${fn} needs ${usage}`, { component })
  }
  const o = options as Record<string, unknown>
  const framed = o.schemaRegistry !== undefined
  if ((o[plainKey] === undefined) !== framed) {
    throw new LarderError('INVALID_DEFINITION', `${fn} takes exactly one of ${usage}`, {
      component,
    })
  }
  return framed
}
