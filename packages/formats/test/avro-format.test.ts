import { isLarderError, isRecordError, type LarderError } from '@larder/core'
import { type SchemaRegistryEmulator, startSchemaRegistryEmulator } from '@larder/emulators'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { avroFormat, formatFromSpec } from '../src/index.js'
import { avroString, bytes, confluentHeader, doubleLE, zigzag } from './hand-encoding.js'

const TRIP = {
  type: 'record',
  name: 'Trip',
  namespace: 'trips.v1',
  fields: [
    { name: 'driver_id', type: 'long' },
    { name: 'event_timestamp', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'created', type: ['null', { type: 'long', logicalType: 'timestamp-millis' }] },
    { name: 'conv_rate', type: 'double' },
    { name: 'Trips', type: 'int' },
    { name: 'city', type: 'string' },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['UBER', 'TAXI'] } },
  ],
}

/** A Trip in Avro binary, written field by field from the spec. */
function tripBytes(driverId: bigint, micros: bigint, createdMillis: bigint | null): number[] {
  return [
    ...zigzag(driverId),
    ...zigzag(micros),
    ...(createdMillis === null ? zigzag(0) : [...zigzag(1), ...zigzag(createdMillis)]),
    ...doubleLE(0.25),
    ...zigzag(-3),
    ...avroString('Lyon'),
    ...zigzag(2), // array block of 2 items
    ...avroString('a'),
    ...avroString('é'),
    ...zigzag(0), // end of array
    ...zigzag(1), // enum index 1
  ]
}

const EXPECTED = {
  driver_id: 9007199254740993n,
  event_timestamp: 1769860800123456n,
  created: 1769860800123000n,
  conv_rate: 0.25,
  Trips: -3,
  city: 'Lyon',
  tags: ['a', 'é'],
  kind: 'TAXI',
}

let registry: SchemaRegistryEmulator
beforeAll(async () => {
  registry = await startSchemaRegistryEmulator()
})
afterAll(async () => {
  await registry.close()
})

describe('avroFormat with an inline schema', () => {
  const format = avroFormat({ schema: TRIP })

  it('decodes hand-encoded Avro binary: exact longs, timestamps to the microsecond', async () => {
    const row = await format
      .createDecoder()
      .decode(bytes(tripBytes(9007199254740993n, 1769860800123456n, 1769860800123n)))
    expect({ ...row }).toEqual(EXPECTED)
    const noCreated = await format.createDecoder().decode(bytes(tripBytes(-1n, -1n, null)))
    expect(noCreated).toMatchObject({ driver_id: -1n, event_timestamp: -1n, created: null })
  })

  it('reads every long form exactly: object form, logical types, shared schema objects', async () => {
    const nanos = { type: 'long', logicalType: 'timestamp-nanos' }
    const format = avroFormat({
      schema: {
        type: 'record',
        name: 'Longs',
        fields: [
          { name: 'object_form', type: { type: 'long' } },
          { name: 'unknown_logical', type: { type: 'long', logicalType: 'time-micros' } },
          { name: 'at', type: nanos },
          { name: 'again', type: nanos }, // the same schema object twice
          { name: 'list', type: { type: 'array', items: { type: 'long' } } },
        ],
      },
    })
    const row = await format
      .createDecoder()
      .decode(
        bytes([
          ...zigzag(9223372036854775807n),
          ...zigzag(-9007199254740993n),
          ...zigzag(1769860800123456789n),
          ...zigzag(-1n),
          ...zigzag(1),
          ...zigzag(9007199254740993n),
          ...zigzag(0),
        ]),
      )
    expect(row).toEqual({
      object_form: 9223372036854775807n,
      unknown_logical: -9007199254740993n,
      at: 1769860800123456n,
      again: -1n, // -1 ns is -0.001 µs: floored to -1 µs
      list: [9007199254740993n],
    })
    expect((await format.describe())?.fields.map((f) => f.type)).toEqual([
      'int64',
      'int64',
      'timestamp',
      'timestamp',
      'array<int64>',
    ])
  })

  it('reads times far from now exactly: 9999-12-31 in microseconds and milliseconds', async () => {
    const format = avroFormat({
      schema: {
        type: 'record',
        name: 'Far',
        fields: [
          { name: 'micros', type: { type: 'long', logicalType: 'timestamp-micros' } },
          { name: 'millis', type: { type: 'long', logicalType: 'timestamp-millis' } },
        ],
      },
    })
    // 9999-12-31T23:59:59.999999Z: beyond 2^53 microseconds.
    const row = await format
      .createDecoder()
      .decode(bytes([...zigzag(253402300799999999n), ...zigzag(253402300799999n)]))
    expect(row).toEqual({ micros: 253402300799999999n, millis: 253402300799999000n })
  })

  it('gives bad-record errors for truncated, trailing and garbage bytes', async () => {
    const whole = tripBytes(1n, 2n, 3n)
    const results = await format
      .createDecoder()
      .decodeBatch([
        bytes(whole.slice(0, -3)),
        bytes([...whole, 0]),
        bytes([0xff, 0xff, 0xff]),
        bytes(whole),
      ])
    expect(results.map((r) => isRecordError(r.error))).toEqual([true, true, true, false])
    expect(results[0]?.error?.message).toMatch(
      /^\[larder\] \[avro\] record does not match Avro schema trips\.v1\.Trip: truncated/,
    )
    expect(results[1]?.error?.message).toMatch(/1 byte\(s\) left after the record/)
  })

  it('describes its columns with Larder types', async () => {
    expect(await format.describe()).toEqual({
      fields: [
        { name: 'driver_id', type: 'int64', nullable: false, sourceType: 'long' },
        {
          name: 'event_timestamp',
          type: 'timestamp',
          nullable: false,
          sourceType: 'logical:timestamp-micros',
        },
        {
          name: 'created',
          type: 'timestamp',
          nullable: true,
          sourceType: 'logical:timestamp-millis',
        },
        { name: 'conv_rate', type: 'float64', nullable: false, sourceType: 'double' },
        { name: 'Trips', type: 'int32', nullable: false, sourceType: 'int' },
        { name: 'city', type: 'string', nullable: false, sourceType: 'string' },
        { name: 'tags', type: 'array<string>', nullable: false, sourceType: 'array<string>' },
        { name: 'kind', type: 'string', nullable: false, sourceType: 'enum' },
      ],
    })
  })

  it('is rebuilt from its stored spec', async () => {
    const spec = JSON.parse(JSON.stringify(format.spec))
    expect(spec).toEqual({ kind: 'avro', schema: TRIP })
    const row = await formatFromSpec(spec)
      .createDecoder()
      .decode(bytes(tripBytes(9007199254740993n, 1769860800123456n, 1769860800123n)))
    expect({ ...row }).toEqual(EXPECTED)
  })

  it('rejects bad definitions clearly', () => {
    expect(() =>
      avroFormat({ schema: { type: 'record', name: 'X', fields: [{ name: 'a' }] } }),
    ).toThrow(/^\[larder\] \[avro\] avroFormat: schema is not a valid Avro schema/)
    expect(() => avroFormat({} as never)).toThrow(/exactly one of/)
    expect(() => avroFormat({ schemaRegistry: { url: 'localhost:8081' } })).toThrow(
      /schemaRegistry\.url must be an http\(s\) URL/,
    )
  })
})

