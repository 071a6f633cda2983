/**
 * `getHistoricalFeatures` of `@larder/bigquery` on the BigQuery stand-in (DuckDB behind
 * BigQuery's REST API, in the subject's own process) against `@larder/file` on the same data:
 * Feast's credit-scoring example, 28,638 loans (the entity table, a Parquet file) x 28,844
 * zipcode rows (TTL 3650 days, created tie-break). Informative: the stand-in is DuckDB plus a
 * REST layer, not BigQuery. The BigQuery subjects time the upload of the entity file (a load
 * job) and the retrieval (the compiled query, results paged back into Arrow), or the
 * retrieval alone with the entity table already in BigQuery. Check: every value of each
 * output, in row order, equal to the file store's.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BigQueryOfflineStore, bigqueryOfflineStore, bigquerySource } from '@larder/bigquery'
import {
  type EntitySpec,
  type EntityTable,
  type FeatureViewSpec,
  fromArrowType,
  noopLogger,
  planHistoricalRetrieval,
  type SourceSpec,
  type ValueTypeName,
} from '@larder/core'
import { type BigQueryEmulator, startBigQueryEmulator } from '@larder/emulators'
import { fileOfflineStore, fileSource, writeTableFile } from '@larder/file'
import { type CaseView, creditScoringCase } from '@larder/testing'
import type * as arrow from 'apache-arrow'
import { digestArrow } from '../digest.js'
import { compare, type SubjectFactory } from '../harness.js'
import type { BenchContext, Benchmark, BenchResult } from '../types.js'

const zipcode: EntitySpec = {
  kind: 'entity',
  name: 'zipcode',
  joinKeys: ['zipcode'],
  valueType: 'int64',
}

/** The credit-scoring view of @larder/testing's case, reading `source`. */
function view(source: SourceSpec): FeatureViewSpec {
  const v = creditScoringCase().views[0] as CaseView
  return {
    kind: 'featureView',
    name: v.name,
    entities: v.entities,
    features: v.features,
    source,
    ttlSeconds: v.ttlSeconds ?? 0,
    online: false,
    offline: true,
  }
}

const FIELDS = {
  timestampField: 'event_timestamp',
  createdTimestampColumn: 'created_timestamp',
}

function planFor(v: FeatureViewSpec, entityTable: arrow.Table) {
  return planHistoricalRetrieval({
    features: [{ view: v.name }],
    views: new Map([[v.name, v]]),
    entities: new Map([['zipcode', zipcode]]),
    entityColumns: entityTable.schema.fields.map((f) => ({
      name: f.name,
      valueType: fromArrowType(f.type) as ValueTypeName,
    })),
  })
}

/** Subjects, each built in its own process. */
export const subjects: Record<string, SubjectFactory> = {
  file: ({ dir }) => {
    const loans = creditScoringCase().entityTable
    const v = view(
      fileSource({ name: 'zipcode', path: join(dir as string, 'zipcode.parquet'), ...FIELDS }),
    )
    const store = fileOfflineStore({ threads: 2 })
    store.configure({ project: 'bench', repoPath: dir as string, logger: noopLogger })
    const plan = planFor(v, loans)
    let table: arrow.Table
    return {
      async run() {
        const entity: EntityTable = {
          kind: 'file',
          path: join(dir as string, 'loans.parquet'),
          format: 'parquet',
        }
        table = await (await store.getHistoricalFeatures(entity, plan)).toArrow()
      },
      check: () => digestArrow(table),
      close: () => store.close(),
    }
  },

  bigquery: async ({ dir, entity }) => {
    const loans = creditScoringCase().entityTable
    const emulator: BigQueryEmulator = await startBigQueryEmulator({ projectId: 'bench' })
    const store: BigQueryOfflineStore = bigqueryOfflineStore({
      projectId: 'bench',
      dataset: 'larder_tmp',
      apiEndpoint: emulator.url,
    })
    store.configure({ project: 'bench', repoPath: dir as string, logger: noopLogger })
    await emulator.query('CREATE SCHEMA credit')
    // Untimed: the source (and, for the in-place case, the entity table) loaded into BigQuery.
    await store.createTable('credit.zipcode', creditScoringCase().views[0]?.table as arrow.Table)
    await store.createTable('credit.loans', loans)
    const v = view(bigquerySource({ name: 'zipcode', table: 'credit.zipcode', ...FIELDS }))
    const plan = planFor(v, loans)
    let table: arrow.Table
    let close: (() => Promise<void>) | undefined
    return {
      async run() {
        const input: EntityTable =
          entity === 'file'
            ? { kind: 'file', path: join(dir as string, 'loans.parquet'), format: 'parquet' }
            : { kind: 'table', table: ['bench', 'credit', 'loans'] }
        const job = await store.getHistoricalFeatures(input, plan)
        table = await job.toArrow()
        close = () => job.close()
      },
      check: () => digestArrow(table),
      // Untimed: the job's temporary tables dropped.
      after: () => close?.(),
      async close() {
        await store.close()
        await emulator.close()
      },
    }
  },
}

const benchmark = {
  name: 'bigquery-historical',
  description:
    "getHistoricalFeatures (@larder/bigquery on the BigQuery stand-in) vs @larder/file on Feast's credit-scoring data (28.6k loans x 28.8k zipcode rows); informative",
  defaultScale: 1,
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const dir = await mkdtemp(join(tmpdir(), 'larder-bench-bigquery-'))
    try {
      const credit = creditScoringCase()
      await writeTableFile(credit.entityTable, join(dir, 'loans.parquet'))
      await writeTableFile(credit.views[0]?.table as arrow.Table, join(dir, 'zipcode.parquet'))
      return await compare(ctx, {
        caseName: 'credit scoring, 28.6k x 28.8k',
        module: import.meta.url,
        rows: credit.entityTable.numRows,
        subjects: [
          {
            name: 'larder file store (DuckDB over Parquet)',
            baseline: true,
            factory: 'file',
            args: { dir },
          },
          {
            name: 'larder bigquery: entity file uploaded (load job) + retrieval',
            factory: 'bigquery',
            args: { dir, entity: 'file' },
          },
          {
            name: 'larder bigquery: entity table in BigQuery, retrieval only',
            factory: 'bigquery',
            args: { dir, entity: 'table' },
          },
        ],
      })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  },
}

export default benchmark satisfies Benchmark
