/**
 * The hand-checked cases of the offline conformance suite: one or more per rule of
 * SEMANTICS.md's "Point-in-time join" section, each with literal expected rows worked out
 * by hand (never computed by the engine). Instants are `at(seconds)` after
 * 2026-01-01T00:00:00Z.
 */

import { readFileSync } from 'node:fs'
import {
  type EntitySpec,
  type FeatureSpec,
  formatTime,
  type LarderErrorCode,
  type ProjectionSpec,
} from '@larder/core'
import * as arrow from 'apache-arrow'
import { literalTable } from './table.js'

const BASE = BigInt(Date.UTC(2026, 0, 1)) * 1000n

/** The instant `seconds` (+ `micros`) after 2026-01-01T00:00:00Z, as `formatTime` prints it. */
export function at(seconds: number, micros = 0): string {
  return formatTime(BASE + BigInt(seconds) * 1_000_000n + BigInt(micros))
}

/** A view of a case: its definition without source, plus the source rows (source column names). */
export interface CaseView {
  name: string
  entities: string[]
  features: FeatureSpec[]
  /** @default 0 */
  ttlSeconds?: number
  timestampField: string
  createdTimestampColumn?: string
  fieldMapping?: Record<string, string>
  table: arrow.Table
}

/** A point-in-time join case. */
export interface HistoricalCase {
  name: string
  /** The rule of SEMANTICS.md it pins down. */
  rule: string
  entities: EntitySpec[]
  views: CaseView[]
  entityTable: arrow.Table
  features: Array<string | ProjectionSpec>
  fullFeatureNames?: boolean
  entityTimestampColumn?: string
  /** Expected output: `name: valueType` per column, and rows of plain values (see `tableCells`). */
  expected?: { columns: string[]; rows: unknown[][] }
  /** Expected output as a whole table (exact types and values), for data-sized cases. */
  expectedTable?: arrow.Table
  /** Expected error code (at planning or retrieval). */
  error?: LarderErrorCode
}

/** A `pullLatest` / `pullAll` case. */
export interface PullCase {
  name: string
  rule: string
  entities: EntitySpec[]
  view: CaseView
  method: 'pullLatest' | 'pullAll'
  start: string
  end: string
  features: string[]
  /** Rows sorted by join keys then `__event_ts`: join keys, features, `__event_ts`, `__created_ts`. */
  rows: unknown[][]
}

export const driver: EntitySpec = {
  kind: 'entity',
  name: 'driver',
  joinKeys: ['driver_id'],
  valueType: 'int64',
}
export const customer: EntitySpec = {
  kind: 'entity',
  name: 'customer',
  joinKeys: ['customer_id'],
  valueType: 'string',
}
const route: EntitySpec = {
  kind: 'entity',
  name: 'route',
  joinKeys: ['origin', 'destination'],
  valueType: 'string',
}

const TS = 'timestamp' as const

function statsView(ttlSeconds = 0): CaseView {
  // driver 1: rows at 10 (trips 10), 20 (created 2: trips 21; created 1: trips 20), 30
  // driver 2: rows at 5, 40
  return {
    name: 'driver_stats',
    entities: ['driver'],
    features: [
      { name: 'trips', valueType: 'int64' },
      { name: 'rate', valueType: 'float64' },
    ],
    ttlSeconds,
    timestampField: 'event_timestamp',
    createdTimestampColumn: 'created',
    table: literalTable({
      driver_id: ['int64', [1, 1, 1, 1, 2, 2]],
      event_timestamp: [TS, [at(10), at(20), at(20), at(30), at(5), at(40)]],
      created: [TS, [at(0), at(2), at(1), at(0), at(0), at(0)]],
      trips: ['int64', [10, 21, 20, 30, 5, 40]],
      rate: ['float64', [0.1, 0.21, 0.2, 0.3, 0.05, 0.4]],
    }),
  }
}

function entityRows(ids: number[], times: string[]): arrow.Table {
  return literalTable({ driver_id: ['int64', ids], event_timestamp: [TS, times] })
}

const DRIVER_COLS = ['driver_id: int64', 'event_timestamp: timestamp']