describe('avroFormat with a Schema Registry', () => {
  it('decodes the Confluent framing, fetching each schema once per id', async () => {
    const id = registry.register('trips-value', { schema: JSON.stringify(TRIP) })
    const format = avroFormat({ schemaRegistry: { url: registry.url } })
    const record = bytes([
      ...confluentHeader(id),
      ...tripBytes(9007199254740993n, 1769860800123456n, 1769860800123n),
    ])
    // Concurrent first uses, from two decoders of one format, share one fetch.
    const a = format.createDecoder()
    const b = format.createDecoder()
    const rows = await Promise.all([a.decode(record), b.decode(record), a.decode(record)])
    for (const row of rows) expect({ ...row }).toEqual(EXPECTED)
    await b.decodeBatch([record, record])
    expect(registry.count('GET', `/schemas/ids/${id}`)).toBe(1)
  })

  it('names an unknown schema id as a bad record', async () => {
    const format = avroFormat({ schemaRegistry: { url: registry.url } })
    const [result] = await format
      .createDecoder()
      .decodeBatch([bytes([...confluentHeader(4242), 2, 4])])
    expect(isRecordError(result?.error)).toBe(true)
    expect(result?.error?.message).toBe(
      `[larder] [schema-registry] schema id 4242 is not in the Schema Registry at ${registry.url} (40403 Schema not found)`,
    )
  })

  it('rejects records without the framing and schemas of another type', async () => {
    const protoId = registry.register('other-value', {
      schema: 'syntax = "proto3";\nmessage M { int64 a = 1; }\n',
      schemaType: 'PROTOBUF',
    })
    const decoder = avroFormat({ schemaRegistry: { url: registry.url } }).createDecoder()
    const results = await decoder.decodeBatch([
      new TextEncoder().encode('{"driver_id": 1}'),
      bytes([0, 0, 1]),
      bytes([...confluentHeader(protoId), 2]),
    ])
    expect(results.map((r) => r.error?.message)).toEqual([
      '[larder] [avro] expected magic byte 0 of the Schema Registry framing, got 0x7b (it looks like JSON: use jsonFormat())',
      '[larder] [avro] record is 3 byte(s), shorter than the 5-byte Schema Registry header (magic byte 0 + schema id)',
      `[larder] [avro] schema id ${protoId} is a PROTOBUF schema, but this source's format is Avro`,
    ])
  })

  it('treats a URL that is not a registry (a bare 404) as a fault, not a bad record', async () => {
    const decoder = avroFormat({
      schemaRegistry: { url: `${registry.url}/not-the-root` },
    }).createDecoder()
    const error = await decoder.decodeBatch([bytes([...confluentHeader(1), 2])]).then(
      () => undefined,
      (err: unknown) => err as LarderError,
    )
    expect(isLarderError(error, 'BACKEND_ERROR')).toBe(true)
    expect(error?.message).toMatch(
      /answered 404 for schema id 1 without a Schema Registry error code .*: check schemaRegistry\.url/,
    )
  })

  it('treats an unreachable registry as a fault, not a bad record', async () => {
    const down = await startSchemaRegistryEmulator()
    const url = down.url
    await down.close()
    const decoder = avroFormat({ schemaRegistry: { url } }).createDecoder()
    const error = await decoder.decodeBatch([bytes([...confluentHeader(1), 2])]).then(
      () => undefined,
      (err: unknown) => err as LarderError,
    )
    expect(isLarderError(error, 'BACKEND_UNAVAILABLE')).toBe(true)
    expect(error?.message).toBe(
      `[larder] [schema-registry] cannot reach the Schema Registry at ${url}: check schemaRegistry.url and that the registry is running`,
    )
  })

  it('sends credentials given at run time, which the spec never holds', async () => {
    const locked = await startSchemaRegistryEmulator({
      basicAuth: { username: 'key', password: 's3cret' },
    })
    try {
      const id = locked.register('trips-value', { schema: JSON.stringify(TRIP) })
      const record = bytes([...confluentHeader(id), ...tripBytes(1n, 2n, null)])
      const format = avroFormat({ schemaRegistry: { url: locked.url } })
      expect(JSON.stringify(format.spec)).toBe(
        JSON.stringify({ kind: 'avro', schemaRegistry: { url: locked.url } }),
      )
      const denied = await format
        .createDecoder()
        .decode(record)
        .then(
          () => undefined,
          (err: unknown) => err as LarderError,
        )
      expect(isLarderError(denied, 'BACKEND_ERROR')).toBe(true)
      expect(denied?.message).toMatch(
        /refused the request for schema id \d+ \(401 Unauthorized\): pass its credentials/,
      )
      const row = await formatFromSpec(format.spec)
        .createDecoder({ schemaRegistry: { auth: { username: 'key', password: 's3cret' } } })
        .decode(record)
      expect(row.driver_id).toBe(1n)
      // Credentials in the definition are used, yet not stored.
      const defined = avroFormat({
        schemaRegistry: { url: locked.url, auth: { username: 'key', password: 's3cret' } },
      })
      expect(JSON.stringify(defined.spec)).not.toContain('s3cret')
      expect((await defined.createDecoder().decode(record)).driver_id).toBe(1n)
    } finally {
      await locked.close()
    }
  })

  it('describes the latest version of the subject (default <topic>-value)', async () => {
    registry.register('described-value', { schema: JSON.stringify(TRIP) })
    const format = avroFormat({ schemaRegistry: { url: registry.url } })
    const schema = await format.describe({ stream: 'described' })
    expect(schema?.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'driver_id:int64',
      'event_timestamp:timestamp',
      'created:timestamp',
      'conv_rate:float64',
      'Trips:int32',
      'city:string',
      'tags:array<string>',
      'kind:string',
    ])
    expect(await format.describe({ stream: 'no-such-topic' })).toBeUndefined()
    expect(await format.describe()).toBeUndefined()
  })

  it('resolves named types from referenced subjects', async () => {
    const money = {
      type: 'record',
      name: 'Money',
      namespace: 'common',
      fields: [{ name: 'cents', type: 'long' }],
    }
    registry.register('common.Money', { schema: JSON.stringify(money) })
    const order = {
      type: 'record',
      name: 'Order',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'total', type: 'common.Money' },
      ],
    }
    const id = registry.register('orders-value', {
      schema: JSON.stringify(order),
      references: [{ name: 'common.Money', subject: 'common.Money', version: 1 }],
    })
    const row = await avroFormat({ schemaRegistry: { url: registry.url } })
      .createDecoder()
      .decode(bytes([...confluentHeader(id), ...avroString('o-1'), ...zigzag(1999n)]))
    expect(
      JSON.parse(JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))),
    ).toEqual({
      id: 'o-1',
      total: { cents: '1999n' },
    })
  })
})
