/**
 * MurmurHash3 x86 32-bit (Austin Appleby's public-domain algorithm), as Python's
 * `mmh3.hash(key, seed=0, signed=False)` computes it over the UTF-8 bytes of a string.
 * Feast names the hash fields of its Redis layout with this hash.
 */

const C1 = 0xcc9e2d51
const C2 = 0x1b873593
const encoder = new TextEncoder()

/**
 * The unsigned 32-bit murmur3 hash of `data` (UTF-8 bytes when a string).
 * @param seed - @default 0
 * @example
 * murmur3_32('hello') // 0x248bfa47
 */
export function murmur3_32(data: string | Uint8Array, seed = 0): number {
  const bytes = typeof data === 'string' ? encoder.encode(data) : data
  const len = bytes.length
  const blocks = len & ~3
  let h = seed >>> 0
  for (let i = 0; i < blocks; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  const tail = len & 3
  if (tail > 0) {
    let k = 0
    if (tail === 3) k ^= bytes[blocks + 2]! << 16
    if (tail >= 2) k ^= bytes[blocks + 1]! << 8
    k ^= bytes[blocks]!
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
  }
  h ^= len
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * The Redis hash field of a feature in Feast's layout: the 4 little-endian bytes of
 * `murmur3_32('<view>:<feature>')` (Feast's `_mmh3`).
 * @example
 * featureFieldName('driver_hourly_stats', 'conv_rate') // a 4-byte Buffer
 */
export function featureFieldName(view: string, feature: string): Buffer {
  const out = Buffer.allocUnsafe(4)
  out.writeUInt32LE(murmur3_32(`${view}:${feature}`), 0)
  return out
}