/** The hand-checked point-in-time cases. */
export function historicalCases(): HistoricalCase[] {
  return [
    {
      name: 'latest row at or before the entity time wins (upper edge inclusive)',
      rule: 'Candidate rows: event_ts <= T; Winner: greatest event_ts',
      entities: [driver],
      views: [statsView()],
      entityTable: entityRows([1, 1, 1, 1], [at(9), at(10), at(29), at(31)]),
      features: ['driver_stats:trips'],
      expected: {
        columns: [...DRIVER_COLS, 'trips: int64'],
        rows: [
          [1n, at(9), null],
          [1n, at(10), 10n],
          [1n, at(29), 21n],
          [1n, at(31), 30n],
        ],
      },
    },
    {
      name: 'microsecond precision on the upper edge',
      rule: 'Precision is at least microseconds end to end',
      entities: [driver],
      views: [statsView()],
      entityTable: entityRows([1, 1], [at(9, 999_999), at(10, 1)]),
      features: ['driver_stats:trips'],
      expected: {
        columns: [...DRIVER_COLS, 'trips: int64'],
        rows: [
          [1n, at(9, 999_999), null],
          [1n, at(10, 1), 10n],
        ],
      },
    },
    {
      name: 'TTL lower edge is inclusive',
      rule: 'event_ts >= T - ttl when ttl > 0; both edges inclusive',
      entities: [driver],
      views: [statsView(5)],
      // T=35: row 30 (35-5=30, inclusive). T=35.000001: nothing in [30.000001, 35.000001].
      // T=25: row 20 (created 2). T=15: row 10 (15-5=10). T=16: nothing in [11, 16].
      entityTable: entityRows([1, 1, 1, 1, 1], [at(35), at(35, 1), at(25), at(15), at(16)]),
      features: ['driver_stats:trips'],
      expected: {
        columns: [...DRIVER_COLS, 'trips: int64'],
        rows: [
          [1n, at(35), 30n],
          [1n, at(35, 1), null],
          [1n, at(25), 21n],
          [1n, at(15), 10n],
          [1n, at(16), null],
        ],
      },
    },
    {
      name: 'TTL 0 means no lower bound',
      rule: 'TTL 0 or absent = no lower bound',
      entities: [driver],
      views: [statsView(0)],
      entityTable: entityRows([1, 2], [at(100_000_000), at(39)]),
      features: ['driver_stats:trips'],
      expected: {
        columns: [...DRIVER_COLS, 'trips: int64'],
        rows: [
          [1n, at(100_000_000), 30n],
          [2n, at(39), 5n],
        ],
      },
    },
    {
      name: 'equal event timestamps: the greatest created timestamp wins',
      rule: 'Winner: on equal event_ts, greatest created_ts',
      entities: [driver],
      views: [statsView()],
      entityTable: entityRows([1, 1], [at(20), at(25)]),
      features: ['driver_stats:trips', 'driver_stats:rate'],
      expected: {
        columns: [...DRIVER_COLS, 'trips: int64', 'rate: float64'],
        rows: [
          [1n, at(20), 21n, 0.21],
          [1n, at(25), 21n, 0.21],
        ],
      },
    },
    {
      name: 'a null created timestamp loses against any created timestamp',
      rule: 'Winner: on equal event_ts, greatest created_ts (null lowest)',
      entities: [driver],
      views: [
        {
          ...statsView(),
          table: literalTable({
            driver_id: ['int64', [7, 7, 8, 8]],
            event_timestamp: [TS, [at(10), at(10), at(10), at(10)]],
            created: [TS, [null, at(0), at(3), null]],
            trips: ['int64', [1, 2, 3, 4]],
            rate: ['float64', [1, 2, 3, 4]],
          }),
        },
      ],
      entityTable: entityRows([7, 8], [at(10), at(11)]),
      features: ['driver_stats:trips'],
      expected: {
        columns: [...DRIVER_COLS, 'trips: int64'],
        rows: [
          [7n, at(10), 2n],
          [8n, at(11), 3n],
        ],
      },
    },
    {
      name: 'a full tie yields exactly one row',
      rule: 'A full tie yields exactly one of the tied rows, never two',
      entities: [driver],
      views: [
        {
          ...statsView(),
          // Three identical rows (a duplicated ingestion) and a tie with equal values.
          table: literalTable({
            driver_id: ['int64', [3, 3, 3, 4, 4]],
            event_timestamp: [TS, [at(10), at(10), at(10), at(10), at(10)]],
            created: [TS, [at(1), at(1), at(1), null, null]],
            trips: ['int64', [33, 33, 33, 44, 44]],
            rate: ['float64', [3.5, 3.5, 3.5, 4.5, 4.5]],
          }),
        },
      ],
      entityTable: entityRows([3, 4, 3], [at(10), at(12), at(11)]),
      features: ['driver_stats:trips', 'driver_stats:rate'],
      expected: {
        columns: [...DRIVER_COLS, 'trips: int64', 'rate: float64'],
        rows: [
          [3n, at(10), 33n, 3.5],
          [4n, at(12), 44n, 4.5],
          [3n, at(11), 33n, 3.5],
        ],
      },
    },
    {
      name: 'rows without a candidate are kept with null features',
      rule: 'No candidate: R is kept; features are null. Rows are never dropped',
      entities: [driver],
      views: [statsView(3)],
      // unknown driver 99; driver 2 before its first row; driver 1 outside the TTL (25-3=22 > 20)
      entityTable: entityRows([99, 2, 1, 2], [at(50), at(4), at(25), at(40)]),
      features: ['driver_stats:rate', 'driver_stats:trips'],
      expected: {
        columns: [...DRIVER_COLS, 'rate: float64', 'trips: int64'],
        rows: [
          [99n, at(50), null, null],
          [2n, at(4), null, null],
          [1n, at(25), null, null],
          [2n, at(40), 0.4, 40n],
        ],
      },
    },
    {
      name: 'entity rows keep their input order, duplicates included',
      rule: 'Row count and order: exactly the entity rows, in input order, duplicates included',
      entities: [driver],
      views: [statsView()],
      entityTable: entityRows([2, 1, 2, 1, 2, 1], [at(41), at(11), at(6), at(11), at(41), at(0)]),
      features: ['driver_stats:trips'],
      expected: {
        columns: [...DRIVER_COLS, 'trips: int64'],
        rows: [
          [2n, at(41), 40n],
          [1n, at(11), 10n],
          [2n, at(6), 5n],
          [1n, at(11), 10n],
          [2n, at(41), 40n],
          [1n, at(0), null],
        ],
      },
    },
    {
      name: 'all entity columns in order, then features in request order across views',
      rule: 'Columns: all entity columns in their order, then the requested features in request order',
      entities: [driver],
      views: [
        statsView(),
        {
          name: 'driver_profile',
          entities: ['driver'],
          features: [
            { name: 'city', valueType: 'string' },
            { name: 'age', valueType: 'int32' },
          ],
          timestampField: 'ts',
          table: literalTable({
            driver_id: ['int64', [1, 2]],
            ts: [TS, [at(0), at(0)]],
            city: ['string', ['Paris', 'Lyon']],
            age: ['int32', [40, 30]],
          }),
        },
      ],
      entityTable: literalTable({
        label: ['float64', [1.5, 0]],
        event_timestamp: [TS, [at(12), at(6)]],
        driver_id: ['int64', [1, 2]],
      }),
      features: [
        'driver_profile:city',
        'driver_stats:trips',
        'driver_profile:age',
        'driver_stats:rate',
      ],
      expected: {
        columns: [
          'label: float64',
          'event_timestamp: timestamp',
          'driver_id: int64',
          'city: string',
          'trips: int64',
          'age: int32',
          'rate: float64',
        ],
        rows: [
          [1.5, at(12), 1n, 'Paris', 10n, 40, 0.1],
          [0, at(6), 2n, 'Lyon', 5n, 30, 0.05],
        ],
      },
    },
    {
      name: 'full feature names use the projection name',
      rule: 'Name = view__feature with fullFeatureNames (view = its projection name when renamed)',
      entities: [driver],
      views: [statsView()],
      entityTable: entityRows([1], [at(30)]),
      features: [
        'driver_stats:trips',
        { view: 'driver_stats', name: 'stats_v2', features: ['trips'] },
      ],
      fullFeatureNames: true,
      expected: {
        columns: [...DRIVER_COLS, 'driver_stats__trips: int64', 'stats_v2__trips: int64'],
        rows: [[1n, at(30), 30n, 30n]],
      },
    },
    {
      name: 'two outputs with one name are an error',
      rule: 'Two outputs with one name is an error naming both references',
      entities: [driver],
      views: [statsView()],
      entityTable: entityRows([1], [at(30)]),
      features: [
        'driver_stats:trips',
        { view: 'driver_stats', name: 'stats_v2', features: ['trips'] },
      ],
      error: 'INVALID_INPUT',
    },
    {
      name: 'field mapping applies to features, join keys, timestamp and created columns',
      rule: 'Field mapping (source column -> larder name)',
      entities: [driver],
      views: [
        {
          name: 'mapped',
          entities: ['driver'],
          features: [{ name: 'trips', valueType: 'int64' }],
          timestampField: 'ts_src',
          createdTimestampColumn: 'created_src',
          fieldMapping: {
            id_src: 'driver_id',
            trips_src: 'trips',
            ts_src: 'event_ts',
            created_src: 'created_ts',
          },
          table: literalTable({
            id_src: ['int64', [1, 1, 1]],
            ts_src: [TS, [at(1), at(5), at(5)]],
            created_src: [TS, [at(0), at(9), at(8)]],
            trips_src: ['int64', [100, 500, 400]],
          }),
        },
      ],
      entityTable: entityRows([1, 1], [at(4), at(6)]),
      features: ['mapped:trips'],
      expected: {
        columns: [...DRIVER_COLS, 'trips: int64'],
        rows: [
          [1n, at(4), 100n],
          [1n, at(6), 500n],
        ],
      },
    },
    {
      name: 'an entity-less view joins on time only, within its TTL',
      rule: 'Entity-less views join on time only: every row gets the latest row within the TTL',
      entities: [driver],
      views: [
        {
          name: 'global',
          entities: [],
          features: [{ name: 'demand', valueType: 'float64' }],
          ttlSeconds: 10,
          timestampField: 'ts',
          table: literalTable({
            ts: [TS, [at(30), at(10), at(20)]],
            demand: ['float64', [3, 1, 2]],
          }),
        },
      ],
      entityTable: entityRows([1, 2, 3, 4], [at(25), at(9), at(45), at(40)]),
      features: ['global:demand'],
      expected: {
        columns: [...DRIVER_COLS, 'demand: float64'],
        rows: [
          [1n, at(25), 2],
          [2n, at(9), null],
          [3n, at(45), null],
          [4n, at(40), 3],
        ],
      },
    },
    {
      name: 'several join keys must all match',
      rule: 'Candidate rows: same join-key values as R',
      entities: [route],
      views: [
        {
          name: 'route_stats',
          entities: ['route'],
          features: [{ name: 'eta', valueType: 'int32' }],
          timestampField: 'ts',
          table: literalTable({
            origin: ['string', ['A', 'A', 'B']],
            destination: ['string', ['B', 'C', 'A']],
            ts: [TS, [at(1), at(1), at(1)]],
            eta: ['int32', [10, 20, 30]],
          }),
        },
      ],
      entityTable: literalTable({
        origin: ['string', ['A', 'B', 'C', 'A']],
        destination: ['string', ['C', 'B', 'A', 'B']],
        event_timestamp: [TS, [at(2), at(2), at(2), at(2)]],
      }),
      features: ['route_stats:eta'],
      expected: {
        columns: [
          'origin: string',
          'destination: string',
          'event_timestamp: timestamp',
          'eta: int32',
        ],
        rows: [
          ['A', 'C', at(2), 20],
          ['B', 'B', at(2), null],
          ['C', 'A', at(2), null],
          ['A', 'B', at(2), 10],
        ],
      },
    },
    {
      name: "a projection's join-key map reads another entity column",
      rule: 'same join-key values as R (after the join-key map)',
      entities: [driver],
      views: [statsView()],
      entityTable: literalTable({
        driver_id: ['int64', [1, 2]],
        backup_driver: ['int64', [2, 1]],
        event_timestamp: [TS, [at(41), at(41)]],
      }),
      features: [
        'driver_stats:trips',
        {
          view: 'driver_stats',
          name: 'backup',
          features: ['trips'],
          joinKeyMap: { driver_id: 'backup_driver' },
        },
      ],
      fullFeatureNames: true,
      expected: {
        columns: [
          'driver_id: int64',
          'backup_driver: int64',
          'event_timestamp: timestamp',
          'driver_stats__trips: int64',
          'backup__trips: int64',
        ],
        rows: [
          [1n, 2n, at(41), 30n, 40n],
          [2n, 1n, at(41), 40n, 30n],
        ],
      },
    },
    {
      name: 'feature types follow the view schema; nulls stay null; int64 stays exact',
      rule: 'Types of features follow the view schema (int64 stays int64, never float); null stays null',
      entities: [customer],
      views: [
        {
          name: 'customer_profile',
          entities: ['customer'],
          features: [
            { name: 'i32', valueType: 'int32' },
            { name: 'i64', valueType: 'int64' },
            { name: 'f32', valueType: 'float32' },
            { name: 'f64', valueType: 'float64' },
            { name: 's', valueType: 'string' },
            { name: 'b', valueType: 'bool' },
            { name: 'seen', valueType: 'timestamp' },
          ],
          timestampField: 'ts',
          table: literalTable({
            customer_id: ['string', ['c1', 'c2']],
            ts: [TS, [at(1), at(1)]],
            i32: ['int32', [-2147483648, null]],
            i64: ['int64', [9007199254740993n, null]],
            f32: ['float32', [0.5, null]],
            f64: ['float64', [-0.125, null]],
            s: ['string', ['é', null]],
            b: ['bool', [false, null]],
            seen: [TS, [at(0, 123_456), null]],
          }),
        },
      ],
      entityTable: literalTable({
        customer_id: ['string', ['c1', 'c2', 'c3']],
        event_timestamp: [TS, [at(1), at(1), at(1)]],
      }),
      features: [{ view: 'customer_profile' }],
      expected: {
        columns: [
          'customer_id: string',
          'event_timestamp: timestamp',
          'i32: int32',
          'i64: int64',
          'f32: float32',
          'f64: float64',
          's: string',
          'b: bool',
          'seen: timestamp',
        ],
        rows: [
          ['c1', at(1), -2147483648, 9007199254740993n, 0.5, -0.125, 'é', false, at(0, 123_456)],
          ['c2', at(1), null, null, null, null, null, null, null],
          ['c3', at(1), null, null, null, null, null, null, null],
        ],
      },
    },
    {
      name: 'the only timestamp column of the entity table is its timestamp; any unit, no zone = UTC',
      rule: 'Entity timestamp column: else the only timestamp-typed column; input without a zone is UTC',
      entities: [driver],
      views: [statsView()],
      entityTable: literalTable({
        driver_id: ['int64', [1, 1]],
        asof: { arrowType: new arrow.TimestampMillisecond(), values: [at(19), at(20)] },
      }),
      features: ['driver_stats:trips'],
      expected: {
        columns: ['driver_id: int64', 'asof: timestamp', 'trips: int64'],
        rows: [
          [1n, at(19), 10n],
          [1n, at(20), 21n],
        ],
      },
    },
    {
      name: 'several timestamp columns and no event_timestamp is an error',
      rule: 'zero or several candidates is an error that names them',
      entities: [driver],
      views: [statsView()],
      entityTable: literalTable({
        driver_id: ['int64', [1]],
        a: [TS, [at(1)]],
        b: [TS, [at(2)]],
      }),
      features: ['driver_stats:trips'],
      error: 'INVALID_INPUT',
    },
    {
      name: 'an explicit entity timestamp column',
      rule: 'else an explicit option',
      entities: [driver],
      views: [statsView()],
      entityTable: literalTable({
        driver_id: ['int64', [1]],
        a: [TS, [at(1)]],
        b: [TS, [at(31)]],
      }),
      entityTimestampColumn: 'b',
      features: ['driver_stats:trips'],
      expected: {
        columns: ['driver_id: int64', 'a: timestamp', 'b: timestamp', 'trips: int64'],
        rows: [[1n, at(1), at(31), 30n]],
      },
    },
    {
      name: 'two views with different TTLs on one entity',
      rule: 'Candidate rows per feature view V (each with its own TTL)',
      entities: [driver],
      views: [
        statsView(100),
        {
          ...statsView(1),
          name: 'driver_stats_fresh',
        },
      ],
      // fresh (ttl 1): T=31 -> [30, 31] holds row 30; T=32 -> [31, 32] holds nothing.
      entityTable: entityRows([1, 1], [at(31), at(32)]),
      features: ['driver_stats:trips', 'driver_stats_fresh:trips'],
      fullFeatureNames: true,
      expected: {
        columns: [...DRIVER_COLS, 'driver_stats__trips: int64', 'driver_stats_fresh__trips: int64'],
        rows: [
          [1n, at(31), 30n, 30n],
          [1n, at(32), 30n, null],
        ],
      },
    },
    {
      name: 'an unknown view is an error',
      rule: 'Errors: unknown view',
      entities: [driver],
      views: [statsView()],
      entityTable: entityRows([1], [at(1)]),
      features: ['nope:trips'],
      error: 'NOT_FOUND',
    },
    {
      name: 'an unknown feature is an error',
      rule: 'Errors: unknown feature',
      entities: [driver],
      views: [statsView()],
      entityTable: entityRows([1], [at(1)]),
      features: ['driver_stats:nope'],
      error: 'NOT_FOUND',
    },
    {
      name: 'an entity table without the join key is an error',
      rule: 'Errors: entity table missing a join key',
      entities: [driver],
      views: [statsView()],
      entityTable: literalTable({ rider_id: ['int64', [1]], event_timestamp: [TS, [at(1)]] }),
      features: ['driver_stats:trips'],
      error: 'INVALID_INPUT',
    },
    {
      name: 'an entity table without a timestamp column is an error',
      rule: 'Errors: entity table missing the timestamp column',
      entities: [driver],
      views: [statsView()],
      entityTable: literalTable({ driver_id: ['int64', [1]] }),
      features: ['driver_stats:trips'],
      error: 'INVALID_INPUT',
    },
    {
      name: 'an empty entity table gives an empty result with all columns',
      rule: 'Row count: exactly the entity table rows',
      entities: [driver],
      views: [statsView()],
      entityTable: entityRows([], []),
      features: ['driver_stats:trips'],
      expected: { columns: [...DRIVER_COLS, 'trips: int64'], rows: [] },
    },
  ]
}

