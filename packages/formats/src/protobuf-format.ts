/**
 * Protobuf binary records (protobufjs): plain with a .proto file and a message type, or framed
 * for a Confluent Schema Registry (magic byte 0, 4-byte big-endian schema id, message indexes).
 */
import { isAbsolute, resolve } from 'node:path'
import {
  type DecodedRow,
  type FormatContext,
  type FormatField,
  type FormatSchema,
  LarderError,
  type ProtobufFormatSpec,
  recordError,
  type StreamFormat,
  type ValueTypeName,
} from '@larder/core'
import protobuf from 'protobufjs'
import { readConfluentHeader, readMessageIndexes } from './confluent-wire.js'
import { SyncFirstDecoder } from './decoder.js'
import {
  isFramed,
  RegistryBinding,
  resolveReferences,
  type SchemaRegistryClient,
  type SchemaRegistryOptions,
} from './schema-registry.js'
import { floorDiv } from './timestamps.js'

const COMPONENT = 'protobuf'
const PARSE_OPTIONS = { keepCase: true }

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64'])

/** Larder value types of Protobuf scalar types. */
const SCALAR_TYPES: Record<string, ValueTypeName> = {
  double: 'float64',
  float: 'float32',
  int32: 'int32',
  sint32: 'int32',
  sfixed32: 'int32',
  uint32: 'int64',
  fixed32: 'int64',
  int64: 'int64',
  sint64: 'int64',
  sfixed64: 'int64',
  uint64: 'int64',
  fixed64: 'int64',
  bool: 'bool',
  string: 'string',
  bytes: 'bytes',
}

/** Well-known wrapper messages, read as their (nullable) value. */
const WRAPPERS: Record<string, string> = {
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
}
const TIMESTAMP = 'google.protobuf.Timestamp'

function typeName(t: protobuf.Type): string {
  return t.fullName.replace(/^\./, '')
}

/** A 64-bit integer as protobufjs gives it (a Long, or a number) -> bigint, exactly. */
function toBigInt(v: unknown): bigint {
  if (typeof v === 'number') return BigInt(v)
  if (typeof v === 'bigint') return v
  const long = v as { low: number; high: number; unsigned: boolean }
  const bits = (BigInt(long.high >>> 0) << 32n) | BigInt(long.low >>> 0)
  return long.unsigned ? bits : BigInt.asIntN(64, bits)
}

/** google.protobuf.Timestamp -> epoch microseconds (nanoseconds below a microsecond dropped). */
function timestampMicros(message: Record<string, unknown>): bigint {
  const seconds = message.seconds === undefined ? 0n : toBigInt(message.seconds)
  return seconds * 1_000_000n + floorDiv(BigInt((message.nanos as number | undefined) ?? 0), 1000n)
}

type Read = (v: unknown) => unknown

/** How a field's single value is read (for repeated fields and maps: each element). */
function valueReader(field: protobuf.Field): Read {
  const resolved = field.resolvedType
  if (resolved instanceof protobuf.Type) {
    // Looked up at call time: message types may refer to themselves.
    return (v) => (v === null || v === undefined ? null : converterOf(resolved)(v))
  }
  if (resolved instanceof protobuf.Enum) {
    const names = resolved.valuesById
    return (v) => names[v as number] ?? v
  }
  if (LONG_TYPES.has(field.type)) return toBigInt
  return (v) => v
}

const converters = new WeakMap<protobuf.Type, Read>()

/**
 * The converter of a message type to a plain row (field names as written, values as the module
 * doc says), built once per type.
 */
