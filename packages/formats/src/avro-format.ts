/**
 * Avro binary records (avsc): plain with the writer schema in the definition, or framed for a
 * Confluent Schema Registry (magic byte 0, 4-byte big-endian schema id, Avro binary).
 */
import {
  type AvroFormatSpec,
  type DecodedRow,
  type FormatContext,
  type FormatField,
  type FormatSchema,
  LarderError,
  recordError,
  type StreamFormat,
  type ValueTypeName,
} from '@larder/core'
import avro from 'avsc'
import { readConfluentHeader } from './confluent-wire.js'
import { SyncFirstDecoder } from './decoder.js'
import {
  isFramed,
  RegistryBinding,
  resolveReferences,
  type SchemaRegistryClient,
  type SchemaRegistryOptions,
} from './schema-registry.js'
import { floorDiv } from './timestamps.js'

const COMPONENT = 'avro'

/** Avro `long` as `bigint`, so that int64 values are exact. */
const BIGINT_LONG = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8)
    buf.writeBigInt64LE(BigInt(n))
    return buf
  },
  fromJSON: (v: unknown) => BigInt(v as string | number),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
})

/** A logical type whose values become epoch microseconds (bigint), as core's write path takes. */
function timestampType(toMicros: (v: bigint | number) => bigint, larderType: ValueTypeName) {
  return class extends avro.types.LogicalType {
    readonly larderType = larderType
    protected override _fromValue(val: bigint | number): bigint {
      return toMicros(val)
    }
    protected override _toValue(val: bigint): unknown {
      return val
    }
    protected override _resolve(type: avro.Type): unknown {
      return avro.Type.isType(type, 'long') ? this._fromValue.bind(this) : undefined
    }
  }
}

const MICROS_PER_DAY = 86_400_000_000n

/** Avro logical types Larder reads; others decode as their underlying type. */
const LOGICAL_TYPES = {
  'timestamp-millis': timestampType((v) => BigInt(v) * 1000n, 'timestamp'),
  'timestamp-micros': timestampType((v) => BigInt(v), 'timestamp'),
  'timestamp-nanos': timestampType((v) => floorDiv(BigInt(v), 1000n), 'timestamp'),
  'local-timestamp-millis': timestampType((v) => BigInt(v) * 1000n, 'timestamp'),
  'local-timestamp-micros': timestampType((v) => BigInt(v), 'timestamp'),
  'local-timestamp-nanos': timestampType((v) => floorDiv(BigInt(v), 1000n), 'timestamp'),
  date: timestampType((v) => BigInt(v) * MICROS_PER_DAY, 'timestamp'),
}

/**
 * Makes every Avro `long` the bigint long: avsc takes `"long"` from the registry, but builds
 * `{ "type": "long" }` and the underlying long of a logical type itself. For a logical type
 * Larder reads, avsc asks twice with the same schema object: first for the logical type (left
 * to avsc), then for its underlying type (answered here but for milliseconds).
 */
function bigintLongHook(): (schema: unknown) => avro.Type | undefined {
  const pending = new WeakSet<object>()
  return (schema) => {
    if (!schema || typeof schema !== 'object' || (schema as { type?: unknown }).type !== 'long') {
      return undefined
    }
    const logical = (schema as { logicalType?: unknown }).logicalType
    if (typeof logical === 'string' && Object.hasOwn(LOGICAL_TYPES, logical)) {
      if (!pending.has(schema)) {
        pending.add(schema)
        return undefined
      }
      pending.delete(schema)
      // Milliseconds fit avsc's own (faster, number) long for any date (2^53 ms is the year
      // 287396); microseconds pass 2^53 in 2255 (and sentinels such as 9999-12-31 are
      // common), nanoseconds in 1970: those need the bigint long.
      if (logical.endsWith('-millis')) return undefined
    }
    return BIGINT_LONG
  }
}

/** avsc options for one schema (a fresh registry each time: avsc adds named types to it). */
function typeOptions(registry: Record<string, avro.Type> = { long: BIGINT_LONG }) {
  return {
    registry,
    logicalTypes: LOGICAL_TYPES as never,
    typeHook: bigintLongHook() as never,
    wrapUnions: 'auto' as const,
  }
}

