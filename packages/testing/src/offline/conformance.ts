/**
 * The offline store conformance suite (SEMANTICS.md, "Point-in-time join" and the pull
 * reads of "Materialization"). A backend runs it in a few lines:
 *
 * ```ts
 * import { offlineStoreConformance } from '@larder/testing'
 * offlineStoreConformance({
 *   name: 'file',
 *   createStore: () => fileOfflineStore(),
 *   loadSource: async (name, table, fields, ctx) => {
 *     const path = join(ctx.dir, `${name}.parquet`)
 *     await writeParquet(path, table)
 *     return { kind: 'file', ...fields, path }
 *   },
 * })
 * ```
 *
 * Every case checks the backend twice: against literal rows worked out by hand (or by the
 * naive oracle for random cases), and against the in-memory reference engine EXACTLY
 * (column names and order, Arrow types, values, nulls, row order).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type CommonSourceFields,
  type EntitySpec,
  type EntityTable,
  type FeatureViewSpec,
  fromArrowType,
  isLarderError,
  memoryOfflineStore,
  noopLogger,
  type OfflineStore,
  type PullRequest,
  parseTime,
  planHistoricalRetrieval,
  type RetrievalPlan,
  type SourceSpec,
} from '@larder/core'
import * as arrow from 'apache-arrow'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  at,
  type CaseView,
  creditScoringCase,
  driver,
  type HistoricalCase,
  historicalCases,
  type PullCase,
  pullCases,
} from './cases.js'
import {
  normalizeTies,
  propertyRuns,
  propertySeed,
  randomCaseArbitrary,
  toHistoricalCase,
} from './random.js'
import {
  describeTable,
  literalTable,
  rowsDifference,
  tableCells,
  tableDifference,
} from './table.js'

const TS = 'timestamp' as const

/** What `loadSource` and `entityTable` get besides the data. */
export interface LoadContext {
  /** A fresh temporary folder for this case (removed after the suite). */
  dir: string
  /** A short unique identifier of the case (letters, digits, `_`), safe as a table prefix. */
  caseId: string
}

/** Which groups of cases a backend takes part in; every group runs unless set to false. */
export interface OfflineConformanceCapabilities {
  /** `pullLatest` / `pullAll` cases. @default true */
  pull?: boolean
  /** The randomized cases against the naive oracle. @default true */
  properties?: boolean
  /** The real-data case (28k entity rows x 28k feature rows). @default true */
  realData?: boolean
}

/** Options of {@link offlineStoreConformance}. */
export interface OfflineStoreConformanceOptions {
  /** The backend's name, used in the suite's title. */
  name: string
  /** Makes a fresh, unconfigured store; the suite configures and closes it. */
  createStore: () => OfflineStore | Promise<OfflineStore>
  /**
   * Puts a source table (columns in source names) where the store can read it and returns
   * the source spec: `fields` (name, timestampField, createdTimestampColumn, fieldMapping)
   * plus whatever the backend needs (path, table...). `name` is unique in the run.
   */
  loadSource: (
    name: string,
    table: arrow.Table,
    fields: CommonSourceFields,
    ctx: LoadContext,
  ) => Promise<SourceSpec> | SourceSpec
  /** How the entity table reaches the store. @default `{ kind: 'arrow', table }` */
  entityTable?: (table: arrow.Table, ctx: LoadContext) => Promise<EntityTable> | EntityTable
  /**
   * How to give the entity table in the other forms the store declares in its
   * `capabilities` (`fileEntityTable`, `sqlEntityTable`, `tableEntityTable`): the suite runs
   * the hand-checked cases once per declared form, and fails when a declared form has no
   * adapter here. `sql` returns a query over the rows (e.g. over a table it created).
   */
  entityTables?: {
    file?: (table: arrow.Table, ctx: LoadContext) => Promise<EntityTable> | EntityTable
    sql?: (table: arrow.Table, ctx: LoadContext) => Promise<EntityTable> | EntityTable
    table?: (table: arrow.Table, ctx: LoadContext) => Promise<EntityTable> | EntityTable
  }
  capabilities?: OfflineConformanceCapabilities
  /**
   * Randomized cases; `LARDER_PROPERTY_RUNS` overrides it, `LARDER_PROPERTY_SEED` sets the seed.
   * @default 1000
   */
  propertyRuns?: number
  /** Case names to skip (say why in the backend's test). */
  skip?: string[]
  /** @default 60_000 */
  timeoutMs?: number
}