function converterOf(type: protobuf.Type): Read {
  let convert = converters.get(type)
  if (convert) return convert
  const name = typeName(type)
  if (name === TIMESTAMP) convert = (m) => timestampMicros(m as Record<string, unknown>)
  else if (WRAPPERS[name] !== undefined) {
    const inner = type.fieldsArray[0] as protobuf.Field
    const read = valueReader(inner)
    convert = (m) => read((m as Record<string, unknown>).value ?? inner.typeDefault)
  } else {
    const fields = type.fieldsArray.map((field) => {
      const read = valueReader(field)
      const key = field.name
      if (field.map) {
        return (m: Record<string, unknown>) => {
          const out: Record<string, unknown> = {}
          for (const [k, x] of Object.entries((m[key] ?? {}) as Record<string, unknown>)) {
            out[k] = read(x)
          }
          return out
        }
      }
      if (field.repeated)
        return (m: Record<string, unknown>) => ((m[key] ?? []) as unknown[]).map(read)
      if (field.hasPresence) {
        return (m: Record<string, unknown>) => (Object.hasOwn(m, key) ? read(m[key]) : null)
      }
      return (m: Record<string, unknown>) => read(m[key])
    })
    const names = type.fieldsArray.map((f) => f.name)
    convert = (m) => {
      const row: DecodedRow = {}
      for (let i = 0; i < names.length; i++) {
        row[names[i] as string] = (fields[i] as (m: Record<string, unknown>) => unknown)(
          m as Record<string, unknown>,
        )
      }
      return row
    }
  }
  converters.set(type, convert)
  return convert
}

/** The Larder value type of a field, or undefined (messages, maps). */
function fieldType(field: protobuf.Field): {
  type: ValueTypeName | undefined
  sourceType: string
  nullable: boolean
} {
  const resolved = field.resolvedType
  let scalar: ValueTypeName | undefined
  let sourceType = field.type
  let nullable = Boolean(field.hasPresence)
  if (resolved instanceof protobuf.Enum) scalar = 'string'
  else if (resolved instanceof protobuf.Type) {
    const name = typeName(resolved)
    sourceType = name
    nullable = true
    if (name === TIMESTAMP) scalar = 'timestamp'
    else if (WRAPPERS[name] !== undefined) scalar = SCALAR_TYPES[WRAPPERS[name] as string]
  } else scalar = SCALAR_TYPES[field.type]
  if (field.map) return { type: undefined, sourceType: `map<${field.type}>`, nullable: false }
  if (field.repeated) {
    return {
      type: scalar ? (`array<${scalar}>` as ValueTypeName) : undefined,
      sourceType: `repeated ${sourceType}`,
      nullable: false,
    }
  }
  return { type: scalar, sourceType, nullable }
}

function describeType(type: protobuf.Type): FormatSchema {
  const fields: FormatField[] = type.fieldsArray.map((f) => ({ name: f.name, ...fieldType(f) }))
  return { fields }
}

function decodeWith(type: protobuf.Type, bytes: Uint8Array, what: () => string): DecodedRow {
  let message: protobuf.Message
  try {
    message = type.decode(bytes)
  } catch (err) {
    throw recordError(COMPONENT, `record is not a valid ${what()}: ${(err as Error).message}`, err)
  }
  return converterOf(type)(message) as DecodedRow
}

/** Adds the well-known types a file imports (`google/protobuf/*.proto`) to `root`. */
function addWellKnown(root: protobuf.Root, imports: readonly string[] | undefined): void {
  for (const file of imports ?? []) {
    const json = protobuf.common.get(file) as { nested?: Record<string, unknown> } | null
    if (json?.nested && !root.lookup(`.google.protobuf.${Object.keys(json.nested).join('')}`)) {
      try {
        root.addJSON(json.nested as never)
      } catch {
        // already present through another import
      }
    }
  }
}

function messageTypesOf(ns: protobuf.NamespaceBase): protobuf.Type[] {
  return ns.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type)
}

/** A parsed registry schema: its root and the message types the indexes walk. */
interface RegistrySchema {
  root: protobuf.Root
  topLevel: protobuf.Type[]
  byIndexes: Map<string, protobuf.Type>
}

function typeAt(schema: RegistrySchema, indexes: number[], id: number): protobuf.Type {
  const key = indexes.join('.')
  let type = schema.byIndexes.get(key)
  if (type) return type
  let candidates = schema.topLevel
  for (const i of indexes) {
    type = candidates[i]
    if (!type) {
      throw recordError(
        COMPONENT,
        `message indexes [${indexes.join(', ')}] point past the messages of schema id ${id}`,
      )
    }
    candidates = messageTypesOf(type)
  }
  schema.byIndexes.set(key, type as protobuf.Type)
  return type as protobuf.Type
}

