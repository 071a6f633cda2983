import { microsVector } from '@larder/testing'
import * as arrow from 'apache-arrow'
import { describe, expect, test } from 'vitest'
import { canonical, Digest, digestArrow } from '../src/digest.js'
import { compare, latencyExtra, quantile } from '../src/harness.js'

const module = new URL('./fixtures/subjects.ts', import.meta.url).href
const ctx = { scale: 1, runs: 2, log: () => {} }

describe('result checks', () => {
  test('integers agree whether read as number or bigint; null, bytes and strings are distinct', () => {
    expect(canonical(3)).toBe(canonical(3n))
    expect(canonical(null)).toBe(canonical(undefined))
    expect(canonical('null')).not.toBe(canonical(null))
    expect(canonical(new Uint8Array([1, 255]))).toBe('0x01ff')
    expect(canonical(new Date(1000))).toBe('1000000')
  })

  test('a digest depends on values and their order', () => {
    const of = (rows: unknown[][]) => {
      const d = new Digest()
      for (const r of rows) d.row(r)
      return d.result()
    }
    expect(
      of([
        [1, 'a'],
        [2, null],
      ]),
    ).toEqual(
      of([
        [1n, 'a'],
        [2n, null],
      ]),
    )
    expect(
      of([
        [1, 'a'],
        [2, null],
      ]).digest,
    ).not.toBe(
      of([
        [2, null],
        [1, 'a'],
      ]).digest,
    )
    expect(of([[1, 'a']]).rows).toBe(1)
  })

  test('Arrow timestamps digest as epoch microseconds', () => {
    const t = new arrow.Table({
      id: arrow.vectorFromArray([7, null], new arrow.Int32()),
      ts: microsVector(Float64Array.from([1_767_225_600_000_001, Number.NaN])),
    })
    const d = new Digest()
    d.row([7, 1_767_225_600_000_001n])
    d.row([null, null])
    expect(digestArrow(t)).toEqual(d.result())
  })
})

describe('compare', () => {
  test('runs each subject in its own process and reports medians against the baseline', async () => {
    const results = await compare(ctx, {
      caseName: 'same',
      module,
      rows: 5,
      subjects: [
        { name: 'a', factory: 'count', args: { n: 5 } },
        { name: 'b', baseline: true, factory: 'count', args: { n: 5 } },
      ],
    })
    expect(results.map((r) => [r.subject, r.baseline, r.timesMs.length])).toEqual([
      ['a', false, 2],
      ['b', true, 2],
    ])
    expect(results[0]!.extra?.check).toMatch(/^5 rows, digest [0-9a-f]{12}$/)
    expect(results[0]!.peakRssMb).toBeGreaterThan(10)
  }, 30_000)

  test('fails when the subjects produced different results', async () => {
    await expect(
      compare(ctx, {
        caseName: 'differ',
        module,
        rows: 5,
        subjects: [
          { name: 'larder', factory: 'count', args: { n: 4 } },
          { name: 'raw', baseline: true, factory: 'count', args: { n: 5 } },
        ],
      }),
    ).rejects.toThrow(/differ: results differ: larder gave 4 rows.*raw gave 5 rows/)
  }, 30_000)

  test('per-operation samples are kept and summarized', async () => {
    const results = await compare(ctx, {
      caseName: 'ops',
      module,
      rows: 3,
      unit: 'op',
      extra: latencyExtra,
      subjects: [
        { name: 'x', factory: 'latency' },
        { name: 'y', baseline: true, factory: 'latency' },
      ],
    })
    expect(results[0]!.timesMs).toEqual([1, 2, 3, 1, 2, 3])
    expect(results[0]!.extra?.['p99 vs baseline']).toBe('1.00x')
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2)
  }, 30_000)
})
