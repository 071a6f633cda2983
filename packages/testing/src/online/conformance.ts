/**
 * The online store conformance suite (SEMANTICS.md, "Online store writes", "Online reads",
 * "Entity keys"). A backend runs it in a few lines:
 *
 * ```ts
 * import { onlineStoreConformance } from '@larder/testing'
 * import { redisOnlineStore } from '../src/index.js'
 * onlineStoreConformance({ name: 'redis', createStore: () => redisOnlineStore({ url }) })
 * ```
 *
 * Decisions the suite pins down, beyond SEMANTICS.md:
 * - A null `createdTs` sorts below every non-null one: at equal `eventTs` a row with a
 *   created timestamp replaces a row without one, never the reverse. Two rows with equal
 *   `eventTs` and both `createdTs` null are a full tie: the stored row stays (re-writes are
 *   no-ops). This is `ORDER BY event_ts DESC, created_ts DESC NULLS LAST`.
 *   Feast leaves it to each engine's default NULL order (which differs between warehouses);
 *   this suite pins it for every online store.
 * - `writeBatch` returns the number of rows that won and were stored; rows that lost
 *   against the stored row count 0.
 * - A store never expires rows by itself unless it declares `keyTtl`: core turns old
 *   values into OUTSIDE_MAX_AGE from `eventTs`.
 *
 * The suite reads `store.capabilities`: `concurrentWriters` adds a case with two writers
 * racing on the same keys; `keyTtl` swaps the "never expires" case for one where keys
 * expire (give the `keyTtl` option).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  noopLogger,
  type OnlineRow,
  type OnlineStore,
  type OnlineValue,
  type StoredViewSpec,
} from '@larder/core'
import { describe, expect, test } from 'vitest'
import {
  comparable,
  customerEntity,
  driverEntity,
  driverKey,
  pairKey,
  row,
  testView,
} from './fixtures.js'

/** Which groups of cases a backend takes part in; every group runs unless set to false. */
export interface OnlineConformanceCapabilities {
  /**
   * `update()` keeps a view's data when a feature is added to it.
   * @default true
   */
  addFeature?: boolean
  /**
   * The large-batch cases (a 50k-row `writeBatch`, a 5k-key `read`).
   * @default true
   */
  largeBatches?: boolean
}

/** Options of {@link onlineStoreConformance}. */
export interface OnlineStoreConformanceOptions {
  /** The backend's name, used in the suite's title. */
  name: string
  /**
   * Makes a fresh, unconfigured store. The suite configures it with a unique project and a
   * temporary repo folder, and closes it after each case.
   */
  createStore: () => OnlineStore | Promise<OnlineStore>
  /** Groups of cases to run. */
  capabilities?: OnlineConformanceCapabilities
  /**
   * Rows of the large write and keys of the large read.
   * @default { writeRows: 50_000, readKeys: 5_000 }
   */
  largeBatch?: { writeRows: number; readKeys: number }
  /**
   * Timeout of each case, in milliseconds (the large-batch cases get four times as much).
   * @default 30_000
   */
  timeoutMs?: number
  /**
   * For stores that can declare `capabilities.keyTtl`: a store configured to expire keys,
   * and how long to wait for a written key to be gone. Without it, a store whose
   * `createStore` declares `keyTtl` fails the TTL case, saying to give it.
   * @example { createStore: () => redisOnlineStore({ url, keyTtlSeconds: 1 }), waitMs: 2500 }
   */
  keyTtl?: { createStore: () => OnlineStore | Promise<OnlineStore>; waitMs: number }
}

const ENTITIES = [driverEntity, customerEntity]

/** Every value type of Larder, as one view. */
const ALL_TYPES = {
  i32: 'int32',
  i64: 'int64',
  f32: 'float32',
  f64: 'float64',
  str: 'string',
  byt: 'bytes',
  bol: 'bool',
  ts: 'timestamp',
  a_i32: 'array<int32>',
  a_i64: 'array<int64>',
  a_f32: 'array<float32>',
  a_f64: 'array<float64>',
  a_str: 'array<string>',
  a_byt: 'array<bytes>',
  a_bol: 'array<bool>',
  a_ts: 'array<timestamp>',
} as const

