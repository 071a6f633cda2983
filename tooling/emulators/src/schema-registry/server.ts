/**
 * A Confluent Schema Registry stand-in: the REST calls serializers and deserializers make,
 * in memory, on 127.0.0.1, with Confluent's status codes and error bodies.
 */
import {
  type EmulatorRequest,
  type EmulatorResponse,
  HttpError,
  parseJsonBody,
  startLoopbackServer,
} from '../warehouse/http.js'

/** A schema type as the registry names it. */
export type SchemaType = 'AVRO' | 'PROTOBUF' | 'JSON'

/** A reference from one schema to a subject version (`import "other.proto"`). */
export interface SchemaReference {
  name: string
  subject: string
  version: number
}

/** What a registration carries. */
export interface SchemaInput {
  schema: string
  schemaType?: SchemaType
  references?: SchemaReference[]
}

/** Options of {@link startSchemaRegistryEmulator}. */
export interface SchemaRegistryEmulatorOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number
  /** When set, every request must carry these HTTP basic credentials (else 401). */
  basicAuth?: { username: string; password: string }
}

/** A request the stand-in served, for assertions (e.g. "fetched once per id"). */
export interface ServedRequest {
  method: string
  path: string
}

/** A running Schema Registry stand-in. */
export interface SchemaRegistryEmulator {
  /** Base URL, `http://127.0.0.1:PORT`. */
  readonly url: string
  readonly port: number
  /** Registers a schema under a subject (as `POST /subjects/{subject}/versions`); returns its id. */
  register(subject: string, input: SchemaInput): number
  /** Every request served so far, in order. */
  readonly requests: readonly ServedRequest[]
  /** How many served requests had this method and path (`GET`, `/schemas/ids/1`). */
  count(method: string, path: string): number
  close(): Promise<void>
}

interface Stored {
  id: number
  schema: string
  schemaType: SchemaType
  references: SchemaReference[]
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'
const TYPES: readonly SchemaType[] = ['AVRO', 'PROTOBUF', 'JSON']

function fail(status: number, errorCode: number, message: string): never {
  throw new HttpError({
    status,
    json: { error_code: errorCode, message },
    headers: { 'content-type': CONTENT_TYPE },
  })
}

/** The registry's state and REST routes, without the HTTP server. */
export class SchemaRegistryCore {
  readonly #schemas: Stored[] = []
  readonly #subjects = new Map<string, number[]>()

  /** Registers `input` under `subject`: an identical schema keeps its id and version. */
  register(subject: string, input: SchemaInput): number {
    const schemaType = input.schemaType ?? 'AVRO'
    if (!TYPES.includes(schemaType)) fail(422, 42201, `Invalid schemaType ${schemaType}`)
    if (typeof input.schema !== 'string' || input.schema.trim() === '') {
      fail(422, 42201, 'Invalid schema: the schema is empty')
    }
    if (schemaType !== 'PROTOBUF') {
      try {
        JSON.parse(input.schema)
      } catch {
        fail(422, 42201, `Invalid schema: not valid JSON for ${schemaType}`)
      }
    }
    const references = input.references ?? []
    for (const r of references) {
      if (!this.#version(r.subject, String(r.version))) {
        fail(
          422,
          42201,
          `Invalid schema: reference ${r.name} names missing ${r.subject}/${r.version}`,
        )
      }
    }
    const key = JSON.stringify([input.schema.trim(), schemaType, references])
    let stored = this.#schemas.find(
      (s) => JSON.stringify([s.schema.trim(), s.schemaType, s.references]) === key,
    )
    if (!stored) {
      stored = { id: this.#schemas.length + 1, schema: input.schema, schemaType, references }
      this.#schemas.push(stored)
    }
    const versions = this.#subjects.get(subject) ?? []
    if (!versions.includes(stored.id)) versions.push(stored.id)
    this.#subjects.set(subject, versions)
    return stored.id
  }

  #version(subject: string, version: string): { id: number; version: number } | undefined {
    const versions = this.#subjects.get(subject)
    if (!versions || versions.length === 0) return undefined
    const n = version === 'latest' || version === '-1' ? versions.length : Number(version)
    const id = versions[n - 1]
    return id === undefined ? undefined : { id, version: n }
  }

