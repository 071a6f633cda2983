/**
 * Randomized point-in-time cases (fast-check) and the deliberately naive oracle they are
 * checked against: nested loops over row objects, written straight from SEMANTICS.md,
 * sharing no code with the engine.
 */
import { formatTime } from '@larder/core'
import fc from 'fast-check'
import { type CaseView, driver, type HistoricalCase } from './cases.js'
import { literalTable } from './table.js'

const BASE = BigInt(Date.UTC(2026, 0, 1)) * 1000n

/** A feature row of a random view. Times are micros after 2026-01-01. */
export interface RandomRow {
  key: number
  ts: number
  created: number | null
  count: bigint | null
  score: number | null
  tag: string | null
}

/** A random view: keyed on `driver_id` or entity-less. */
export interface RandomView {
  entityless: boolean
  ttlSeconds: number
  hasCreated: boolean
  rows: RandomRow[]
}

/** A random point-in-time case. */
export interface RandomCase {
  views: RandomView[]
  entityRows: Array<{ key: number; ts: number }>
}

const time = fc
  .tuple(fc.integer({ min: 0, max: 30 }), fc.constantFrom(0, 0, 0, 1))
  .map(([s, us]) => s * 1_000_000 + us)

const row: fc.Arbitrary<RandomRow> = fc.record({
  key: fc.integer({ min: 0, max: 4 }),
  ts: time,
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
  entityless: fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
  ttlSeconds: fc.constantFrom(0, 0, 1, 3, 10),
  hasCreated: fc.boolean(),
  rows: fc.array(row, { maxLength: 12 }),
})

/** The fast-check arbitrary of random cases (1 or 2 views, up to 10 entity rows). */
export const randomCaseArbitrary: fc.Arbitrary<RandomCase> = fc.record({
  views: fc.array(view, { minLength: 1, maxLength: 2 }),
  entityRows: fc.array(
    fc.record({ key: fc.integer({ min: 0, max: 5 }), ts: time.map((t) => t + 2_000_000) }),
    { maxLength: 10 },
  ),
})

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
          const id = `${v.entityless ? '' : r.key}|${r.ts}|${v.hasCreated ? r.created : ''}`
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

/** The naive oracle: expected cells of a random case (see `tableCells`). */
export function oracle(c: RandomCase): unknown[][] {
  return c.entityRows.map((e) => {
    const out: unknown[] = [BigInt(e.key), iso(e.ts)]
    for (const v of c.views) {
      let best: RandomRow | undefined
      for (const r of v.rows) {
        if (!v.entityless && r.key !== e.key) continue
        if (r.ts > e.ts) continue
        if (v.ttlSeconds > 0 && r.ts < e.ts - v.ttlSeconds * 1_000_000) continue
        if (!best) {
          best = r
          continue
        }
        const rc = v.hasCreated ? (r.created ?? -1) : 0
        const bc = v.hasCreated ? (best.created ?? -1) : 0
        if (r.ts > best.ts || (r.ts === best.ts && rc > bc)) best = r
      }
      out.push(best ? best.count : null, best ? best.score : null, best ? best.tag : null)
    }
    return out
  })
}

/** A random case as a {@link HistoricalCase} whose expectation comes from the oracle. */
export function toHistoricalCase(c: RandomCase, name = 'random case'): HistoricalCase {
  const views: CaseView[] = c.views.map((v, i) => ({
    name: `v${i}`,
    entities: v.entityless ? [] : ['driver'],
    features: [
      { name: 'count', valueType: 'int64' },
      { name: 'score', valueType: 'float64' },
      { name: 'tag', valueType: 'string' },
    ],
    ttlSeconds: v.ttlSeconds,
    timestampField: 'ts',
    ...(v.hasCreated ? { createdTimestampColumn: 'created' } : {}),
    table: literalTable({
      driver_id: ['int64', v.rows.map((r) => r.key)],
      ts: ['timestamp', v.rows.map((r) => iso(r.ts))],
      created: ['timestamp', v.rows.map((r) => (r.created === null ? null : iso(r.created)))],
      count: ['int64', v.rows.map((r) => r.count)],
      score: ['float64', v.rows.map((r) => r.score)],
      tag: ['string', v.rows.map((r) => r.tag)],
    }),
  }))
  return {
    name,
    rule: 'randomized: every rule at once, against the naive oracle',
    entities: [driver],
    views,
    entityTable: literalTable({
      driver_id: ['int64', c.entityRows.map((e) => e.key)],
      event_timestamp: ['timestamp', c.entityRows.map((e) => iso(e.ts))],
    }),
    features: views.map((v) => ({ view: v.name })),
    fullFeatureNames: true,
    expected: {
      columns: [
        'driver_id: int64',
        'event_timestamp: timestamp',
        ...views.flatMap((v) => [
          `${v.name}__count: int64`,
          `${v.name}__score: float64`,
          `${v.name}__tag: string`,
        ]),
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
