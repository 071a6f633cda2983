/**
 * Kafka wire-protocol primitives: a bounds-checked reader, a growable writer, the API keys and
 * error codes the broker uses, and CRC-32C (the record batch checksum).
 *
 * Only the classic (non-flexible) encodings are implemented: every API version this broker
 * advertises predates KIP-482 tagged fields, which is also all kafkajs 2.x speaks.
 */

/** Thrown when a request frame cannot be decoded; the broker closes that connection. */
export class MalformedRequestError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MalformedRequestError'
  }
}

/** API keys, as numbered in the Kafka protocol guide. */
export const ApiKey = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
} as const

/** Error codes, as numbered in the Kafka protocol guide. */
export const ErrorCode = {
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  COORDINATOR_NOT_AVAILABLE: 15,
  INVALID_TOPIC_EXCEPTION: 17,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REQUEST: 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  MEMBER_ID_REQUIRED: 79,
} as const

/** Bounds-checked big-endian reader over one request body. */
export class Reader {
  offset = 0
  constructor(readonly buf: Buffer) {}

  private need(n: number): void {
    if (n < 0 || this.offset + n > this.buf.length) {
      throw new MalformedRequestError(
        `request truncated: need ${n} bytes at offset ${this.offset} of ${this.buf.length}`,
      )
    }
  }

  remaining(): number {
    return this.buf.length - this.offset
  }

  int8(): number {
    this.need(1)
    const v = this.buf.readInt8(this.offset)
    this.offset += 1
    return v
  }

  int16(): number {
    this.need(2)
    const v = this.buf.readInt16BE(this.offset)
    this.offset += 2
    return v
  }

  int32(): number {
    this.need(4)
    const v = this.buf.readInt32BE(this.offset)
    this.offset += 4
    return v
  }

  int64(): bigint {
    this.need(8)
    const v = this.buf.readBigInt64BE(this.offset)
    this.offset += 8
    return v
  }

  bool(): boolean {
    return this.int8() !== 0
  }

  nullableString(): string | null {
    const len = this.int16()
    if (len === -1) return null
    if (len < -1) throw new MalformedRequestError(`invalid string length ${len}`)
    this.need(len)
    const v = this.buf.toString('utf8', this.offset, this.offset + len)
    this.offset += len
    return v
  }

  string(): string {
    const v = this.nullableString()
    if (v === null) throw new MalformedRequestError('null where a non-null string is required')
    return v
  }

  nullableBytes(): Buffer | null {
    const len = this.int32()
    if (len === -1) return null
    if (len < -1) throw new MalformedRequestError(`invalid bytes length ${len}`)
    this.need(len)
    const v = this.buf.subarray(this.offset, this.offset + len)
    this.offset += len
    return v
  }

  bytes(): Buffer {
    return this.nullableBytes() ?? Buffer.alloc(0)
  }

  nullableArray<T>(item: (r: Reader) => T): T[] | null {
    const n = this.int32()
    if (n === -1) return null
    // Every element takes at least one byte, so a count beyond the remaining bytes is garbage.
    if (n < -1 || n > this.remaining()) {
      throw new MalformedRequestError(`invalid array length ${n}`)
    }
    const out: T[] = []
    for (let i = 0; i < n; i++) out.push(item(this))
    return out
  }

  array<T>(item: (r: Reader) => T): T[] {
    return this.nullableArray(item) ?? []
  }
}

/** Growable big-endian writer for response bodies. */
export class Writer {
  private buf: Buffer
  private len = 0

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial)
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  int8(v: number): this {
    this.ensure(1)
    this.buf.writeInt8(v, this.len)
    this.len += 1
    return this
  }

  int16(v: number): this {
    this.ensure(2)
    this.buf.writeInt16BE(v, this.len)
    this.len += 2
    return this
  }

  int32(v: number): this {
    this.ensure(4)
    this.buf.writeInt32BE(v, this.len)
    this.len += 4
    return this
  }

  int64(v: bigint | number): this {
    this.ensure(8)
    this.buf.writeBigInt64BE(BigInt(v), this.len)
    this.len += 8
    return this
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0)
  }

  string(v: string | null): this {
    if (v === null) return this.int16(-1)
    const n = Buffer.byteLength(v, 'utf8')
    this.int16(n)
    this.ensure(n)
    this.buf.write(v, this.len, 'utf8')
    this.len += n
    return this
  }

  raw(b: Buffer): this {
    this.ensure(b.length)
    b.copy(this.buf, this.len)
    this.len += b.length
    return this
  }

  bytes(b: Buffer | null): this {
    if (b === null) return this.int32(-1)
    this.int32(b.length)
    return this.raw(b)
  }

  array<T>(items: readonly T[] | null, item: (w: Writer, v: T) => void): this {
    if (items === null) return this.int32(-1)
    this.int32(items.length)
    for (const v of items) item(this, v)
    return this
  }

  /** The bytes written so far (a view, not a copy). */
  finish(): Buffer {
    return this.buf.subarray(0, this.len)
  }
}

const CRC32C_TABLE = (() => {
  const table = new Int32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    table[i] = c
  }
  return table
})()

/** CRC-32C (Castagnoli), the checksum of a v2 record batch. */
export function crc32c(buf: Buffer, start = 0, end = buf.length): number {
  let crc = -1
  for (let i = start; i < end; i++) {
    crc = CRC32C_TABLE[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8)
  }
  return (crc ^ -1) >>> 0
}