function compile(schema: unknown, what: string): avro.Type {
  try {
    return avro.Type.forSchema(schema as avro.Schema, typeOptions())
  } catch (err) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `${what} is not a valid Avro schema: ${(err as Error).message}`,
      {
        component: COMPONENT,
        cause: err,
      },
    )
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Decodes Avro binary that must fill `bytes` exactly. */
function decodeWith(
  type: avro.Type,
  bytes: Buffer,
  offset: number,
  what: () => string,
): DecodedRow {
  let value: unknown
  try {
    const result = type.decode(bytes, offset)
    if (result.offset < 0) {
      throw new Error(`truncated: ${bytes.length - offset} byte(s) do not hold a whole record`)
    }
    if (result.offset !== bytes.length) {
      throw new Error(`${bytes.length - result.offset} byte(s) left after the record`)
    }
    value = result.value
  } catch (err) {
    throw recordError(COMPONENT, `record does not match ${what()}: ${(err as Error).message}`, err)
  }
  if (
    value === null ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    Buffer.isBuffer(value)
  ) {
    throw recordError(COMPONENT, `${what()} is not a record schema: records must decode to objects`)
  }
  // A plain object rather than avsc's record class, like the other formats' rows.
  return { ...(value as DecodedRow) }
}

/** The Larder value type of an Avro type (null-unions stripped), or undefined. */
function larderTypeOf(type: avro.Type): {
  type: ValueTypeName | undefined
  nullable: boolean
  sourceType: string
} {
  let t = type
  let nullable = false
  if (t instanceof avro.types.UnwrappedUnionType || t instanceof avro.types.WrappedUnionType) {
    const all = (t as unknown as { types: avro.Type[] }).types
    const branches = all.filter((b) => !(b instanceof avro.types.NullType))
    nullable = branches.length < all.length
    if (branches.length !== 1) return { type: undefined, nullable, sourceType: 'union' }
    t = branches[0] as avro.Type
  }
  const logical = (t as { larderType?: ValueTypeName }).larderType
  // Longs are avsc's `abstract:long` here (the bigint long type).
  const sourceType = t.typeName === 'abstract:long' ? 'long' : t.typeName
  if (logical) return { type: logical, nullable, sourceType }
  if (t instanceof avro.types.ArrayType) {
    const inner = larderTypeOf(t.itemsType)
    const element = inner.type
    return {
      type:
        element && !element.startsWith('array<')
          ? (`array<${element}>` as ValueTypeName)
          : undefined,
      nullable,
      sourceType: `array<${inner.sourceType}>`,
    }
  }
  const byName: Record<string, ValueTypeName> = {
    boolean: 'bool',
    int: 'int32',
    long: 'int64',
    float: 'float32',
    double: 'float64',
    string: 'string',
    bytes: 'bytes',
    fixed: 'bytes',
    enum: 'string',
  }
  // Logical types avsc does not know (uuid, decimal, time-*) decode as their underlying type.
  const base = t instanceof avro.types.LogicalType ? t.underlyingType.typeName : sourceType
  const logicalName = t.schema() as { logicalType?: string } | string
  const isDecimal = typeof logicalName === 'object' && logicalName?.logicalType === 'decimal'
  return { type: isDecimal ? undefined : byName[base], nullable, sourceType }
}

/** The top-level fields of a record type. */
function describeType(type: avro.Type): FormatSchema {
  if (!(type instanceof avro.types.RecordType)) return { fields: [] }
  const fields: FormatField[] = type.fields.map((f) => {
    const t = larderTypeOf(f.type)
    return { name: f.name, type: t.type, nullable: t.nullable, sourceType: t.sourceType }
  })
  return { fields }
}