const T0 = 1_700_000_000_000_000n
const bytes = (...b: number[]) => new Uint8Array(b)

/**
 * Registers the online store conformance suite (a vitest `describe` block) for a backend.
 * Each case gets a new store from `createStore`, configured with a project name unique to
 * the run (stores on shared servers do not collide) and a temporary `repoPath`, and tears
 * its views down afterwards.
 *
 * @example
 * // packages/sqlite/test/conformance.test.ts
 * import { onlineStoreConformance } from '@larder/testing'
 * import { sqliteOnlineStore } from '../src/index.js'
 * onlineStoreConformance({ name: 'sqlite', createStore: () => sqliteOnlineStore() })
 */
export function onlineStoreConformance(options: OnlineStoreConformanceOptions): void {
  const caps = { addFeature: true, largeBatches: true, ...options.capabilities }
  const large = options.largeBatch ?? { writeRows: 50_000, readKeys: 5_000 }
  const timeout = options.timeoutMs ?? 30_000
  const runId = `conf_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  let counter = 0

  const stats = testView('driver_stats', ['driver'], {
    conv_rate: 'float64',
    trips: 'int64',
    label: 'string',
  })
  const otherStats = testView('driver_other_stats', ['driver'], {
    conv_rate: 'float64',
    trips: 'int64',
    label: 'string',
  })
  const pairs = testView('driver_customer_stats', ['driver', 'customer'], { rides: 'int64' })
  const allTypes = testView('all_types', ['driver'], { ...ALL_TYPES })
  const statsFeatures = ['conv_rate', 'trips', 'label']

  /**
   * Runs `fn` with a configured store whose `views` exist; cleans up whatever happens. `open`
   * makes another store on the same project and repo folder (a second writer).
   */
  async function withStore(
    views: StoredViewSpec[],
    fn: (store: OnlineStore, open: () => Promise<OnlineStore>) => Promise<void>,
    create: () => OnlineStore | Promise<OnlineStore> = options.createStore,
  ): Promise<void> {
    const store = await create()
    const repoPath = mkdtempSync(join(tmpdir(), 'larder-online-conformance-'))
    counter += 1
    const context = { project: `${runId}_${counter}`, repoPath, logger: noopLogger }
    store.configure(context)
    const others: OnlineStore[] = []
    const open = async () => {
      const other = await create()
      other.configure(context)
      others.push(other)
      return other
    }
    let failure: { error: unknown } | undefined
    try {
      await store.update({ keep: views, drop: [], entities: ENTITIES })
      await fn(store, open)
    } catch (error) {
      failure = { error }
    }
    // Clean up; a cleanup error only surfaces when the case itself passed.
    const cleanups = [
      ...others.map((o) => () => o.close()),
      () => store.teardown(views),
      () => store.close(),
    ]
    for (const cleanup of cleanups) {
      try {
        await cleanup()
      } catch (error) {
        failure ??= { error }
      }
    }
    rmSync(repoPath, { recursive: true, force: true })
    if (failure) throw failure.error
  }

  async function readOne(
    store: OnlineStore,
    view: StoredViewSpec,
    key: Uint8Array,
    features: string[],
  ): Promise<OnlineValue | undefined> {
    const [value] = await store.read(view, [key], features)
    return value
  }

  async function expectStats(
    store: OnlineStore,
    key: Uint8Array,
    expected: { values: unknown[]; eventTs: bigint } | undefined,
    view: StoredViewSpec = stats,
  ): Promise<void> {
    const got = await readOne(store, view, key, statsFeatures)
    if (expected === undefined) expect(got).toBeUndefined()
    else expect(got).toEqual(expected)
  }

  describe(`online store conformance: ${options.name}`, () => {
    describe('write rule (SEMANTICS.md "Online store writes")', () => {
      test('a newer event_ts replaces the stored row', { timeout }, () =>
        withStore([stats], async (store) => {
          const k = driverKey(1)
          expect(await store.writeBatch(stats, statsFeatures, [row(k, [0.1, 1n, 'a'], T0)])).toBe(1)
          expect(
            await store.writeBatch(stats, statsFeatures, [row(k, [0.2, 2n, 'b'], T0 + 1n)]),
          ).toBe(1)
          await expectStats(store, k, { values: [0.2, 2n, 'b'], eventTs: T0 + 1n })
        }),
      )

      test('a late, older row never overwrites a newer one', { timeout }, () =>
        withStore([stats], async (store) => {
          const k = driverKey(1)
          await store.writeBatch(stats, statsFeatures, [row(k, [0.2, 2n, 'new'], T0 + 10n, 5n)])
          // Older event_ts loses even with a greater created_ts.
          const written = await store.writeBatch(stats, statsFeatures, [
            row(k, [0.1, 1n, 'late'], T0 + 9n, 999n),
          ])
          expect(written).toBe(0)
          await expectStats(store, k, { values: [0.2, 2n, 'new'], eventTs: T0 + 10n })
        }),
      )

      test('equal event_ts: the greater created_ts wins', { timeout }, () =>
        withStore([stats], async (store) => {
          const k = driverKey(1)
          await store.writeBatch(stats, statsFeatures, [row(k, [0.1, 1n, 'c5'], T0, 5n)])
          expect(
            await store.writeBatch(stats, statsFeatures, [row(k, [0.2, 2n, 'c6'], T0, 6n)]),
          ).toBe(1)
          await expectStats(store, k, { values: [0.2, 2n, 'c6'], eventTs: T0 })
          expect(
            await store.writeBatch(stats, statsFeatures, [row(k, [0.3, 3n, 'c4'], T0, 4n)]),
          ).toBe(0)
          await expectStats(store, k, { values: [0.2, 2n, 'c6'], eventTs: T0 })
        }),
      )

      test('re-writing the same rows is a no-op that writes 0 rows', { timeout }, () =>
        withStore([stats], async (store) => {
          const rows = [
            row(driverKey(1), [0.1, 1n, 'a'], T0, 7n),
            row(driverKey(2), [0.2, 2n, 'b'], T0 + 1n, null),
          ]
          expect(await store.writeBatch(stats, statsFeatures, rows)).toBe(2)
          // Same keys and timestamps, other values: a full tie keeps the stored row.
          const again = rows.map((r) => ({ ...r, values: [9.9, 99n, 'changed'] }))
          expect(await store.writeBatch(stats, statsFeatures, again)).toBe(0)
          expect(await store.writeBatch(stats, statsFeatures, rows)).toBe(0)
          await expectStats(store, driverKey(1), { values: [0.1, 1n, 'a'], eventTs: T0 })
          await expectStats(store, driverKey(2), { values: [0.2, 2n, 'b'], eventTs: T0 + 1n })
        }),
      )

      test('equal event_ts: a null created_ts loses to a non-null one', { timeout }, () =>
        withStore([stats], async (store) => {
          const k = driverKey(1)
          await store.writeBatch(stats, statsFeatures, [row(k, [0.1, 1n, 'no-created'], T0)])
          expect(
            await store.writeBatch(stats, statsFeatures, [row(k, [0.2, 2n, 'created'], T0, 0n)]),
          ).toBe(1)
          await expectStats(store, k, { values: [0.2, 2n, 'created'], eventTs: T0 })
          expect(
            await store.writeBatch(stats, statsFeatures, [row(k, [0.3, 3n, 'null-again'], T0)]),
          ).toBe(0)
          await expectStats(store, k, { values: [0.2, 2n, 'created'], eventTs: T0 })
        }),
      )

      test('returns the number of rows actually written', { timeout }, () =>
        withStore([stats], async (store) => {
          await store.writeBatch(stats, statsFeatures, [
            row(driverKey(1), [0.1, 1n, 'a'], T0 + 5n),
            row(driverKey(2), [0.2, 2n, 'b'], T0 + 5n),
          ])
          const written = await store.writeBatch(stats, statsFeatures, [
            row(driverKey(1), [0.9, 9n, 'older'], T0 + 4n), // loses
            row(driverKey(2), [0.8, 8n, 'newer'], T0 + 6n), // wins
            row(driverKey(3), [0.7, 7n, 'new key'], T0), // new
          ])
          expect(written).toBe(2)
          expect(await store.writeBatch(stats, statsFeatures, [])).toBe(0)
          await expectStats(store, driverKey(1), { values: [0.1, 1n, 'a'], eventTs: T0 + 5n })
          await expectStats(store, driverKey(2), { values: [0.8, 8n, 'newer'], eventTs: T0 + 6n })
          await expectStats(store, driverKey(3), { values: [0.7, 7n, 'new key'], eventTs: T0 })
        }),
      )

      test('one key twice in a batch: the winner of the two is stored', { timeout }, () =>
        withStore([stats], async (store) => {
          await store.writeBatch(stats, statsFeatures, [
            row(driverKey(1), [0.1, 1n, 'first'], T0),
            row(driverKey(1), [0.2, 2n, 'second, newer'], T0 + 1n),
            row(driverKey(2), [0.3, 3n, 'first, newer'], T0 + 1n),
            row(driverKey(2), [0.4, 4n, 'second, older'], T0),
          ])
          await expectStats(store, driverKey(1), {
            values: [0.2, 2n, 'second, newer'],
            eventTs: T0 + 1n,
          })
          await expectStats(store, driverKey(2), {
            values: [0.3, 3n, 'first, newer'],
            eventTs: T0 + 1n,
          })
        }),
      )

      test('features of a write may come in any order', { timeout }, () =>
        withStore([stats], async (store) => {
          await store.writeBatch(
            stats,
            ['label', 'conv_rate', 'trips'],
            [row(driverKey(1), ['x', 0.5, 5n], T0)],
          )
          await expectStats(store, driverKey(1), { values: [0.5, 5n, 'x'], eventTs: T0 })
        }),
      )
    })

    describe('reads (SEMANTICS.md "Online reads")', () => {
      test(
        'results follow the input order, repeated keys and missing keys included',
        {
          timeout,
        },
        () =>
          withStore([stats], async (store) => {
            await store.writeBatch(stats, statsFeatures, [
              row(driverKey(1), [0.1, 1n, 'one'], T0 + 1n),
              row(driverKey(2), [0.2, 2n, 'two'], T0 + 2n),
            ])
            const got = await store.read(
              stats,
              [driverKey(2), driverKey(404), driverKey(1), driverKey(2), driverKey(405)],
              statsFeatures,
            )
            expect(got).toEqual([
              { values: [0.2, 2n, 'two'], eventTs: T0 + 2n },
              undefined,
              { values: [0.1, 1n, 'one'], eventTs: T0 + 1n },
              { values: [0.2, 2n, 'two'], eventTs: T0 + 2n },
              undefined,
            ])
            expect(got).toHaveLength(5)
            expect(await store.read(stats, [], statsFeatures)).toEqual([])
          }),
      )

      test('a view with no rows yet reads as not found', { timeout }, () =>
        withStore([stats], async (store) => {
          expect(await store.read(stats, [driverKey(1), driverKey(1)], statsFeatures)).toEqual([
            undefined,
            undefined,
          ])
        }),
      )

      test('null values come back as null in a found row', { timeout }, () =>
        withStore([stats], async (store) => {
          await store.writeBatch(stats, statsFeatures, [
            row(driverKey(1), [null, null, null], T0),
            row(driverKey(2), [0.5, null, 'x'], T0),
          ])
          expect(await store.read(stats, [driverKey(1), driverKey(2)], statsFeatures)).toEqual([
            { values: [null, null, null], eventTs: T0 },
            { values: [0.5, null, 'x'], eventTs: T0 },
          ])
        }),
      )

      test('event timestamps come back to the microsecond', { timeout }, () =>
        withStore([stats], async (store) => {
          const stamps = [1_700_000_000_123_457n, 1n, 0n, -1_234_567n, 253_402_300_799_999_999n]
          await store.writeBatch(
            stats,
            statsFeatures,
            stamps.map((ts, i) => row(driverKey(i), [0, BigInt(i), 's'], ts)),
          )
          const got = await store.read(
            stats,
            stamps.map((_, i) => driverKey(i)),
            statsFeatures,
          )
          expect(got.map((v) => v?.eventTs)).toEqual(stamps)
          for (const v of got) expect(typeof v?.eventTs).toBe('bigint')
        }),
      )

      test('a subset of the features, in another order', { timeout }, () =>
        withStore([stats], async (store) => {
          await store.writeBatch(stats, statsFeatures, [row(driverKey(1), [0.25, 7n, 'l'], T0)])
          expect(await readOne(store, stats, driverKey(1), ['label', 'conv_rate'])).toEqual({
            values: ['l', 0.25],
            eventTs: T0,
          })
          expect(await readOne(store, stats, driverKey(1), ['trips'])).toEqual({
            values: [7n],
            eventTs: T0,
          })
          expect(await readOne(store, stats, driverKey(1), ['trips', 'trips'])).toEqual({
            values: [7n, 7n],
            eventTs: T0,
          })
        }),
      )
    })

    describe('entity keys (SEMANTICS.md "Entity keys")', () => {
      test('multi-key entities: every (driver, customer) pair is its own row', { timeout }, () =>
        withStore([pairs], async (store) => {
          await store.writeBatch(
            pairs,
            ['rides'],
            [
              row(pairKey(1, 'a'), [1n], T0),
              row(pairKey(1, 'b'), [2n], T0),
              row(pairKey(2, 'a'), [3n], T0),
            ],
          )
          const got = await store.read(
            pairs,
            [pairKey(2, 'a'), pairKey(1, 'b'), pairKey(1, 'a'), pairKey(2, 'b')],
            ['rides'],
          )
          expect(got.map((v) => v?.values[0])).toEqual([3n, 2n, 1n, undefined])
        }),
      )

      test('two views of the same entity are kept apart', { timeout }, () =>
        withStore([stats, otherStats], async (store) => {
          const k = driverKey(1)
          await store.writeBatch(stats, statsFeatures, [row(k, [0.1, 1n, 'stats'], T0)])
          await store.writeBatch(otherStats, statsFeatures, [row(k, [0.9, 9n, 'other'], T0 + 1n)])
          await store.writeBatch(otherStats, statsFeatures, [row(driverKey(2), [0, 0n, 'o2'], T0)])
          await expectStats(store, k, { values: [0.1, 1n, 'stats'], eventTs: T0 })
          await expectStats(store, k, { values: [0.9, 9n, 'other'], eventTs: T0 + 1n }, otherStats)
          await expectStats(store, driverKey(2), undefined)
          // An older row in one view does not lose against the other view's newer row.
          expect(
            await store.writeBatch(stats, statsFeatures, [row(k, [0.2, 2n, 'stats2'], T0 + 1n)]),
          ).toBe(1)
        }),
      )
    })

    describe('value types', () => {
      const features = Object.keys(ALL_TYPES)
      const INT64_MAX = 2n ** 63n - 1n
      const INT64_MIN = -(2n ** 63n)
      const typical = [
        42,
        2n ** 53n + 1n,
        Math.fround(0.1),
        0.1,
        'héllo, wörld ✓ 🚀',
        bytes(0, 1, 2, 255, 0),
        true,
        1_700_000_000_123_456n,
        [1, null, -3],
        [2n ** 53n + 1n, null, -(2n ** 60n)],
        [Math.fround(1.5), null, Math.fround(-0.3)],
        [0.1, null, 1e300],
        ['a', null, '', 'ü'],
        [bytes(1, 2), null, bytes()],
        [true, null, false],
        [1_700_000_000_123_456n, null, -1n],
      ]
      const edges = [
        -2147483648,
        INT64_MIN,
        Math.fround(3.4028234663852886e38),
        5e-324,
        '',
        bytes(),
        false,
        -62_135_596_800_000_000n, // 0001-01-01T00:00:00Z
        [],
        [INT64_MAX, INT64_MIN],
        [],
        [Number.MAX_VALUE, -Number.MIN_VALUE],
        [],
        [bytes(0)],
        [],
        [253_402_300_799_999_999n], // 9999-12-31T23:59:59.999999Z
      ]
      const nulls = features.map(() => null)
      const allNullArrays = features.map((_, i) => (i >= 8 ? [null] : null))

      test('every value type round-trips exactly', { timeout }, () =>
        withStore([allTypes], async (store) => {
          const written = await store.writeBatch(allTypes, features, [
            row(driverKey(1), typical, T0 + 1n),
            row(driverKey(2), edges, T0 + 2n),
            row(driverKey(3), nulls, T0 + 3n),
            row(driverKey(4), allNullArrays, T0 + 4n),
          ])
          expect(written).toBe(4)
          const got = await store.read(
            allTypes,
            [1, 2, 3, 4].map((i) => driverKey(i)),
            features,
          )
          const expected = [typical, edges, nulls, allNullArrays]
          got.forEach((value, i) => {
            expect(value?.eventTs).toBe(T0 + BigInt(i + 1))
            features.forEach((feature, j) => {
              expect(comparable(value?.values[j]), `${feature} of row ${i + 1}`).toEqual(
                comparable(expected[i]?.[j]),
              )
            })
          })
        }),
      )

      test('values come back with the JavaScript type of their value type', { timeout }, () =>
        withStore([allTypes], async (store) => {
          await store.writeBatch(allTypes, features, [row(driverKey(1), typical, T0)])
          const v = (await readOne(store, allTypes, driverKey(1), features))?.values ?? []
          expect(typeof v[0]).toBe('number') // int32
          expect(typeof v[1]).toBe('bigint') // int64
          expect(typeof v[2]).toBe('number') // float32
          expect(typeof v[3]).toBe('number') // float64
          expect(typeof v[4]).toBe('string')
          expect(v[5]).toBeInstanceOf(Uint8Array)
          expect(typeof v[6]).toBe('boolean')
          expect(typeof v[7]).toBe('bigint') // timestamp, epoch micros
          expect(Array.isArray(v[8])).toBe(true)
          expect(typeof (v[9] as unknown[])[0]).toBe('bigint')
          expect((v[13] as unknown[])[0]).toBeInstanceOf(Uint8Array)
          expect(typeof (v[15] as unknown[])[0]).toBe('bigint')
        }),
      )
    })

    describe('update and teardown', () => {
      test('dropping a view removes its data and keeps the others', { timeout }, () =>
        withStore([stats, otherStats], async (store) => {
          const k = driverKey(1)
          await store.writeBatch(stats, statsFeatures, [row(k, [0.1, 1n, 'kept'], T0)])
          await store.writeBatch(otherStats, statsFeatures, [row(k, [0.2, 2n, 'dropped'], T0)])
          await store.update({ keep: [stats], drop: [otherStats], entities: ENTITIES })
          await expectStats(store, k, { values: [0.1, 1n, 'kept'], eventTs: T0 })
          // Re-created, the dropped view starts empty.
          await store.update({ keep: [stats, otherStats], drop: [], entities: ENTITIES })
          await expectStats(store, k, undefined, otherStats)
          await expectStats(store, k, { values: [0.1, 1n, 'kept'], eventTs: T0 })
        }),
      )

      test('update with the same views again keeps the data', { timeout }, () =>
        withStore([stats], async (store) => {
          await store.writeBatch(stats, statsFeatures, [row(driverKey(1), [0.1, 1n, 'x'], T0)])
          await store.update({ keep: [stats], drop: [], entities: ENTITIES })
          await store.update({ keep: [stats], drop: [], entities: ENTITIES })
          await expectStats(store, driverKey(1), { values: [0.1, 1n, 'x'], eventTs: T0 })
        }),
      )

      test.skipIf(!caps.addFeature)(
        'adding a feature to a view keeps its data readable',
        { timeout },
        () =>
          withStore([stats], async (store) => {
            await store.writeBatch(stats, statsFeatures, [row(driverKey(1), [0.1, 1n, 'x'], T0)])
            const wider = testView('driver_stats', ['driver'], {
              conv_rate: 'float64',
              trips: 'int64',
              label: 'string',
              tags: 'array<string>',
            })
            await store.update({ keep: [wider], drop: [], entities: ENTITIES })
            const all = [...statsFeatures, 'tags']
            expect(await readOne(store, wider, driverKey(1), all)).toEqual({
              values: [0.1, 1n, 'x', null],
              eventTs: T0,
            })
            await store.writeBatch(wider, all, [row(driverKey(2), [0.2, 2n, 'y', ['t']], T0)])
            expect(await readOne(store, wider, driverKey(2), all)).toEqual({
              values: [0.2, 2n, 'y', ['t']],
              eventTs: T0,
            })
            await store.teardown([wider])
          }),
      )

      test('teardown removes the data; tearing down twice is harmless', { timeout }, () =>
        withStore([stats, otherStats], async (store) => {
          await store.writeBatch(stats, statsFeatures, [row(driverKey(1), [0.1, 1n, 'x'], T0)])
          await store.writeBatch(otherStats, statsFeatures, [row(driverKey(1), [0.2, 2n, 'y'], T0)])
          await store.teardown([stats])
          await store.teardown([stats])
          await expectStats(
            store,
            driverKey(1),
            { values: [0.2, 2n, 'y'], eventTs: T0 },
            otherStats,
          )
          await store.update({ keep: [stats, otherStats], drop: [], entities: ENTITIES })
          await expectStats(store, driverKey(1), undefined)
        }),
      )
    })

    describe('declared capabilities (store.capabilities)', () => {
      test(
        'concurrentWriters: two writers racing on the same keys leave the winner of each',
        { timeout },
        (ctx) =>
          withStore([stats], async (store, open) => {
            if (!store.capabilities.concurrentWriters) return ctx.skip()
            const other = await open()
            const n = 200
            // Writer A has the newer row of even keys, writer B of odd keys; each writes its
            // rows in small batches, in opposite key orders, at the same time.
            const rowsOf = (newerWhen: 0 | 1) =>
              Array.from({ length: n }, (_, i) => {
                const newer = i % 2 === newerWhen
                const ts = newer ? T0 + 2n : T0 + 1n
                return row(driverKey(i), [i, BigInt(newerWhen), newer ? 'won' : 'lost'], ts)
              })
            const writeAll = async (s: OnlineStore, rows: OnlineRow[]) => {
              let written = 0
              for (let at = 0; at < rows.length; at += 10)
                written += await s.writeBatch(stats, statsFeatures, rows.slice(at, at + 10))
              return written
            }
            const [a, b] = await Promise.all([
              writeAll(store, rowsOf(0)),
              writeAll(other, rowsOf(1).reverse()),
            ])
            // Every winning row is written once; a losing row only if it came first.
            expect(a + b).toBeGreaterThanOrEqual(n)
            expect(a + b).toBeLessThanOrEqual(2 * n)
            const got = await store.read(
              stats,
              Array.from({ length: n }, (_, i) => driverKey(i)),
              statsFeatures,
            )
            got.forEach((v, i) => {
              const expected = { values: [i, BigInt(i % 2), 'won'], eventTs: T0 + 2n }
              if (v?.eventTs !== expected.eventTs || v.values[2] !== 'won')
                expect(v, `key ${i}`).toEqual(expected)
            })
          }),
      )

      test(
        'without keyTtl the store never expires rows: an ancient row is still found',
        { timeout },
        (ctx) =>
          withStore([stats], async (store) => {
            if (store.capabilities.keyTtl) return ctx.skip()
            // Core, not the store, turns old values into OUTSIDE_MAX_AGE.
            await store.writeBatch(stats, statsFeatures, [row(driverKey(1), [0.5, 5n, 'old'], 1n)])
            await expectStats(store, driverKey(1), { values: [0.5, 5n, 'old'], eventTs: 1n })
          }),
      )

      test('keyTtl: a store that declares it expires written keys by itself', {
        timeout,
      }, async (ctx) => {
        const ttl = options.keyTtl
        if (!ttl) {
          const probe = await options.createStore()
          const declared = probe.capabilities.keyTtl
          await probe.close()
          if (!declared) return ctx.skip()
          throw new Error(
            `${options.name} declares capabilities.keyTtl: give onlineStoreConformance({ keyTtl: { createStore, waitMs } }) so the suite can check that keys expire`,
          )
        }
        await withStore(
          [stats],
          async (store) => {
            expect(store.capabilities.keyTtl).toBe(true)
            await store.writeBatch(stats, statsFeatures, [row(driverKey(1), [0.1, 1n, 'x'], T0)])
            await expectStats(store, driverKey(1), { values: [0.1, 1n, 'x'], eventTs: T0 })
            await new Promise((r) => setTimeout(r, ttl.waitMs))
            await expectStats(store, driverKey(1), undefined)
          },
          ttl.createStore,
        )
      })
    })

    describe.skipIf(!caps.largeBatches)('large batches', () => {
      const rows = (n: number, ts: bigint, shift = 0): OnlineRow[] =>
        Array.from({ length: n }, (_, i) =>
          row(driverKey(i), [i / 8, BigInt(i + shift), `label-${i}`], ts),
        )

      test(
        `one writeBatch of ${large.writeRows} rows, one read of ${large.readKeys} keys`,
        {
          timeout: timeout * 4,
        },
        () =>
          withStore([stats], async (store) => {
            expect(await store.writeBatch(stats, statsFeatures, rows(large.writeRows, T0))).toBe(
              large.writeRows,
            )
            // Every other key exists; each is asked for in a scattered order.
            const ids = Array.from({ length: large.readKeys }, (_, i) =>
              i % 2 === 0 ? (i * 7919) % large.writeRows : large.writeRows + i,
            )
            const got = await store.read(
              stats,
              ids.map((id) => driverKey(id)),
              statsFeatures,
            )
            expect(got).toHaveLength(ids.length)
            ids.forEach((id, i) => {
              const expected =
                id < large.writeRows
                  ? { values: [id / 8, BigInt(id), `label-${id}`], eventTs: T0 }
                  : undefined
              if (
                got[i]?.eventTs !== expected?.eventTs ||
                got[i]?.values[1] !== expected?.values[1]
              )
                expect(got[i], `key ${id} at position ${i}`).toEqual(expected)
            })
            // Half of a newer batch wins, the other half is older and loses.
            const newer = rows(large.writeRows, T0 + 1n, 1).map((r, i) =>
              i % 2 === 0 ? r : { ...r, eventTs: T0 - 1n },
            )
            expect(await store.writeBatch(stats, statsFeatures, newer)).toBe(
              Math.ceil(large.writeRows / 2),
            )
            const [even, odd] = await store.read(stats, [driverKey(0), driverKey(1)], ['trips'])
            expect(even).toEqual({ values: [1n], eventTs: T0 + 1n })
            expect(odd).toEqual({ values: [1n], eventTs: T0 })
          }),
      )
    })
  })
}