/** The outcome of one case on one store. */
export type CaseOutcome = { table: arrow.Table } | { error: unknown }

function viewSpecs(views: CaseView[], sources: SourceSpec[]): Map<string, FeatureViewSpec> {
  return new Map(
    views.map((v, i) => [
      v.name,
      {
        kind: 'featureView',
        name: v.name,
        entities: v.entities,
        features: v.features,
        source: sources[i] as SourceSpec,
        ttlSeconds: v.ttlSeconds ?? 0,
        online: false,
        offline: true,
      } satisfies FeatureViewSpec,
    ]),
  )
}

function sourceFields(name: string, v: CaseView): CommonSourceFields {
  const fields: CommonSourceFields = { name, timestampField: v.timestampField }
  if (v.createdTimestampColumn !== undefined)
    fields.createdTimestampColumn = v.createdTimestampColumn
  if (v.fieldMapping !== undefined) fields.fieldMapping = v.fieldMapping
  return fields
}

function planFor(c: HistoricalCase, views: Map<string, FeatureViewSpec>): RetrievalPlan {
  return planHistoricalRetrieval({
    features: c.features,
    views,
    entities: new Map(c.entities.map((e: EntitySpec) => [e.name, e])),
    entityColumns: c.entityTable.schema.fields.map((f) => ({
      name: f.name,
      valueType: fromArrowType(f.type),
    })),
    ...(c.entityTimestampColumn === undefined
      ? {}
      : { entityTimestampColumn: c.entityTimestampColumn }),
    fullFeatureNames: c.fullFeatureNames ?? false,
  })
}

/** Runs a case on the in-memory reference store. */
export async function runReference(c: HistoricalCase): Promise<CaseOutcome> {
  try {
    const store = memoryOfflineStore()
    const sources = c.views.map((v) => {
      store.register(v.name, v.table)
      return { kind: 'memory', table: v.name, ...sourceFields(v.name, v) } as SourceSpec
    })
    const plan = planFor(c, viewSpecs(c.views, sources))
    const job = await store.getHistoricalFeatures({ kind: 'arrow', table: c.entityTable }, plan)
    return { table: await job.toArrow() }
  } catch (error) {
    return { error }
  }
}