/** The hand-checked `pullLatest` / `pullAll` cases. */
export function pullCases(): PullCase[] {
  const view = statsView()
  return [
    {
      name: 'pullLatest keeps the winner per key within inclusive bounds',
      rule: 'Materialization: start <= event_ts <= end, one row per entity key (winner rule)',
      entities: [driver],
      view,
      method: 'pullLatest',
      start: at(5),
      end: at(20),
      features: ['trips', 'rate'],
      rows: [
        [1n, 21n, 0.21, at(20), at(2)],
        [2n, 5n, 0.05, at(5), at(0)],
      ],
    },
    {
      name: 'pullLatest excludes rows after the end',
      rule: 'Materialization: start <= event_ts <= end',
      entities: [driver],
      view,
      method: 'pullLatest',
      start: at(6),
      end: at(19, 999_999),
      features: ['trips'],
      rows: [[1n, 10n, at(10), at(0)]],
    },
    {
      name: 'pullAll returns every row within inclusive bounds',
      rule: 'pullAll: every row with start <= event_ts <= end',
      entities: [driver],
      view,
      method: 'pullAll',
      start: at(10),
      end: at(30),
      features: ['trips'],
      rows: [
        [1n, 10n, at(10), at(0)],
        [1n, 20n, at(20), at(1)],
        [1n, 21n, at(20), at(2)],
        [1n, 30n, at(30), at(0)],
      ],
    },
  ]
}