async function parseRegistrySchema(
  client: SchemaRegistryClient,
  id: number,
): Promise<RegistrySchema> {
  const registered = await client.getSchemaById(id)
  if (registered.schemaType !== 'PROTOBUF') {
    throw recordError(
      COMPONENT,
      `schema id ${id} is a${registered.schemaType === 'AVRO' ? 'n' : ''} ${registered.schemaType} schema, but this source's format is Protobuf`,
    )
  }
  const references = await resolveReferences(client, registered.references)
  try {
    const root = new protobuf.Root()
    const main = protobuf.parse(registered.schema, root, PARSE_OPTIONS)
    const ns = main.package ? root.lookup(main.package) : root
    const topLevel = ns && 'nestedArray' in ns ? messageTypesOf(ns as protobuf.NamespaceBase) : []
    addWellKnown(root, main.imports)
    for (const { schema } of references) {
      const parsed = protobuf.parse(schema.schema, root, PARSE_OPTIONS)
      addWellKnown(root, parsed.imports)
    }
    root.resolveAll()
    return { root, topLevel, byIndexes: new Map() }
  } catch (err) {
    throw recordError(
      COMPONENT,
      `schema id ${id} in the Schema Registry is not a usable .proto schema: ${(err as Error).message}`,
      err,
    )
  }
}

class RegistryProtobufDecoder extends SyncFirstDecoder {
  constructor(
    readonly client: SchemaRegistryClient,
    readonly binding: RegistryBinding<RegistrySchema>,
  ) {
    super()
  }
  decodeNow(value: Uint8Array): DecodedRow | Promise<DecodedRow> {
    const { schemaId, offset } = readConfluentHeader(value, COMPONENT)
    const { indexes, offset: start } = readMessageIndexes(value, offset, COMPONENT)
    const decode = (schema: RegistrySchema) => {
      const type = typeAt(schema, indexes, schemaId)
      return decodeWith(
        type,
        value.subarray(start),
        () => `${typeName(type)} (schema id ${schemaId})`,
      )
    }
    const schema = this.binding.ready(this.client, schemaId)
    return schema ? decode(schema) : this.binding.schema(this.client, schemaId).then(decode)
  }
}