/** Runs a case on a backend through the adapter of `options`. */
export async function runOnStore(
  store: OfflineStore,
  options: Pick<OfflineStoreConformanceOptions, 'loadSource' | 'entityTable'>,
  c: HistoricalCase,
  ctx: LoadContext,
): Promise<CaseOutcome> {
  try {
    const sources: SourceSpec[] = []
    for (const v of c.views) {
      const name = `${ctx.caseId}_${v.name}`
      sources.push(await options.loadSource(name, v.table, sourceFields(name, v), ctx))
    }
    const plan = planFor(c, viewSpecs(c.views, sources))
    const entity = options.entityTable
      ? await options.entityTable(c.entityTable, ctx)
      : ({ kind: 'arrow', table: c.entityTable } as const)
    const job = await store.getHistoricalFeatures(entity, plan)
    return { table: await job.toArrow() }
  } catch (error) {
    return { error }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

/**
 * Checks an outcome against the case's expectation and the reference outcome; returns a
 * readable reason when it fails, undefined when it passes.
 */
export function checkOutcome(
  c: HistoricalCase,
  got: CaseOutcome,
  reference: CaseOutcome,
): string | undefined {
  if (c.error !== undefined) {
    if (!('error' in got))
      return `expected error ${c.error}, got a table:\n${describeTable(got.table)}`
    if (!isLarderError(got.error, c.error))
      return `expected LarderError ${c.error}, got ${errorText(got.error)}`
    return undefined
  }
  if ('error' in got) return `unexpected error: ${errorText(got.error)}`
  const table = got.table
  const expected = c.expected
  if (expected) {
    const shape = table.schema.fields.map(
      (f) => `${f.name}: ${fromArrowType(f.type) ?? String(f.type)}`,
    )
    if (shape.join(', ') !== expected.columns.join(', ')) {
      return `columns: got ${shape.join(', ')}; expected ${expected.columns.join(', ')}`
    }
    const diff = rowsDifference(tableCells(table), expected.rows)
    if (diff) return `${diff}\n${describeTable(table)}`
  }
  if (c.expectedTable) {
    const diff = tableDifference(table, c.expectedTable)
    if (diff) return `differs from the expected table: ${diff}`
  }
  if ('error' in reference) return `the reference engine failed: ${errorText(reference.error)}`
  const exact = tableDifference(table, reference.table)
  if (exact)
    return `differs from the in-memory engine: ${exact}\ngot:\n${describeTable(table)}\nengine:\n${describeTable(reference.table)}`
  return undefined
}

async function collect(
  batches: AsyncIterable<arrow.RecordBatch>,
): Promise<arrow.Table | undefined> {
  const all: arrow.RecordBatch[] = []
  for await (const b of batches) all.push(b)
  return all.length === 0 ? undefined : new arrow.Table(all)
}

function sortedCells(table: arrow.Table | undefined): unknown[][] {
  if (!table) return []
  const key = (row: unknown[]) =>
    row.map((v) =>
      typeof v === 'bigint'
        ? `${v < 0n ? '-' : '+'}${(v < 0n ? -v : v).toString().padStart(24, '0')}`
        : String(v),
    )
  return tableCells(table).sort((a, b) => {
    const x = key(a)
    const y = key(b)
    for (let i = 0; i < x.length; i++) {
      if ((x[i] as string) < (y[i] as string)) return -1
      if ((x[i] as string) > (y[i] as string)) return 1
    }
    return 0
  })
}

async function runPull(
  store: OfflineStore,
  source: SourceSpec,
  c: PullCase,
): Promise<arrow.Table | undefined> {
  const view = viewSpecs([c.view], [source]).get(c.view.name)!
  const joinKeys = c.entities
    .filter((e) => c.view.entities.includes(e.name))
    .flatMap((e) => e.joinKeys)
  const request: PullRequest = {
    view,
    joinKeys,
    features: c.features,
    start: parseTime(c.start),
    end: parseTime(c.end),
  }
  return collect(c.method === 'pullLatest' ? store.pullLatest(request) : store.pullAll(request))
}

/** An offline write case: a source, a batch to write, the retrieval that must see it. */
interface OfflineWriteCase {
  name: string
  /** The rows written (larder names), or a batch that must fail. */
  batch: arrow.Table
  fails: boolean
  /** Retrieval before and after: the expected `trips` per entity row. */
  before: unknown[][]
  after: unknown[][]
}

/** The offline-write cases (SEMANTICS.md, "Push and direct writes"). */
export function offlineWriteCases(): OfflineWriteCase[] {
  const before = [
    [1n, at(15), 10n],
    [1n, at(25), 21n],
    [3n, at(25), null],
  ]
  return [
    {
      name: 'rows written offline are seen by the next historical retrieval',
      batch: literalTable({
        driver_id: ['int64', [1, 3]],
        event_timestamp: [TS, [at(24), at(22)]],
        created: [TS, [at(24), at(22)]],
        trips: ['int64', [24, 322]],
        rate: ['float64', [0.24, 3.22]],
      }),
      fails: false,
      before,
      after: [
        [1n, at(15), 10n],
        [1n, at(25), 24n],
        [3n, at(25), 322n],
      ],
    },
    {
      name: 'a write that fails leaves nothing behind',
      // The last row's trips cannot be stored in the source's int64 column.
      batch: literalTable({
        driver_id: ['int64', [1, 3]],
        event_timestamp: [TS, [at(24), at(22)]],
        created: [TS, [at(24), at(22)]],
        trips: ['string', ['24', 'not a number']],
        rate: ['float64', [0.24, 3.22]],
      }),
      fails: true,
      before,
      after: before,
    },
  ]
}

async function runOfflineWriteCase(
  store: OfflineStore,
  options: OfflineStoreConformanceOptions,
  c: OfflineWriteCase,
  ctx: LoadContext,
): Promise<void> {
  const view: CaseView = {
    name: 'driver_stats',
    entities: ['driver'],
    features: [
      { name: 'trips', valueType: 'int64' },
      { name: 'rate', valueType: 'float64' },
    ],
    timestampField: 'event_timestamp',
    createdTimestampColumn: 'created',
    table: literalTable({
      driver_id: ['int64', [1, 1, 1]],
      event_timestamp: [TS, [at(10), at(20), at(20)]],
      created: [TS, [at(0), at(2), at(1)]],
      trips: ['int64', [10, 21, 20]],
      rate: ['float64', [0.1, 0.21, 0.2]],
    }),
  }
  const name = `${ctx.caseId}_${view.name}`
  const source = await options.loadSource(name, view.table, sourceFields(name, view), ctx)
  const views = viewSpecs([view], [source])
  const entityTable = literalTable({
    driver_id: ['int64', [1, 1, 3]],
    event_timestamp: [TS, [at(15), at(25), at(25)]],
  })
  const historical: HistoricalCase = {
    name: c.name,
    rule: 'offline writes',
    entities: [driver],
    views: [view],
    entityTable,
    features: ['driver_stats:trips'],
  }
  const retrieve = async () => {
    const entity = options.entityTable
      ? await options.entityTable(entityTable, ctx)
      : ({ kind: 'arrow', table: entityTable } as const)
    const job = await store.getHistoricalFeatures(entity, planFor(historical, views))
    return tableCells(await job.toArrow())
  }
  expect(await retrieve()).toEqual(c.before)
  const write = store.writeBatch?.(source, c.batch) as Promise<void>
  if (c.fails) {
    const err = await write.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isLarderError(err), `the write must fail with a LarderError, got ${String(err)}`).toBe(
      true,
    )
  } else {
    await write
  }
  expect(await retrieve()).toEqual(c.after)
}

let suiteCounter = 0

/**
 * Registers the offline conformance suite (vitest `describe`/`test`) for one backend.
 *
 * @example
 * offlineStoreConformance({ name: 'memory', createStore: () => store, loadSource: (name, table, fields) => {
 *   store.register(name, table); return { kind: 'memory', table: name, ...fields }
 * } })
 */
export function offlineStoreConformance(options: OfflineStoreConformanceOptions): void {
  const timeout = options.timeoutMs ?? 60_000
  const skip = new Set(options.skip ?? [])
  const suite = ++suiteCounter
  let store: OfflineStore
  let dir: string
  let counter = 0
  const nextContext = (): LoadContext => {
    const caseId = `s${suite}_c${++counter}`
    const caseDir = join(dir, caseId)
    return { dir: mkdtempSync(`${caseDir}-`), caseId }
  }

  describe(`offline store conformance: ${options.name}`, () => {
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'larder-offline-conformance-'))
      store = await options.createStore()
      store.configure({ project: `conformance_${suite}`, repoPath: dir, logger: noopLogger })
    }, timeout)
    afterAll(async () => {
      await store?.close()
      if (dir) rmSync(dir, { recursive: true, force: true })
    }, timeout)

    describe('point-in-time join (hand-checked cases)', () => {
      for (const c of historicalCases()) {
        test.skipIf(skip.has(c.name))(
          c.name,
          async () => {
            const got = await runOnStore(store, options, c, nextContext())
            const reason = checkOutcome(c, got, await runReference(c))
            expect(reason, `${c.rule}\n${reason ?? ''}`).toBeUndefined()
          },
          timeout,
        )
      }
    })

    describe('entity tables in the forms the store declares (store.capabilities)', () => {
      const forms = [
        ['file', 'fileEntityTable'],
        ['sql', 'sqlEntityTable'],
        ['table', 'tableEntityTable'],
      ] as const
      for (const [form, capability] of forms) {
        test(
          `${form} entity tables (${capability})`,
          async (t) => {
            if (store.capabilities[capability] !== true) {
              t.skip(`the store does not declare ${capability}`)
              return
            }
            const adapter = options.entityTables?.[form]
            expect(
              adapter,
              `the store declares ${capability}: give entityTables.${form} to offlineStoreConformance`,
            ).toBeDefined()
            for (const c of historicalCases()) {
              if (skip.has(c.name)) continue
              const got = await runOnStore(
                store,
                { ...options, entityTable: adapter },
                c,
                nextContext(),
              )
              const reason = checkOutcome(c, got, await runReference(c))
              expect(
                reason,
                `${form} entity table, ${c.name}\n${c.rule}\n${reason ?? ''}`,
              ).toBeUndefined()
            }
          },
          timeout * 4,
        )
      }
    })

    describe('offline writes (store.capabilities.offlineWrite)', () => {
      for (const c of offlineWriteCases()) {
        test(
          c.name,
          async (t) => {
            if (store.capabilities.offlineWrite !== true || !store.writeBatch) {
              t.skip('the store does not declare offlineWrite')
              return
            }
            await runOfflineWriteCase(store, options, c, nextContext())
          },
          timeout,
        )
      }
    })

    describe.skipIf(options.capabilities?.realData === false)('real data', () => {
      const c = creditScoringCase()
      test.skipIf(skip.has(c.name))(
        c.name,
        async () => {
          const got = await runOnStore(store, options, c, nextContext())
          const reason = checkOutcome(c, got, await runReference(c))
          expect(reason, `${c.rule}\n${reason ?? ''}`).toBeUndefined()
        },
        timeout * 4,
      )
    })

    describe.skipIf(options.capabilities?.pull === false)(
      'pullLatest / pullAll (hand-checked cases)',
      () => {
        for (const c of pullCases()) {
          test.skipIf(skip.has(c.name))(
            c.name,
            async () => {
              const ctx = nextContext()
              const name = `${ctx.caseId}_${c.view.name}`
              const source = await options.loadSource(
                name,
                c.view.table,
                sourceFields(name, c.view),
                ctx,
              )
              const table = await runPull(store, source, c)
              const cells = sortedCells(table)
              const diff = rowsDifference(cells, c.rows)
              expect(
                diff,
                `${c.rule}\n${diff ?? ''}${table ? `\n${describeTable(table)}` : ''}`,
              ).toBeUndefined()
              const reference = memoryOfflineStore().register('t', c.view.table)
              const refTable = await runPull(
                reference,
                { kind: 'memory', table: 't', ...sourceFields('t', c.view) },
                c,
              )
              if (table && refTable) {
                expect(table.schema.fields.map((f) => `${f.name}: ${String(f.type)}`)).toEqual(
                  refTable.schema.fields.map((f) => `${f.name}: ${String(f.type)}`),
                )
              }
            },
            timeout,
          )
        }
      },
    )

    describe.skipIf(options.capabilities?.properties === false)(
      'randomized cases against the naive oracle',
      () => {
        const runs = propertyRuns(options.propertyRuns ?? 1000)
        test(
          `${runs} random cases (seed ${propertySeed()})`,
          async () => {
            await fc.assert(
              fc.asyncProperty(randomCaseArbitrary, async (raw) => {
                const c = toHistoricalCase(normalizeTies(raw))
                const got = await runOnStore(store, options, c, nextContext())
                const reason = checkOutcome(c, got, await runReference(c))
                if (reason) throw new Error(reason)
              }),
              { numRuns: runs, seed: propertySeed(), endOnFailure: false },
            )
          },
          Math.max(timeout, runs * 200),
        )
      },
    )
  })
}