  #body(s: Stored): Record<string, unknown> {
    return {
      schema: s.schema,
      // Confluent leaves schemaType out for AVRO, the default.
      ...(s.schemaType === 'AVRO' ? {} : { schemaType: s.schemaType }),
      ...(s.references.length ? { references: s.references } : {}),
    }
  }

  /** Routes one request. */
  async handle(req: EmulatorRequest): Promise<EmulatorResponse> {
    const ok = (json: unknown): EmulatorResponse => ({
      status: 200,
      json,
      headers: { 'content-type': CONTENT_TYPE },
    })
    const parts = req.path.split('/').filter(Boolean).map(decodeURIComponent)
    const [a, b, c, d] = parts
    if (req.method === 'GET' && a === 'schemas' && b === 'ids' && c !== undefined && !d) {
      const id = Number(c)
      const s = Number.isInteger(id) ? this.#schemas[id - 1] : undefined
      if (!s) fail(404, 40403, 'Schema not found')
      return ok(this.#body(s))
    }
    if (req.method === 'GET' && a === 'subjects' && parts.length === 1) {
      return ok([...this.#subjects.keys()])
    }
    if (a === 'subjects' && b !== undefined && c === 'versions') {
      if (req.method === 'POST' && parts.length === 3) {
        const input = parseJsonBody<SchemaInput>(req.body, () =>
          fail(422, 42201, 'Invalid schema: the request body is not JSON'),
        )
        return ok({ id: this.register(b, input) })
      }
      if (req.method === 'GET') {
        const versions = this.#subjects.get(b)
        if (!versions) fail(404, 40401, `Subject '${b}' not found.`)
        if (parts.length === 3) return ok(versions.map((_, i) => i + 1))
        if (parts.length === 4 && d !== undefined) {
          if (d !== 'latest' && !/^-?\d+$/.test(d)) {
            fail(422, 42202, `The specified version '${d}' is not a valid version id.`)
          }
          const found = this.#version(b, d)
          if (!found) fail(404, 40402, `Version ${d} not found.`)
          const s = this.#schemas[found.id - 1] as Stored
          return ok({ subject: b, version: found.version, id: s.id, ...this.#body(s) })
        }
      }
    }
    fail(404, 404, `HTTP 404 Not Found: ${req.method} ${req.path}`)
  }
}

/**
 * Starts a Schema Registry stand-in on 127.0.0.1 serving `GET /schemas/ids/{id}`,
 * `POST /subjects/{subject}/versions`, `GET /subjects/{subject}/versions[/{version|latest}]`
 * and `GET /subjects`, with Confluent's error bodies (`{"error_code": 40403, "message": ...}`).
 *
 * @example
 * const registry = await startSchemaRegistryEmulator()
 * const id = registry.register('trips-value', { schema: JSON.stringify(avroSchema) })
 * // ... decode records framed with `id` ...
 * expect(registry.count('GET', `/schemas/ids/${id}`)).toBe(1)
 * await registry.close()
 */
export async function startSchemaRegistryEmulator(
  options: SchemaRegistryEmulatorOptions = {},
): Promise<SchemaRegistryEmulator> {
  const core = new SchemaRegistryCore()
  const requests: ServedRequest[] = []
  const expected = options.basicAuth
    ? `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`
    : undefined
  const server = await startLoopbackServer(
    options.port ?? 0,
    async (req) => {
      requests.push({ method: req.method, path: req.path })
      if (expected && req.headers.authorization !== expected) fail(401, 401, 'Unauthorized')
      return core.handle(req)
    },
    (err) => ({
      status: 500,
      json: { error_code: 50001, message: `Error in the backend data store: ${String(err)}` },
    }),
  )
  return {
    url: server.url,
    port: server.port,
    register: (subject, input) => core.register(subject, input),
    requests,
    count: (method, path) => requests.filter((r) => r.method === method && r.path === path).length,
    close: () => server.close(),
  }
}
