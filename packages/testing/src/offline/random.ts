/**
 * Randomized point-in-time cases (fast-check) and the deliberately naive oracle they are
 * checked against: nested loops over row objects, written straight from SEMANTICS.md and
 * docs/semantics.md, sharing no code with the engine.
 *
 * Views are keyed on `driver_id` (int64), on `customer_id` (string), on both (a two-entity,
 * multi-key view) or on nothing (entity-less). Join keys and event timestamps may be null in
 * the sources and in the entity table: a null join key matches nothing (not even another
 * null), a source row with a null event timestamp is never a candidate, and an entity row
 * with a null timestamp gets no feature values (docs/semantics.md, "Nulls in joins").
 */
import { formatTime } from '@larder/core'
import fc from 'fast-check'
import { type CaseView, customer, driver, type HistoricalCase } from './cases.js'
import { literalTable } from './table.js'

const BASE = BigInt(Date.UTC(2026, 0, 1)) * 1000n

/** A feature row of a random view. Times are micros after 2026-01-01; null keys allowed. */
export interface RandomRow {
  /** `driver_id` (int64). */
  key: number | null
  /** `customer_id` (string). */
  cust: string | null
  ts: number | null
  created: number | null
  count: bigint | null
  score: number | null
  tag: string | null
}

/** The join keys of a random view: its entities. */
export type RandomKeys = 'none' | 'driver' | 'customer' | 'both'

/** A random view: keyed on `driver_id`, `customer_id`, both, or entity-less. */
export interface RandomView {
  keys: RandomKeys
  ttlSeconds: number
  hasCreated: boolean
  /** Source columns have other names, mapped by the source's field mapping. */
  mapped: boolean
  /** Requested through a projection whose join-key map reads `driver_id` from `other_id`. */
  otherKey: boolean
  rows: RandomRow[]
}

/** An entity row of a random case (any value may be null). */
export interface RandomEntityRow {
  key: number | null
  other: number | null
  cust: string | null
  ts: number | null
}

/** A random point-in-time case. */
export interface RandomCase {
  views: RandomView[]
  entityRows: RandomEntityRow[]
}

const time = fc
  .tuple(fc.integer({ min: 0, max: 30 }), fc.constantFrom(0, 0, 0, 1))
  .map(([s, us]) => s * 1_000_000 + us)

const custKey = fc.constantFrom('a', 'b', 'é', '')

const row: fc.Arbitrary<RandomRow> = fc.record({
  key: fc.option(fc.integer({ min: 0, max: 4 }), { freq: 8 }),
  cust: fc.option(custKey, { freq: 8 }),
  ts: fc.option(time, { freq: 10 }),
  created: fc.option(
    fc.integer({ min: 0, max: 3 }).map((s) => s * 1_000_000),
    { freq: 4 },
  ),
  count: fc.option(
    fc.oneof(
      fc.bigInt({ min: -5n, max: 5n }),
      fc.constantFrom(9007199254740993n, -(2n ** 63n), 2n ** 63n - 1n),
    ),
    { freq: 5 },
  ),
  score: fc.option(fc.constantFrom(0, -0.5, 1.25, Math.PI, 1e300, -7), { freq: 5 }),
  tag: fc.option(fc.constantFrom('a', 'b', 'é', '', "it's"), { freq: 5 }),
})

const view: fc.Arbitrary<RandomView> = fc.record({
  keys: fc.constantFrom<RandomKeys>('driver', 'driver', 'customer', 'both', 'both', 'none'),
  ttlSeconds: fc.constantFrom(0, 0, 1, 3, 10),
  hasCreated: fc.boolean(),
  mapped: fc.boolean(),
  otherKey: fc.integer({ min: 0, max: 3 }).map((x) => x === 0),
  rows: fc.array(row, { maxLength: 12 }),
})

/** The fast-check arbitrary of random cases (1 or 2 views, up to 10 entity rows). */
export const randomCaseArbitrary: fc.Arbitrary<RandomCase> = fc.record({
  views: fc.array(view, { minLength: 1, maxLength: 2 }),
  entityRows: fc.array(
    fc.record({
      key: fc.option(fc.integer({ min: 0, max: 5 }), { freq: 8 }),
      other: fc.option(fc.integer({ min: 0, max: 5 }), { freq: 8 }),
      cust: fc.option(custKey, { freq: 8 }),
      ts: fc.option(
        time.map((t) => t + 2_000_000),
        { freq: 10 },
      ),
    }),
    { maxLength: 10 },
  ),
})

const hasDriver = (v: RandomView) => v.keys === 'driver' || v.keys === 'both'
const hasCustomer = (v: RandomView) => v.keys === 'customer' || v.keys === 'both'

/**
 * Rows that fully tie (same key, event and created timestamps) get identical features, so
 * that any winner among them is right: SEMANTICS.md lets a store pick any one of them.
 */
export function normalizeTies(c: RandomCase): RandomCase {
  return {
    ...c,
    views: c.views.map((v) => {
      const first = new Map<string, RandomRow>()
      return {
        ...v,
        rows: v.rows.map((r) => {
          const id = `${hasDriver(v) ? r.key : ''}|${hasCustomer(v) ? r.cust : ''}|${r.ts}|${v.hasCreated ? r.created : ''}`
          const f = first.get(id)
          if (!f) {
            first.set(id, r)
            return r
          }
          return { ...r, count: f.count, score: f.score, tag: f.tag }
        }),
      }
    }),
  }
}

