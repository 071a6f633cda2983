/**
 * Feast's credit-scoring example as an end-to-end check for a warehouse offline store: the
 * loan table x zipcode features training set, computed in the warehouse from an SQL entity
 * table, must equal a reference store's row for row; then materialization from the warehouse
 * into an online store must serve the same values as materialization from the reference.
 * A backend runs it in a few lines (see @larder/redshift's test/credit-scoring.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type AnyDefinition,
  entity,
  FeatureStore,
  featureView,
  type OfflineStore,
  type OnlineStore,
  type SourceSpec,
  t,
} from '@larder/core'
import * as arrow from 'apache-arrow'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { creditScoringCase } from './cases.js'
import { tableDifference } from './table.js'

/** The zipcode features the training set requests. */
export const CREDIT_FEATURES = [
  'zipcode_features:city',
  'zipcode_features:state',
  'zipcode_features:location_type',
  'zipcode_features:tax_returns_filed',
  'zipcode_features:population',
  'zipcode_features:total_wages',
]

/** Options of {@link creditScoringRoundTrip}. */
export interface CreditScoringRoundTripOptions {
  /** The backend's name, used in the suite's title. */
  name: string
  /** A fresh store under test. */
  createStore: () => OfflineStore
  /**
   * Puts Feast's zipcode table and loan table where the store reads them; returns the
   * zipcode source spec (columns as in the table) and an SQL query of the loans.
   */
  load: (tables: { zipcodes: arrow.Table; loans: arrow.Table }) => Promise<{
    source: SourceSpec
    loansSql: string
  }>
  /** The reference: a store and its source over the same zipcode table (e.g. the file store). */
  reference: (
    zipcodes: arrow.Table,
    dir: string,
  ) => Promise<{ store: OfflineStore; source: SourceSpec }>
  /** A fresh online store in `dir` (materialization targets). */
  onlineStore: (dir: string) => OnlineStore
  /**
   * For stores that declare `fileEntityTable`: writes the loans to a Parquet file (e.g.
   * @larder/file's `writeTableFile`); the round trip then also gives them as an entity file
   * and the output must equal the reference's row for row, in the file's order.
   */
  writeEntityFile?: (loans: arrow.Table, path: string) => Promise<void>
  /** @default 300_000 */
  timeoutMs?: number
}

function definitions(source: SourceSpec): AnyDefinition[] {
  const zipcode = entity({ name: 'zipcode', joinKeys: ['zipcode'], valueType: t.int64 })
  const view = featureView({
    name: 'zipcode_features',
    entities: [zipcode],
    ttl: { days: 3650 },
    schema: {
      city: t.string,
      state: t.string,
      location_type: t.string,
      tax_returns_filed: t.int64,
      population: t.int64,
      total_wages: t.int64,
    },
    source,
  })
  return [zipcode, view]
}

/** The table sorted by loan_id (an SQL entity table comes back in the database's order). */
export function sortedByLoan(table: arrow.Table): arrow.Table {
  const ids = table.getChild('loan_id')?.toArray() as BigInt64Array
  const order = [...ids.keys()].sort((a, b) => (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : 0))
  const vectors: Record<string, arrow.Vector> = {}
  for (const f of table.schema.fields) {
    const column = table.getChild(f.name) as arrow.Vector
    vectors[f.name] = arrow.vectorFromArray(
      order.map((i) => column.get(i)),
      f.type,
    )
  }
  return new arrow.Table(vectors)
}

/** Registers the credit-scoring round trip with vitest. */
export function creditScoringRoundTrip(options: CreditScoringRoundTripOptions): void {
  const timeout = options.timeoutMs ?? 300_000
  describe(`credit scoring (Feast example data): ${options.name}`, () => {
    const credit = creditScoringCase()
    const zipcodes = credit.views[0]?.table as arrow.Table
    const loans = credit.entityTable as arrow.Table
    const dirs: string[] = []
    const open = (offlineStore: OfflineStore, source: SourceSpec): FeatureStore => {
      const dir = mkdtempSync(join(tmpdir(), 'larder-credit-'))
      dirs.push(dir)
      return new FeatureStore({
        repoPath: dir,
        config: {
          project: 'credit_scoring',
          registry: 'registry.json',
          offlineStore,
          onlineStore: options.onlineStore(dir),
        },
        definitions: definitions(source).map((definition) => ({ definition, origin: 'test' })),
      })
    }
    let reference: FeatureStore
    let subject: FeatureStore
    let loansSql: string
    let expected: arrow.Table
    let dataDir: string

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'larder-credit-data-'))
      dirs.push(dataDir)
      const ref = await options.reference(zipcodes, dataDir)
      reference = open(ref.store, ref.source)
      const loaded = await options.load({ zipcodes, loans })
      loansSql = loaded.loansSql
      subject = open(options.createStore(), loaded.source)
      await reference.apply()
      await subject.apply()
      expected = await (
        await reference.getHistoricalFeatures({ entityDf: loans, features: CREDIT_FEATURES })
      ).toArrow()
      expect(expected.numRows).toBe(28_638)
    }, timeout)

    afterAll(async () => {
      await Promise.all([reference?.close(), subject?.close()])
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    })

    test(
      'from an SQL entity table (run in place): the reference output, row for row',
      async () => {
        const job = await subject.getHistoricalFeatures({
          entityDf: { sql: loansSql },
          features: CREDIT_FEATURES,
        })
        const got = await job.toArrow()
        expect(tableDifference(sortedByLoan(got), sortedByLoan(expected))).toBeUndefined()
        const wages = got.getChild('total_wages') as arrow.Vector
        expect(String(wages.type)).toBe('Int64')
        expect(typeof wages.get(0)).toBe('bigint')
      },
      timeout,
    )

    const writeEntityFile = options.writeEntityFile
    if (writeEntityFile)
      test(
        'from a Parquet entity file: the reference output, row for row, in the file order',
        async () => {
          const path = join(dataDir, 'loan_table.parquet')
          await writeEntityFile(loans, path)
          const got = await (
            await subject.getHistoricalFeatures({ entityDf: { path }, features: CREDIT_FEATURES })
          ).toArrow()
          expect(tableDifference(got, expected)).toBeUndefined()
        },
        timeout,
      )

    test(
      'materialized into the online store, online reads equal the reference ones',
      async () => {
        const start = '2000-01-01T00:00:00Z'
        const end = '2030-01-01T00:00:00Z'
        const [fromReference] = await reference.materialize(start, end)
        const [fromSubject] = await subject.materialize(start, end)
        expect(fromSubject?.rowsWritten).toBe(fromReference?.rowsWritten)
        expect(fromSubject?.rowsWritten).toBeGreaterThan(28_000)
        const keys = [76104, 69033, 501, 99999999]
        const read = async (s: FeatureStore) =>
          (
            await s.getOnlineFeatures({ entities: { zipcode: keys }, features: CREDIT_FEATURES })
          ).toRows()
        const online = await read(subject)
        expect(online).toEqual(await read(reference))
        expect(online[0]?.city).toBeTypeOf('string')
        expect(online[3]?.city).toBeNull()
      },
      timeout,
    )
  })
}
