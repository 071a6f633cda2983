/**
 * `@larder/formats` decoders against the decoding a consumer would write by hand for one known
 * schema, on the same 100k records (scale 1), in batches of 1,000 as ingestion hands them over:
 * (a) JSON objects with an RFC 3339 event time: `jsonFormat()` vs `JSON.parse` + `Date.parse`;
 * (b) Avro framed for a Schema Registry: `avroFormat({ schemaRegistry })` (stand-in registry,
 *     schema fetched once, in the warm-up) vs avsc decoding past the 5-byte header with the
 *     schema known up front;
 * (c) Protobuf framed for a Schema Registry: `protobufFormat({ schemaRegistry })` vs protobufjs
 *     `decode` past the header and index byte plus the field conversions written out.
 * Check (after the clock): every decoded row's values (int64 and timestamps as exact integers)
 * in order.
 */

import type { StreamFormat } from '@larder/core'
import { startSchemaRegistryEmulator } from '@larder/emulators'
import { avroFormat, jsonFormat, protobufFormat } from '@larder/formats'
import avro from 'avsc'
import protobuf from 'protobufjs'
import { Digest } from '../digest.js'
import { compare, rateExtra, type SubjectFactory, type SubjectRunner } from '../harness.js'
import type { BenchContext, Benchmark, BenchResult } from '../types.js'

const BATCH = 1000
const T0_MS = 1_767_225_600_000 // 2026-01-01T00:00:00Z

const AVRO_SCHEMA = {
  type: 'record',
  name: 'Trip',
  fields: [
    { name: 'driver_id', type: 'long' },
    { name: 'event_timestamp', type: { type: 'long', logicalType: 'timestamp-micros' } },
    { name: 'conv_rate', type: 'double' },
    { name: 'trips', type: 'long' },
    { name: 'city', type: 'string' },
  ],
}
const PROTO =
  'syntax = "proto3";\npackage bench;\nimport "google/protobuf/timestamp.proto";\n' +
  'message Trip { int64 driver_id = 1; google.protobuf.Timestamp event_timestamp = 2; ' +
  'double conv_rate = 3; int64 trips = 4; string city = 5; }\n'

/** The i-th event: exact values every subject must decode to. */
function event(i: number) {
  const micros = BigInt(T0_MS + i * 1013) * 1000n + BigInt((i * 7919) % 1000)
  return {
    driver_id: BigInt(1000 + (i % 1000)),
    micros,
    conv_rate: (i % 997) / 997,
    trips: BigInt(i) * 4_294_967_311n, // beyond 2^53 from i = 2^21
    city: `city-${i % 50}`,
  }
}

type Decoded = {
  driver_id: unknown
  micros: unknown
  conv_rate: unknown
  trips: unknown
  city: unknown
}

/** The decoded rows of a run, digested after the clock stops. */
class Rows {
  readonly rows: unknown[][] = []
  add(r: Decoded): void {
    this.rows.push([r.driver_id, r.micros, r.conv_rate, r.trips, r.city])
  }
  check() {
    const d = new Digest()
    for (const row of this.rows) d.row(row)
    return d.result()
  }
}

/** A bigint Avro long for the hand-written side (avsc's documented recipe). */
const bigintLong = avro.types.LongType.__with({
  fromBuffer: (b: Buffer) => b.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const b = Buffer.alloc(8)
    b.writeBigInt64LE(BigInt(n))
    return b
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
})

function header(id: number, extra: number[] = []): Buffer {
  const h = Buffer.alloc(5)
  h.writeInt32BE(id, 1)
  return Buffer.concat([h, Buffer.from(extra)])
}

/** Runs `decode` over the records in batches, feeding each decoded row to the digest. */
async function inBatches(
  values: Uint8Array[],
  decode: (batch: Uint8Array[]) => Promise<void> | void,
): Promise<void> {
  for (let i = 0; i < values.length; i += BATCH) await decode(values.slice(i, i + BATCH))
}

/** Larder's side of the framed cases: the format's decoder, batch by batch. */
async function decodeAll(format: StreamFormat, values: Uint8Array[], d: Rows): Promise<void> {
  const decoder = format.createDecoder()
  await inBatches(values, async (batch) => {
    for (const r of await decoder.decodeBatch(batch)) {
      const o = r.row as Record<string, unknown>
      d.add({ ...o, micros: o.event_timestamp } as never)
    }
  })
}