const iso = (micros: number) => formatTime(BASE + BigInt(micros))

const big = (x: number | null) => (x === null ? null : BigInt(x))
const isoOrNull = (x: number | null) => (x === null ? null : iso(x))

/** The naive oracle: expected cells of a random case (see `tableCells`). */
export function oracle(c: RandomCase): unknown[][] {
  return c.entityRows.map((e) => {
    const out: unknown[] = [big(e.key), big(e.other), e.cust, isoOrNull(e.ts)]
    for (const v of c.views) {
      const key = v.otherKey && hasDriver(v) ? e.other : e.key
      let best: RandomRow | undefined
      for (const r of v.rows) {
        // A null on either side matches nothing; so does a null time.
        if (e.ts === null || r.ts === null) continue
        if (hasDriver(v) && (key === null || r.key !== key)) continue
        if (hasCustomer(v) && (e.cust === null || r.cust !== e.cust)) continue
        if (r.ts > e.ts) continue
        if (v.ttlSeconds > 0 && r.ts < e.ts - v.ttlSeconds * 1_000_000) continue
        if (!best) {
          best = r
          continue
        }
        const rc = v.hasCreated ? (r.created ?? -1) : 0
        const bc = v.hasCreated ? (best.created ?? -1) : 0
        if (r.ts > (best.ts as number) || (r.ts === best.ts && rc > bc)) best = r
      }
      out.push(best ? best.count : null, best ? best.score : null, best ? best.tag : null)
    }
    return out
  })
}

/** A random case as a {@link HistoricalCase} whose expectation comes from the oracle. */
export function toHistoricalCase(c: RandomCase, name = 'random case'): HistoricalCase {
  const src = (v: RandomView, col: string) => (v.mapped ? `src_${col}` : col)
  const views: CaseView[] = c.views.map((v, i) => ({
    name: `v${i}`,
    entities: [...(hasDriver(v) ? ['driver'] : []), ...(hasCustomer(v) ? ['customer'] : [])],
    features: [
      { name: 'count', valueType: 'int64' },
      { name: 'score', valueType: 'float64' },
      { name: 'tag', valueType: 'string' },
    ],
    ttlSeconds: v.ttlSeconds,
    timestampField: src(v, 'ts'),
    ...(v.hasCreated ? { createdTimestampColumn: src(v, 'created') } : {}),
    ...(v.mapped
      ? {
          fieldMapping: Object.fromEntries(
            ['driver_id', 'customer_id', 'ts', 'created', 'count', 'score', 'tag'].map((col) => [
              `src_${col}`,
              col,
            ]),
          ),
        }
      : {}),
    table: literalTable({
      [src(v, 'driver_id')]: ['int64', v.rows.map((r) => r.key)],
      [src(v, 'customer_id')]: ['string', v.rows.map((r) => r.cust)],
      [src(v, 'ts')]: ['timestamp', v.rows.map((r) => isoOrNull(r.ts))],
      [src(v, 'created')]: [
        'timestamp',
        v.rows.map((r) => (r.created === null ? null : iso(r.created))),
      ],
      [src(v, 'count')]: ['int64', v.rows.map((r) => r.count)],
      [src(v, 'score')]: ['float64', v.rows.map((r) => r.score)],
      [src(v, 'tag')]: ['string', v.rows.map((r) => r.tag)],
    }),
  }))
  const projections = c.views.map((v, i) =>
    v.otherKey && hasDriver(v)
      ? { view: `v${i}`, name: `p${i}`, joinKeyMap: { driver_id: 'other_id' } }
      : { view: `v${i}` },
  )
  return {
    name,
    rule: 'randomized: every rule at once, against the naive oracle',
    entities: [driver, customer],
    views,
    entityTable: literalTable({
      driver_id: ['int64', c.entityRows.map((e) => e.key)],
      other_id: ['int64', c.entityRows.map((e) => e.other)],
      customer_id: ['string', c.entityRows.map((e) => e.cust)],
      event_timestamp: ['timestamp', c.entityRows.map((e) => isoOrNull(e.ts))],
    }),
    features: projections,
    fullFeatureNames: true,
    expected: {
      columns: [
        'driver_id: int64',
        'other_id: int64',
        'customer_id: string',
        'event_timestamp: timestamp',
        ...projections.flatMap((p) => {
          const n = 'name' in p ? p.name : p.view
          return [`${n}__count: int64`, `${n}__score: float64`, `${n}__tag: string`]
        }),
      ],
      rows: oracle(c),
    },
  }
}

/** Property runs: `LARDER_PROPERTY_RUNS`, else `fallback`. */
export function propertyRuns(fallback: number): number {
  const v = Number(process.env.LARDER_PROPERTY_RUNS)
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback
}

/** Property seed: `LARDER_PROPERTY_SEED`, else a fixed seed (CI is reproducible). */
export function propertySeed(): number {
  const v = Number(process.env.LARDER_PROPERTY_SEED)
  return Number.isFinite(v) ? Math.floor(v) : 20260101
}