class FileProtobufDecoder extends SyncFirstDecoder {
  #type: protobuf.Type | undefined
  constructor(readonly load: () => Promise<protobuf.Type>) {
    super()
  }
  decodeNow(value: Uint8Array): DecodedRow | Promise<DecodedRow> {
    const decode = (type: protobuf.Type) => decodeWith(type, value, () => typeName(type))
    if (this.#type) return decode(this.#type)
    return this.load().then((type) => {
      this.#type = type
      return decode(type)
    })
  }
}

/** Options of {@link protobufFormat}: a .proto file and message type, or a Schema Registry. */
export type ProtobufFormatOptions =
  | {
      /** Path of the .proto file; relative paths resolve against the feature repository. */
      protoFile: string
      /** Fully qualified message type of the records, e.g. `trips.v1.Trip`. */
      messageType: string
      schemaRegistry?: undefined
    }
  | {
      protoFile?: undefined
      messageType?: string
      /** Records are framed for a Confluent Schema Registry (see {@link SchemaRegistryOptions}). */
      schemaRegistry: SchemaRegistryOptions
    }

/**
 * Protobuf records. With `protoFile` and `messageType`, each record value is a plain Protobuf
 * message of that type. With `schemaRegistry`, each is framed for a Confluent Schema Registry:
 * magic byte 0, schema id (4 bytes, big-endian), the message indexes naming the type in the
 * schema (zigzag varints; a single 0 byte for the first message), then the message; schemas are
 * fetched once per id and cached. Well-known types are resolved: `google.protobuf.Timestamp`
 * becomes bigint epoch microseconds, wrappers (`Int64Value`...) their nullable value. Field
 * names are kept as written; 64-bit integers are bigints; enums their names; messages objects.
 *
 * @example
 * protobufFormat({ protoFile: 'protos/trip.proto', messageType: 'trips.v1.Trip' })
 * protobufFormat({ schemaRegistry: { url: 'http://127.0.0.1:8081' } })
 */
export function protobufFormat(options: ProtobufFormatOptions): StreamFormat<ProtobufFormatSpec> {
  isFramed(options, 'protobufFormat', 'protoFile', '{ protoFile, messageType }', COMPONENT)
  const { protoFile, messageType, schemaRegistry } = options
  if (messageType !== undefined && (typeof messageType !== 'string' || messageType === '')) {
    throw new LarderError(
      'INVALID_DEFINITION',
      'protobufFormat: messageType must be a non-empty string',
      {
        component: COMPONENT,
      },
    )
  }
  if (protoFile !== undefined) {
    if (typeof protoFile !== 'string' || protoFile === '') {
      throw new LarderError('INVALID_DEFINITION', 'protobufFormat: protoFile must be a path', {
        component: COMPONENT,
      })
    }
    if (!messageType) {
      throw new LarderError(
        'INVALID_DEFINITION',
        `protobufFormat: messageType is required with protoFile '${protoFile}' (e.g. 'trips.v1.Trip')`,
        { component: COMPONENT },
      )
    }
    const loaded = new Map<string, Promise<protobuf.Type>>()
    const load = (context: FormatContext): Promise<protobuf.Type> => {
      const path = isAbsolute(protoFile) ? protoFile : resolve(context.baseDir ?? '.', protoFile)
      let pending = loaded.get(path)
      if (!pending) {
        pending = loadType(path, messageType)
        loaded.set(path, pending)
        pending.catch(() => loaded.delete(path))
      }
      return pending
    }
    return {
      spec: { kind: 'protobuf', protoFile, messageType },
      createDecoder: (context: FormatContext = {}) => new FileProtobufDecoder(() => load(context)),
      describe: async (context: FormatContext = {}) => describeType(await load(context)),
    }
  }
  const binding = new RegistryBinding(schemaRegistry as SchemaRegistryOptions, parseRegistrySchema)
  const spec: ProtobufFormatSpec = { kind: 'protobuf', schemaRegistry: binding.ref }
  if (messageType !== undefined) spec.messageType = messageType
  return {
    spec,
    createDecoder: (context: FormatContext = {}) =>
      new RegistryProtobufDecoder(binding.client(context), binding),
    describe: async (context: FormatContext = {}) => {
      const latest = await binding.latest(context)
      if (!latest) return undefined
      const type = messageType
        ? lookup(latest.schema.root, messageType, `schema id ${latest.id}`)
        : latest.schema.topLevel[0]
      return type ? describeType(type) : undefined
    },
  }
}

function lookup(root: protobuf.Root, messageType: string, where: string): protobuf.Type {
  const found = root.lookup(messageType.replace(/^\./, ''))
  if (!(found instanceof protobuf.Type)) {
    const known = [] as string[]
    const walk = (ns: protobuf.NamespaceBase) => {
      for (const n of ns.nestedArray) {
        if (n instanceof protobuf.Type) known.push(typeName(n))
        if ('nestedArray' in n) walk(n as protobuf.NamespaceBase)
      }
    }
    walk(root)
    const listed = known.filter((k) => !k.startsWith('google.protobuf.')).slice(0, 10)
    throw new LarderError(
      'INVALID_DEFINITION',
      `protobufFormat: no message type '${messageType}' in ${where} (found: ${listed.join(', ') || 'none'})`,
      { component: COMPONENT },
    )
  }
  return found
}

async function loadType(path: string, messageType: string): Promise<protobuf.Type> {
  const root = new protobuf.Root()
  try {
    await root.load(path, PARSE_OPTIONS)
    root.resolveAll()
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT'
    throw new LarderError(
      'INVALID_DEFINITION',
      missing
        ? `protobufFormat: proto file '${path}' does not exist`
        : `protobufFormat: cannot load '${path}': ${(err as Error).message}`,
      { component: COMPONENT, cause: err },
    )
  }
  return lookup(root, messageType, `'${path}'`)
}
