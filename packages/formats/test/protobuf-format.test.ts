import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isLarderError, isRecordError, type LarderError } from '@larder/core'
import { type SchemaRegistryEmulator, startSchemaRegistryEmulator } from '@larder/emulators'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatFromSpec, protobufFormat } from '../src/index.js'
import {
  bytes,
  confluentHeader,
  doubleLE,
  pbBytes,
  pbString,
  pbVarint,
  tag,
  varint,
  zigzag,
} from './hand-encoding.js'

const TRIP_PROTO = `syntax = "proto3";
package trips.v1;

import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

message Trip {
  int64 driver_id = 1;
  google.protobuf.Timestamp event_timestamp = 2;
  double conv_rate = 3;
  string City_Name = 4;
  repeated int64 trip_ids = 5;
  Kind kind = 6;
  optional int32 rating = 7;
  google.protobuf.DoubleValue tip = 8;
  sint64 delta = 9;
  Location pickup = 10;
  enum Kind { UBER = 0; TAXI = 1; }
  message Location { double lat = 1; double lon = 2; }
}

message Driver {
  string name = 1;
  message Car { string plate = 1; }
  message Licence { int32 points = 1; }
}
`

/** google.protobuf.Timestamp { seconds = 1; nanos = 2 } by hand. */
function timestamp(seconds: bigint, nanos: number): number[] {
  return [...pbVarint(1, seconds), ...pbVarint(2, nanos)]
}

/** A trips.v1.Trip message by hand (fields out of order on purpose: the wire allows it). */
function tripBytes(): number[] {
  return [
    ...pbString(4, 'Lyon'),
    ...pbVarint(1, 9007199254740993n),
    ...pbBytes(2, timestamp(1769860800n, 123456789)),
    ...tag(3, 1),
    ...doubleLE(0.25),
    ...pbBytes(5, [...varint(7n), ...varint(8n)]), // packed repeated int64
    ...pbVarint(6, 1),
    ...pbBytes(8, [...tag(1, 1), ...doubleLE(1.5)]), // DoubleValue { value = 1.5 }
    ...tag(9, 0),
    ...zigzag(-2n),
  ]
}

const TRIP_ROW = {
  driver_id: 9007199254740993n,
  event_timestamp: 1769860800123456n,
  conv_rate: 0.25,
  City_Name: 'Lyon',
  trip_ids: [7n, 8n],
  kind: 'TAXI',
  rating: null,
  tip: 1.5,
  delta: -2n,
  pickup: null,
}

let dir: string
let registry: SchemaRegistryEmulator
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'larder-formats-proto-'))
  await mkdir(join(dir, 'protos'))
  await writeFile(join(dir, 'protos', 'trip.proto'), TRIP_PROTO)
  registry = await startSchemaRegistryEmulator()
})
afterAll(async () => {
  await registry.close()
  await rm(dir, { recursive: true, force: true })
})

