/**
 * Record batches (message format v2, "magic 2"), the only format this broker stores.
 *
 * Produced batches are kept as the producer sent them (compressed or not): the broker validates
 * the header and CRC-32C, rewrites the base offset and serves the same bytes to consumers, as a
 * real broker does. Records are only decoded when something needs to look inside (timestamp
 * lookups in ListOffsets, {@link decodeBatch} for tests).
 */
import { gunzipSync } from 'node:zlib'
import { crc32c, ErrorCode } from './protocol.js'

/** Bytes before the first record: baseOffset through recordsCount. */
export const BATCH_HEADER_SIZE = 61
const LOG_OVERHEAD = 12 // baseOffset (8) + batchLength (4)
const CRC_OFFSET = 17
const ATTRIBUTES_OFFSET = 21

/** Header fields of one validated batch, plus its bytes. */
export interface BatchInfo {
  /** The whole batch, including baseOffset and batchLength. */
  bytes: Buffer
  recordCount: number
  lastOffsetDelta: number
  firstTimestamp: bigint
  maxTimestamp: bigint
  compression: number
}

/** Result of splitting a produce payload: the batches, or a Kafka error code. */
export type SplitResult = { ok: true; batches: BatchInfo[] } | { ok: false; errorCode: number }

/**
 * Splits and validates the `records` of one partition of a Produce request.
 * Accepts only magic 2 batches with a valid CRC and no compression or gzip.
 */
export function splitBatches(records: Buffer): SplitResult {
  const batches: BatchInfo[] = []
  let pos = 0
  while (pos < records.length) {
    if (records.length - pos < BATCH_HEADER_SIZE) return bad(ErrorCode.CORRUPT_MESSAGE)
    const batchLength = records.readInt32BE(pos + 8)
    const total = LOG_OVERHEAD + batchLength
    if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD || pos + total > records.length) {
      return bad(ErrorCode.CORRUPT_MESSAGE)
    }
    const magic = records.readInt8(pos + 16)
    if (magic !== 2) return bad(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT)
    const crc = records.readUInt32BE(pos + CRC_OFFSET)
    if (crc32c(records, pos + ATTRIBUTES_OFFSET, pos + total) !== crc) {
      return bad(ErrorCode.CORRUPT_MESSAGE)
    }
    const attributes = records.readInt16BE(pos + ATTRIBUTES_OFFSET)
    const compression = attributes & 0x07
    if (compression !== 0 && compression !== 1) return bad(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE)
    const lastOffsetDelta = records.readInt32BE(pos + 23)
    const recordCount = records.readInt32BE(pos + 57)
    if (recordCount <= 0 || lastOffsetDelta < recordCount - 1) return bad(ErrorCode.CORRUPT_MESSAGE)
    batches.push({
      bytes: Buffer.from(records.subarray(pos, pos + total)),
      recordCount,
      lastOffsetDelta,
      firstTimestamp: records.readBigInt64BE(pos + 27),
      maxTimestamp: records.readBigInt64BE(pos + 35),
      compression,
    })
    pos += total
  }
  if (batches.length === 0) return bad(ErrorCode.CORRUPT_MESSAGE)
  return { ok: true, batches }
}

function bad(errorCode: number): SplitResult {
  return { ok: false, errorCode }
}

/** One decoded record. */
export interface DecodedRecord {
  offset: bigint
  timestamp: bigint
  key: Buffer | null
  value: Buffer | null
  headers: { key: string; value: Buffer | null }[]
}

/** Decodes every record of a stored batch (decompressing gzip). */
export function decodeBatch(batch: Buffer): DecodedRecord[] {
  const baseOffset = batch.readBigInt64BE(0)
  const compression = batch.readInt16BE(ATTRIBUTES_OFFSET) & 0x07
  const firstTimestamp = batch.readBigInt64BE(27)
  const count = batch.readInt32BE(57)
  let body = batch.subarray(BATCH_HEADER_SIZE)
  if (compression === 1) body = gunzipSync(body)
  else if (compression !== 0) throw new Error(`unsupported compression type ${compression}`)
  const cur = { buf: body, pos: 0 }
  const out: DecodedRecord[] = []
  for (let i = 0; i < count; i++) {
    readVarint(cur) // record length
    cur.pos += 1 // attributes
    const timestampDelta = readVarint(cur)
    const offsetDelta = readVarint(cur)
    const key = readVarBytes(cur)
    const value = readVarBytes(cur)
    const headerCount = readVarint(cur)
    const headers: DecodedRecord['headers'] = []
    for (let h = 0; h < headerCount; h++) {
      const k = readVarBytes(cur)
      headers.push({ key: k === null ? '' : k.toString('utf8'), value: readVarBytes(cur) })
    }
    out.push({
      offset: baseOffset + BigInt(offsetDelta),
      timestamp: firstTimestamp + BigInt(timestampDelta),
      key,
      value,
      headers,
    })
  }
  return out
}

interface Cursor {
  buf: Buffer
  pos: number
}

/** Zig-zag varint/varlong (as a JS number: exact up to 2^53). */
function readVarint(cur: Cursor): number {
  let result = 0
  let mult = 1
  for (let i = 0; i < 10; i++) {
    if (cur.pos >= cur.buf.length) throw new Error('truncated varint in record')
    const byte = cur.buf[cur.pos++]!
    result += (byte & 0x7f) * mult
    if ((byte & 0x80) === 0) {
      // zig-zag: even -> n/2, odd -> -(n+1)/2
      return result % 2 === 0 ? result / 2 : -(result + 1) / 2
    }
    mult *= 128
  }
  throw new Error('varint too long in record')
}

function readVarBytes(cur: Cursor): Buffer | null {
  const len = readVarint(cur)
  if (len < 0) return null
  if (cur.pos + len > cur.buf.length) throw new Error('truncated record')
  const v = cur.buf.subarray(cur.pos, cur.pos + len)
  cur.pos += len
  return v
}
