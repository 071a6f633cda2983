/**
 * In-memory topic storage: each partition is a list of record batches with Kafka offsets.
 */
import type { BatchInfo } from './records.js'
import { decodeBatch } from './records.js'

interface StoredBatch {
  baseOffset: number
  /** Offset of the batch's last record. */
  lastOffset: number
  maxTimestamp: bigint
  bytes: Buffer
}

/** One partition's log. Offsets are JS numbers (exact to 2^53, plenty for a test broker). */
export class PartitionLog {
  private readonly batches: StoredBatch[] = []
  /** Next offset to be assigned (Kafka's high watermark: there are no replicas to wait for). */
  highWatermark = 0
  readonly logStartOffset = 0

  /** Appends validated batches, assigning offsets; returns the base offset of the first. */
  append(batches: readonly BatchInfo[]): number {
    const first = this.highWatermark
    for (const b of batches) {
      const baseOffset = this.highWatermark
      b.bytes.writeBigInt64BE(BigInt(baseOffset), 0)
      b.bytes.writeInt32BE(0, 12) // partitionLeaderEpoch; outside the CRC
      this.batches.push({
        baseOffset,
        lastOffset: baseOffset + b.lastOffsetDelta,
        maxTimestamp: b.maxTimestamp,
        bytes: b.bytes,
      })
      this.highWatermark = baseOffset + b.lastOffsetDelta + 1
    }
    return first
  }

  /** Index of the batch holding `offset` (or the first batch after it), or -1. */
  private indexFor(offset: number): number {
    let lo = 0
    let hi = this.batches.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const b = this.batches[mid]!
      if (b.lastOffset >= offset) {
        found = mid
        hi = mid - 1
      } else {
        lo = mid + 1
      }
    }
    return found
  }

  /**
   * Whole batches starting with the one that holds `offset`, up to `maxBytes`. The first batch is
   * returned even when larger than `maxBytes` if `allowOversizedFirst` (so consumers progress).
   */
  read(offset: number, maxBytes: number, allowOversizedFirst: boolean): Buffer[] {
    const out: Buffer[] = []
    let i = this.indexFor(offset)
    if (i < 0) return out
    let size = 0
    for (; i < this.batches.length; i++) {
      const b = this.batches[i]!
      if (size + b.bytes.length > maxBytes && !(out.length === 0 && allowOversizedFirst)) break
      out.push(b.bytes)
      size += b.bytes.length
    }
    return out
  }

  /** First offset whose record timestamp is >= `timestamp`, or null when there is none. */
  offsetForTimestamp(timestamp: bigint): { offset: number; timestamp: bigint } | null {
    for (const b of this.batches) {
      if (b.maxTimestamp < timestamp) continue
      for (const r of decodeBatch(b.bytes)) {
        if (r.timestamp >= timestamp) return { offset: Number(r.offset), timestamp: r.timestamp }
      }
    }
    return null
  }

  /** All stored batches' bytes (for inspection). */
  allBatches(): Buffer[] {
    return this.batches.map((b) => b.bytes)
  }
}

/** A topic: a name and its partitions. */
export interface Topic {
  name: string
  partitions: PartitionLog[]
}

/** Legal topic names, as Kafka enforces them. */
export function validTopicName(name: string): boolean {
  return (
    name.length > 0 &&
    name.length <= 249 &&
    name !== '.' &&
    name !== '..' &&
    /^[a-zA-Z0-9._-]+$/.test(name)
  )
}