describe('protobufFormat with a .proto file', () => {
  const format = protobufFormat({ protoFile: 'protos/trip.proto', messageType: 'trips.v1.Trip' })

  it('decodes a hand-encoded message: names as written, exact int64, Timestamp to the microsecond', async () => {
    const row = await format.createDecoder({ baseDir: dir }).decode(bytes(tripBytes()))
    expect(row).toEqual(TRIP_ROW)
  })

  it('fills proto3 defaults, nulls for unset messages and optionals, objects for messages', async () => {
    const row = await format
      .createDecoder({ baseDir: dir })
      .decode(bytes([...pbVarint(7, 0), ...pbBytes(10, [...tag(1, 1), ...doubleLE(45.75)])]))
    expect(row).toEqual({
      driver_id: 0n,
      event_timestamp: null,
      conv_rate: 0,
      City_Name: '',
      trip_ids: [],
      kind: 'UBER',
      rating: 0, // optional and set to 0: present
      tip: null,
      delta: 0n,
      pickup: { lat: 45.75, lon: 0 },
    })
  })

  it('keeps Timestamp nanoseconds below a microsecond out, also before 1970', async () => {
    const row = await format
      .createDecoder({ baseDir: dir })
      .decode(bytes(pbBytes(2, timestamp(-1n, 999_999_999))))
    expect(row.event_timestamp).toBe(-1n) // -1 s + 999999.999 µs = -0.000000001 s -> -1 µs
  })

  it('gives a bad-record error for garbage', async () => {
    const [result] = await format
      .createDecoder({ baseDir: dir })
      .decodeBatch([bytes([0x0a, 0x05, 0x41])])
    expect(isRecordError(result?.error)).toBe(true)
    expect(result?.error?.message).toMatch(
      /^\[larder\] \[protobuf\] record is not a valid trips\.v1\.Trip: /,
    )
  })

  it('describes its columns with Larder types', async () => {
    const schema = await format.describe({ baseDir: dir })
    expect(schema?.fields.map((f) => [f.name, f.type ?? null, f.nullable, f.sourceType])).toEqual([
      ['driver_id', 'int64', false, 'int64'],
      ['event_timestamp', 'timestamp', true, 'google.protobuf.Timestamp'],
      ['conv_rate', 'float64', false, 'double'],
      ['City_Name', 'string', false, 'string'],
      ['trip_ids', 'array<int64>', false, 'repeated int64'],
      ['kind', 'string', false, 'Kind'],
      ['rating', 'int32', true, 'int32'],
      ['tip', 'float64', true, 'google.protobuf.DoubleValue'],
      ['delta', 'int64', false, 'sint64'],
      ['pickup', null, true, 'trips.v1.Trip.Location'],
    ])
  })

  it('is rebuilt from its stored spec', async () => {
    const spec = JSON.parse(JSON.stringify(format.spec))
    expect(spec).toEqual({
      kind: 'protobuf',
      protoFile: 'protos/trip.proto',
      messageType: 'trips.v1.Trip',
    })
    const row = await formatFromSpec(spec)
      .createDecoder({ baseDir: dir })
      .decode(bytes(tripBytes()))
    expect(row).toEqual(TRIP_ROW)
  })

  it('names a missing file, a missing type and missing options', async () => {
    const missing = protobufFormat({ protoFile: 'nope.proto', messageType: 'a.B' })
    await expect(missing.createDecoder({ baseDir: dir }).decode(bytes([]))).rejects.toThrow(
      `[larder] [protobuf] protobufFormat: proto file '${join(dir, 'nope.proto')}' does not exist`,
    )
    const wrongType = protobufFormat({
      protoFile: 'protos/trip.proto',
      messageType: 'trips.v1.Tripp',
    })
    const err = await wrongType.describe({ baseDir: dir }).then(
      () => undefined,
      (e: unknown) => e as LarderError,
    )
    expect(isLarderError(err, 'INVALID_DEFINITION')).toBe(true)
    expect(err?.message).toMatch(
      /no message type 'trips\.v1\.Tripp' in .* \(found: trips\.v1\.Trip, trips\.v1\.Trip\.Location, trips\.v1\.Driver/,
    )
    expect(() => protobufFormat({ protoFile: 'protos/trip.proto' } as never)).toThrow(
      /messageType is required/,
    )
  })
})

describe('protobufFormat with a Schema Registry', () => {
  it('follows the message indexes the Java and Go serializers write', async () => {
    const id = registry.register('trips-value', { schema: TRIP_PROTO, schemaType: 'PROTOBUF' })
    const format = protobufFormat({ schemaRegistry: { url: registry.url } })
    const decoder = format.createDecoder()
    const head = confluentHeader(id)
    // [0] as the single byte 0: the file's first message.
    expect(await decoder.decode(bytes([...head, 0, ...tripBytes()]))).toEqual(TRIP_ROW)
    // [0] written in full: count 1 (zigzag 0x02), index 0.
    expect(await decoder.decode(bytes([...head, 0x02, 0x00, ...tripBytes()]))).toEqual(TRIP_ROW)
    // [1]: the second top-level message, Driver.
    expect(await decoder.decode(bytes([...head, 0x02, 0x02, ...pbString(1, 'Ada')]))).toEqual({
      name: 'Ada',
    })
    // [1, 1]: Driver's second nested message, Licence.
    expect(await decoder.decode(bytes([...head, 0x04, 0x02, 0x02, ...pbVarint(1, 3)]))).toEqual({
      points: 3,
    })
    // [0, 0]: Trip's first nested message, Location (enums are not counted).
    expect(
      await decoder.decode(bytes([...head, 0x04, 0x00, 0x00, ...tag(1, 1), ...doubleLE(2.5)])),
    ).toEqual({ lat: 2.5, lon: 0 })
    expect(registry.count('GET', `/schemas/ids/${id}`)).toBe(1)
  })

  it('fetches each schema once, even for concurrent first uses', async () => {
    const id = registry.register('concurrent-value', {
      schema: 'syntax = "proto3";\npackage c;\nmessage M { int64 a = 1; }\n',
      schemaType: 'PROTOBUF',
    })
    const format = protobufFormat({ schemaRegistry: { url: registry.url } })
    const record = bytes([...confluentHeader(id), 0, ...pbVarint(1, 5)])
    const rows = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        format
          .createDecoder()
          .decode(record)
          .then((r) => [i, r]),
      ),
    )
    expect(rows.every(([, r]) => (r as { a: bigint }).a === 5n)).toBe(true)
    expect(registry.count('GET', `/schemas/ids/${id}`)).toBe(1)
  })

  it('gives bad-record errors for unknown ids, bad indexes and Avro schemas', async () => {
    const id = registry.register('small-value', {
      schema: 'syntax = "proto3";\nmessage M { int64 a = 1; }\n',
      schemaType: 'PROTOBUF',
    })
    const avroId = registry.register('avro-value', { schema: '"string"' })
    const decoder = protobufFormat({ schemaRegistry: { url: registry.url } }).createDecoder()
    const results = await decoder.decodeBatch([
      bytes([...confluentHeader(9999), 0, 0x08, 0x01]),
      bytes([...confluentHeader(id), 0x02, 0x06, 0x08, 0x01]),
      bytes([...confluentHeader(id), 0x02]),
      bytes([...confluentHeader(id), 0x7f]),
      bytes([...confluentHeader(avroId), 0]),
      bytes([1, 0, 0, 0, 1, 0]),
    ])
    expect(results.every((r) => isRecordError(r.error))).toBe(true)
    expect(results.map((r) => r.error?.reason)).toEqual([
      `schema id 9999 is not in the Schema Registry at ${registry.url} (40403 Schema not found)`,
      `message indexes [3] point past the messages of schema id ${id}`,
      'record ends inside the Protobuf message indexes',
      'implausible Protobuf message index count -64 (is the record framed for a Schema Registry?)',
      `schema id ${avroId} is an AVRO schema, but this source's format is Protobuf`,
      'expected magic byte 0 of the Schema Registry framing, got 0x01',
    ])
  })

  it('loads imports from referenced subjects', async () => {
    registry.register('money.proto', {
      schema:
        'syntax = "proto3";\npackage common;\nmessage Money { int64 cents = 1; string currency = 2; }\n',
      schemaType: 'PROTOBUF',
    })
    const id = registry.register('orders-value', {
      schema:
        'syntax = "proto3";\npackage shop;\nimport "money.proto";\nimport "google/protobuf/timestamp.proto";\n' +
        'message Order { string id = 1; common.Money total = 2; google.protobuf.Timestamp at = 3; }\n',
      schemaType: 'PROTOBUF',
      references: [{ name: 'money.proto', subject: 'money.proto', version: 1 }],
    })
    const format = protobufFormat({ schemaRegistry: { url: registry.url } })
    const row = await format
      .createDecoder()
      .decode(
        bytes([
          ...confluentHeader(id),
          0,
          ...pbString(1, 'o-1'),
          ...pbBytes(2, [...pbVarint(1, 1999), ...pbString(2, 'EUR')]),
          ...pbBytes(3, timestamp(1769860800n, 1000)),
        ]),
      )
    expect(row).toEqual({
      id: 'o-1',
      total: { cents: 1999n, currency: 'EUR' },
      at: 1769860800000001n,
    })
    const described = await format.describe({ stream: 'orders' })
    expect(described?.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'id:string',
      'total:undefined',
      'at:timestamp',
    ])
  })
})