export const subjects: Record<string, SubjectFactory> = {
  json: ({ n, raw }): SubjectRunner => {
    const values = Array.from({ length: n as number }, (_, i) => {
      const e = event(i)
      return Buffer.from(
        JSON.stringify({
          driver_id: Number(e.driver_id),
          // ISO with microseconds: 2026-01-01T00:00:01.013123Z
          event_timestamp: `${new Date(Number(e.micros / 1000n)).toISOString().slice(0, 23)}${String(e.micros % 1000n).padStart(3, '0')}Z`,
          conv_rate: e.conv_rate,
          trips: e.trips.toString(),
          city: e.city,
        }),
      )
    })
    let d = new Rows()
    const text = new TextDecoder()
    return {
      async run() {
        d = new Rows()
        if (raw) {
          await inBatches(values, (batch) => {
            for (const v of batch) {
              const o = JSON.parse(text.decode(v))
              const ts = o.event_timestamp as string
              // Date.parse keeps milliseconds; the last three digits are the microseconds.
              const micros = BigInt(Date.parse(ts)) * 1000n + BigInt(ts.slice(23, 26))
              d.add({ ...o, driver_id: BigInt(o.driver_id), micros, trips: BigInt(o.trips) })
            }
          })
          return
        }
        const decoder = jsonFormat().createDecoder({ timestampFields: ['event_timestamp'] })
        await inBatches(values, async (batch) => {
          for (const r of await decoder.decodeBatch(batch)) {
            const o = r.row as Record<string, unknown>
            d.add({
              driver_id: BigInt(o.driver_id as number),
              micros: o.event_timestamp,
              conv_rate: o.conv_rate,
              trips: BigInt(o.trips as string),
              city: o.city,
            })
          }
        })
      },
      check: () => d.check(),
    }
  },

  avro: async ({ n, raw }): Promise<SubjectRunner> => {
    const registry = await startSchemaRegistryEmulator()
    const id = registry.register('trips-value', { schema: JSON.stringify(AVRO_SCHEMA) })
    const type = avro.Type.forSchema(AVRO_SCHEMA as avro.Schema, { registry: { long: bigintLong } })
    const values = Array.from({ length: n as number }, (_, i) => {
      const e = event(i)
      const body = type.toBuffer({
        driver_id: e.driver_id,
        event_timestamp: Number(e.micros), // avsc's own long under the logical type: < 2^53
        conv_rate: e.conv_rate,
        trips: e.trips,
        city: e.city,
      })
      return Buffer.concat([header(id), body])
    })
    const format = avroFormat({ schemaRegistry: { url: registry.url } })
    let d = new Rows()
    return {
      async run() {
        d = new Rows()
        if (raw) {
          await inBatches(values, (batch) => {
            for (const v of batch) {
              const o = type.decode(v as Buffer, 5).value as Record<string, unknown>
              d.add({ ...o, micros: o.event_timestamp } as never)
            }
          })
          return
        }
        await decodeAll(format, values, d)
      },
      check: () => d.check(),
      close: () => registry.close(),
    }
  },

  protobuf: async ({ n, raw }): Promise<SubjectRunner> => {
    const registry = await startSchemaRegistryEmulator()
    const id = registry.register('trips-value', { schema: PROTO, schemaType: 'PROTOBUF' })
    const root = protobuf.parse(PROTO, { keepCase: true }).root
    root.addJSON(protobuf.common.get('google/protobuf/timestamp.proto')?.nested as never)
    const Trip = root.lookupType('bench.Trip')
    const values = Array.from({ length: n as number }, (_, i) => {
      const e = event(i)
      const body = Trip.encode(
        Trip.fromObject({
          driver_id: e.driver_id.toString(),
          event_timestamp: {
            seconds: Number(e.micros / 1_000_000n),
            nanos: Number(e.micros % 1_000_000n) * 1000,
          },
          conv_rate: e.conv_rate,
          trips: e.trips.toString(),
          city: e.city,
        }),
      ).finish()
      return Buffer.concat([header(id, [0]), body])
    })
    const format = protobufFormat({ schemaRegistry: { url: registry.url } })
    let d = new Rows()
    return {
      async run() {
        d = new Rows()
        if (raw) {
          await inBatches(values, (batch) => {
            for (const v of batch) {
              const m = Trip.decode(v.subarray(6)) as unknown as Record<string, never>
              const ts = m.event_timestamp as unknown as { seconds: object; nanos: number }
              d.add({
                driver_id: BigInt(String(m.driver_id)),
                micros:
                  BigInt(String(ts.seconds)) * 1_000_000n + BigInt(Math.floor(ts.nanos / 1000)),
                conv_rate: m.conv_rate,
                trips: BigInt(String(m.trips)),
                city: m.city,
              })
            }
          })
          return
        }
        await decodeAll(format, values, d)
      },
      check: () => d.check(),
      close: () => registry.close(),
    }
  },
}

export default {
  name: 'stream-formats',
  description:
    'Record decoding of @larder/formats (JSON, Schema Registry framed Avro and Protobuf) against hand-written decoding of the same 100k records for one known schema',
  defaultScale: 1,
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const n = Math.round(100_000 * ctx.scale)
    const results: BenchResult[] = []
    const cases = [
      ['json', 'JSON objects', 'jsonFormat()', 'JSON.parse + Date.parse'],
      [
        'avro',
        'Avro, Schema Registry framed',
        'avroFormat({ schemaRegistry })',
        'avsc decode past the header (schema known)',
      ],
      [
        'protobuf',
        'Protobuf, Schema Registry framed',
        'protobufFormat({ schemaRegistry })',
        'protobufjs decode past the header + conversions',
      ],
    ] as const
    for (const [factory, what, larder, baseline] of cases) {
      results.push(
        ...(await compare(ctx, {
          caseName: `${what}: ${n} records`,
          module: import.meta.url,
          rows: n,
          extra: rateExtra(n),
          subjects: [
            { name: larder, factory, args: { n, raw: false } },
            { name: baseline, baseline: true, factory, args: { n, raw: true } },
          ],
        })),
      )
    }
    return results
  },
} satisfies Benchmark
