// The random point-in-time generator covers what the oracle claims to check, and the oracle
// applies the null rules of docs/semantics.md.
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { oracle, type RandomCase, type RandomRow, randomCaseArbitrary } from '../src/index.js'

const row = (r: Partial<RandomRow>): RandomRow => ({
  key: 1,
  cust: 'a',
  ts: 0,
  created: null,
  count: 1n,
  score: null,
  tag: null,
  ...r,
})
const view = (keys: RandomCase['views'][number]['keys'], rows: RandomRow[]) => ({
  keys,
  ttlSeconds: 0,
  hasCreated: false,
  mapped: false,
  otherKey: false,
  rows,
})
const counts = (c: unknown[]) => c.filter((_, i) => i >= 4 && (i - 4) % 3 === 0)

describe('random point-in-time cases', () => {
  test('cover multi-key and string-keyed views, null join keys and null timestamps', () => {
    const cases = fc.sample(randomCaseArbitrary, { numRuns: 400, seed: 1 })
    const views = cases.flatMap((c) => c.views)
    const rows = views.flatMap((v) => v.rows)
    const entityRows = cases.flatMap((c) => c.entityRows)
    for (const keys of ['none', 'driver', 'customer', 'both'])
      expect(views.some((v) => v.keys === keys)).toBe(true)
    expect(rows.some((r) => r.key === null)).toBe(true)
    expect(rows.some((r) => r.cust === null)).toBe(true)
    expect(rows.some((r) => r.ts === null)).toBe(true)
    expect(rows.some((r) => r.cust === 'é')).toBe(true)
    expect(entityRows.some((e) => e.key === null)).toBe(true)
    expect(entityRows.some((e) => e.cust === null)).toBe(true)
    expect(entityRows.some((e) => e.ts === null)).toBe(true)
  })

  test('the oracle: a null key matches nothing, a null time is never a candidate', () => {
    const c: RandomCase = {
      views: [
        view('both', [
          row({ key: 1, cust: 'a', ts: 5, count: 10n }),
          row({ key: null, cust: 'a', ts: 6, count: 11n }),
          row({ key: 1, cust: 'a', ts: null, count: 12n }),
        ]),
        view('none', [row({ ts: 3, count: 20n })]),
      ],
      entityRows: [
        { key: 1, other: 0, cust: 'a', ts: 9 },
        { key: null, other: 0, cust: 'a', ts: 9 },
        { key: 1, other: 0, cust: 'b', ts: 9 },
        { key: 1, other: 0, cust: 'a', ts: null },
      ],
    }
    expect(oracle(c).map(counts)).toEqual([
      [10n, 20n], // the multi-key row matches; the null-key and null-time rows never do
      [null, 20n], // a null key in the entity row matches nothing (not the null-key row)
      [null, 20n], // both keys must match
      [null, null], // no time: no candidate, not even for an entity-less view
    ])
  })
})
