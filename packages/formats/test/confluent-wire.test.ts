import { isRecordError } from '@larder/core'
import { describe, expect, it } from 'vitest'
import { readConfluentHeader, readMessageIndexes } from '../src/index.js'
import { bytes, confluentHeader, zigzag } from './hand-encoding.js'

describe('Confluent wire format', () => {
  it('reads the schema id as a 4-byte big-endian integer after magic byte 0', () => {
    expect(readConfluentHeader(bytes([0, 0x01, 0x02, 0x03, 0x04, 9]), 'avro')).toEqual({
      schemaId: 0x01020304,
      offset: 5,
    })
    expect(readConfluentHeader(bytes(confluentHeader(100_000)), 'avro').schemaId).toBe(100_000)
  })

  it('reads message indexes: the single 0 byte, full arrays and multi-byte varints', () => {
    expect(readMessageIndexes(bytes([0, 0x08]), 0, 'protobuf')).toEqual({ indexes: [0], offset: 1 })
    expect(readMessageIndexes(bytes([0x02, 0x00]), 0, 'protobuf')).toEqual({
      indexes: [0],
      offset: 2,
    })
    // [2, 300]: count 2 -> 0x04; 2 -> 0x04; 300 -> zigzag 600 -> 0xd8 0x04.
    expect(readMessageIndexes(bytes([0x04, 0x04, 0xd8, 0x04, 0x0a]), 0, 'protobuf')).toEqual({
      indexes: [2, 300],
      offset: 4,
    })
    expect(
      readMessageIndexes(bytes([...zigzag(3), ...zigzag(1), ...zigzag(0), ...zigzag(64)]), 0, 'p'),
    ).toEqual({ indexes: [1, 0, 64], offset: 5 })
  })

  it('turns malformed headers and indexes into bad-record errors', () => {
    const bad = [
      () => readConfluentHeader(bytes([0, 0, 0]), 'avro'),
      () => readConfluentHeader(bytes([0x7b, 0x22, 0x61, 0x22, 0x3a]), 'avro'),
      () => readMessageIndexes(bytes([0x04, 0x02]), 0, 'protobuf'),
      () => readMessageIndexes(bytes([0xff, 0xff, 0xff, 0xff, 0x7f]), 0, 'protobuf'),
      () => readMessageIndexes(bytes([0x02, 0x01]), 0, 'protobuf'),
    ]
    for (const f of bad) {
      let caught: unknown
      try {
        f()
      } catch (err) {
        caught = err
      }
      expect(isRecordError(caught)).toBe(true)
    }
  })
})
