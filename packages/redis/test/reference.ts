// Test-only references written straight from the specifications, independent of src/:
// murmur3 x86_32 in BigInt arithmetic, and the Feast v3 entity key of int64 join keys.

const M32 = 0xffffffffn
const mul = (a: bigint, b: bigint) => (a * b) & M32
const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (32n - r))) & M32

/** MurmurHash3_x86_32 as in Appleby's reference C code, in BigInt. */
export function referenceMurmur3(data: Uint8Array, seed: number): number {
  let h = BigInt(seed >>> 0)
  const n = data.length
  const full = n - (n % 4)
  const mix = (k: bigint) => mul(rotl(mul(k, 0xcc9e2d51n), 15n), 0x1b873593n)
  for (let i = 0; i < full; i += 4) {
    const k =
      BigInt(data[i]!) |
      (BigInt(data[i + 1]!) << 8n) |
      (BigInt(data[i + 2]!) << 16n) |
      (BigInt(data[i + 3]!) << 24n)
    h ^= mix(k)
    h = rotl(h, 13n)
    h = (h * 5n + 0xe6546b64n) & M32
  }
  let tail = 0n
  for (let i = n - 1; i >= full; i--) tail = (tail << 8n) | BigInt(data[i]!)
  if (n % 4 !== 0) h ^= mix(tail)
  h ^= BigInt(n)
  h ^= h >> 16n
  h = mul(h, 0x85ebca6bn)
  h ^= h >> 13n
  h = mul(h, 0xc2b2ae35n)
  h ^= h >> 16n
  return Number(h)
}

/** Feast's `_mmh3(f"{view}:{feature}")`: the hash's 4 little-endian bytes. */
export function referenceField(view: string, feature: string): Buffer {
  const h = referenceMurmur3(Buffer.from(`${view}:${feature}`, 'utf8'), 0)
  return Buffer.from([h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff, h >>> 24])
}

/** u32 little-endian. */
export const u32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24]

/** Feast v3 key of one int64 join key: count, (STRING, len, name), (INT64, 8, i64le). */
export function referenceInt64Key(name: string, value: bigint): Buffer {
  const i64 = Buffer.alloc(8)
  i64.writeBigInt64LE(value)
  return Buffer.from([
    ...u32(1),
    ...u32(2),
    ...u32(name.length),
    ...Buffer.from(name, 'utf8'),
    ...u32(4),
    ...u32(8),
    ...i64,
  ])
}