function fixture(name: string): arrow.Table {
  const url = new URL(`../../fixtures/${name}`, import.meta.url)
  return arrow.tableFromIPC(readFileSync(url))
}

/**
 * Real data (Feast's credit-scoring example): 28,638 loans as the entity table, 28,844
 * zipcode rows as a view on entity `zipcode` with TTL 3650 days and the created-timestamp
 * tie-break. The expectation was computed once by hand-written DuckDB SQL and checked by
 * hand on a few rows (fixtures/README.md).
 */
export function creditScoringCase(): HistoricalCase {
  const loans = fixture('loan_table.arrow')
  const features = fixture('credit_scoring_expected.arrow')
  const expected: Record<string, arrow.Vector> = {}
  for (const f of loans.schema.fields) expected[f.name] = loans.getChild(f.name) as arrow.Vector
  for (const f of features.schema.fields)
    expected[f.name] = features.getChild(f.name) as arrow.Vector
  return {
    name: 'real data: loans x zipcode features (credit scoring)',
    rule: 'every rule at once, on real data',
    entities: [{ kind: 'entity', name: 'zipcode', joinKeys: ['zipcode'], valueType: 'int64' }],
    views: [
      {
        name: 'zipcode_features',
        entities: ['zipcode'],
        features: [
          { name: 'city', valueType: 'string' },
          { name: 'state', valueType: 'string' },
          { name: 'location_type', valueType: 'string' },
          { name: 'tax_returns_filed', valueType: 'int64' },
          { name: 'population', valueType: 'int64' },
          { name: 'total_wages', valueType: 'int64' },
        ],
        ttlSeconds: 3650 * 86400,
        timestampField: 'event_timestamp',
        createdTimestampColumn: 'created_timestamp',
        table: fixture('zipcode_table.arrow'),
      },
    ],
    entityTable: loans,
    features: [
      'zipcode_features:city',
      'zipcode_features:state',
      'zipcode_features:location_type',
      'zipcode_features:tax_returns_filed',
      'zipcode_features:population',
      'zipcode_features:total_wages',
    ],
    expectedTable: new arrow.Table(expected),
  }
}
