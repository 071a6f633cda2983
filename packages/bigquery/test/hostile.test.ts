/**
 * Hostile identifiers and values through the BigQuery store on the stand-in: names are
 * backtick-quoted with escapes, values travel in load jobs and parameters, never in SQL text.
 * The result equals the in-memory engine and a table named in the attack is intact.
 */
import { isLarderError } from '@larder/core'
import {
  at,
  checkOutcome,
  type HistoricalCase,
  literalTable,
  runOnStore,
  runReference,
} from '@larder/testing'
import type * as arrow from 'apache-arrow'
import { afterAll, describe, expect, test } from 'vitest'
import { bigquerySource, bigqueryStringLiteral, quoteBigQueryIdentifier } from '../src/index.js'
import { PROJECT, useEmulator } from './emulator.js'

const { emulator, store: makeStore } = await useEmulator()
await emulator.query('CREATE SCHEMA hostile; CREATE TABLE hostile.victim AS SELECT 1 AS n')
const store = makeStore()
afterAll(() => store.close())

const hostile = [
  'x`; DROP TABLE hostile.victim; --',
  "a'b",
  'select',
  'Mixed Case é',
  'back\\slash`',
  '@p1',
  '"',
  "\\'); DROP TABLE hostile.victim; --",
]
const values = ["v'1); DROP TABLE hostile.victim; --", 'v\\`2', '@p1 ? $1', 'line\nbreak']

const c: HistoricalCase = {
  name: 'hostile names and values',
  rule: 'identifiers are quoted; values are never SQL',
  entities: [{ kind: 'entity', name: 'who', joinKeys: [hostile[0] as string], valueType: 'int64' }],
  views: [
    {
      name: hostile[1] as string,
      entities: ['who'],
      features: hostile.slice(2).map((name) => ({ name, valueType: 'string' as const })),
      timestampField: hostile[1] as string,
      table: literalTable({
        [hostile[0] as string]: ['int64', [1, 2]],
        [hostile[1] as string]: ['timestamp', [at(1), at(1)]],
        ...Object.fromEntries(
          hostile
            .slice(2)
            .map((n, i) => [n, ['string', [values[i % 4], values[(i + 1) % 4]]] as const]),
        ),
      }),
    },
  ],
  entityTable: literalTable({
    [hostile[0] as string]: ['int64', [2, 1, 3]],
    event_timestamp: ['timestamp', [at(2), at(2), at(2)]],
  }),
  features: [{ view: hostile[1] as string }],
  fullFeatureNames: false,
}

async function victimIntact(): Promise<void> {
  const rows = await emulator.query('SELECT n FROM hostile.victim')
  expect(rows.rows.map((r) => Number(r[0]))).toEqual([1])
}

describe('hostile identifiers and values cannot inject SQL', () => {
  test('a retrieval with hostile column, feature and view names equals the engine', async () => {
    const got = await runOnStore(
      store,
      {
        loadSource: async (name: string, table: arrow.Table, fields) => {
          await store.createTable(`hostile.${name}`, table)
          return { kind: 'bigquery', table: `${PROJECT}.hostile.${name}`, ...fields }
        },
      },
      c,
      { dir: '', caseId: 'hostile' },
    )
    expect(checkOutcome(c, got, await runReference(c))).toBeUndefined()
    expect('table' in got && got.table.numRows).toBe(3)
    await victimIntact()
  })

  test('a hostile source table name is one quoted name: not found, nothing dropped', async () => {
    const source = bigquerySource({
      name: 'evil',
      table: 'hostile.`victim; DROP TABLE hostile.victim; --`',
      timestampField: 'ts',
    })
    const err = await store.sourceSchema(source).catch((e: unknown) => e)
    expect(isLarderError(err, 'NOT_FOUND'), String(err)).toBe(true)
    await victimIntact()
    // A name that is not a name is refused when the source is defined.
    expect(() =>
      bigquerySource({ name: 'bad', table: 'hostile.`victim; --', timestampField: 'ts' }),
    ).toThrow(
      /table 'hostile.`victim; --' is not a table name \(relation name .* has an unclosed quote\)/,
    )
  })

  test('hostile text in an entity SQL string literal stays a value', async () => {
    const text = "x'); DROP TABLE hostile.victim; --"
    const schema = await store.entityTableSchema({
      kind: 'sql',
      sql: `SELECT 1 AS ${quoteBigQueryIdentifier(text)}, ${bigqueryStringLiteral(text)} AS s`,
    })
    expect(schema.map((c) => c.name)).toEqual([text, 's'])
    await victimIntact()
  })
})