class InlineAvroDecoder extends SyncFirstDecoder {
  readonly #what: () => string
  constructor(
    readonly type: avro.Type,
    what: string,
  ) {
    super()
    this.#what = () => what
  }
  decodeNow(value: Uint8Array): DecodedRow {
    return decodeWith(this.type, toBuffer(value), 0, this.#what)
  }
}

class RegistryAvroDecoder extends SyncFirstDecoder {
  constructor(
    readonly client: SchemaRegistryClient,
    readonly binding: RegistryBinding<avro.Type>,
  ) {
    super()
  }
  decodeNow(value: Uint8Array): DecodedRow | Promise<DecodedRow> {
    const { schemaId, offset } = readConfluentHeader(value, COMPONENT)
    const what = () => `schema id ${schemaId}`
    const type = this.binding.ready(this.client, schemaId)
    if (type) return decodeWith(type, toBuffer(value), offset, what)
    return this.binding
      .schema(this.client, schemaId)
      .then((t) => decodeWith(t, toBuffer(value), offset, what))
  }
}

/** Fetches and compiles the Avro schema of a registry id (references included). */
async function parseRegistrySchema(client: SchemaRegistryClient, id: number): Promise<avro.Type> {
  const registered = await client.getSchemaById(id)
  if (registered.schemaType !== 'AVRO') {
    throw recordError(
      COMPONENT,
      `schema id ${id} is a ${registered.schemaType} schema, but this source's format is Avro`,
    )
  }
  const references = await resolveReferences(client, registered.references)
  const registry: Record<string, avro.Type> = { long: BIGINT_LONG }
  try {
    for (const { schema } of references) {
      avro.Type.forSchema(JSON.parse(schema.schema), typeOptions(registry))
    }
    return avro.Type.forSchema(JSON.parse(registered.schema), typeOptions(registry))
  } catch (err) {
    throw recordError(
      COMPONENT,
      `schema id ${id} in the Schema Registry is not a valid Avro schema: ${(err as Error).message}`,
      err,
    )
  }
}

/** Options of {@link avroFormat}: an inline writer schema, or a Schema Registry. */
export type AvroFormatOptions =
  | {
      /** The writer schema (Avro JSON, as an object or its text): records are plain Avro binary. */
      schema: unknown
      schemaRegistry?: undefined
    }
  | {
      schema?: undefined
      /** Records are framed for a Confluent Schema Registry (see {@link SchemaRegistryOptions}). */
      schemaRegistry: SchemaRegistryOptions
    }

/**
 * Avro records. With `schema`, each record value is plain Avro binary written with that
 * schema. With `schemaRegistry`, each is framed for a Confluent Schema Registry: magic byte 0,
 * the schema id (4 bytes, big-endian), then Avro binary; each schema is fetched once per id
 * and cached. Fields keep their names; `long` is a bigint; `timestamp-millis`,
 * `timestamp-micros` (and `-nanos`, `local-*`, `date`) become bigint epoch microseconds.
 *
 * @example
 * avroFormat({ schema: { type: 'record', name: 'Trip', fields: [
 *   { name: 'driver_id', type: 'long' },
 *   { name: 'event_timestamp', type: { type: 'long', logicalType: 'timestamp-micros' } },
 * ] } })
 * avroFormat({ schemaRegistry: { url: 'http://127.0.0.1:8081' } })
 */
export function avroFormat(options: AvroFormatOptions): StreamFormat<AvroFormatSpec> {
  isFramed(options, 'avroFormat', 'schema', '{ schema }', COMPONENT)
  const { schema, schemaRegistry } = options
  if (schema !== undefined) {
    let parsed = schema
    if (typeof schema === 'string') {
      try {
        parsed = JSON.parse(schema)
      } catch {
        parsed = schema // a primitive type name such as "string"; avsc reports what is wrong
      }
    }
    const type = compile(parsed, 'avroFormat: schema')
    const spec: AvroFormatSpec = { kind: 'avro', schema: parsed }
    const what = type.name ? `Avro schema ${type.name}` : 'the Avro schema'
    return {
      spec,
      createDecoder: () => new InlineAvroDecoder(type, what),
      describe: async () => describeType(type),
    }
  }
  const binding = new RegistryBinding(schemaRegistry as SchemaRegistryOptions, parseRegistrySchema)
  return {
    spec: { kind: 'avro', schemaRegistry: binding.ref },
    createDecoder: (context: FormatContext = {}) =>
      new RegistryAvroDecoder(binding.client(context), binding),
    describe: async (context: FormatContext = {}) => {
      const latest = await binding.latest(context)
      return latest ? describeType(latest.schema) : undefined
    },
  }
}
