/**
 * Hostile identifiers and values through the Redshift store on the Data API stand-in: names
 * are double-quoted, string literals double quotes and backslashes, time bounds travel as
 * `:pN` parameters. The result equals the in-memory engine and a table named in the attack is
 * intact.
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
import { type DataApi, redshiftSource, redshiftStringLiteral } from '../src/index.js'
import { postgres, useEmulator } from './emulator.js'

const hostile = [
  'x"; drop table victim; --',
  "a'b",
  'select',
  'mixed case é',
  'back\\slash"',
  ':p1',
  '"',
  "\\'); drop table victim; --",
]
const values = ["v'1); DROP TABLE victim; --", 'v\\\\2', ':p1 ? $1', 'line\nbreak']

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

describe.skipIf(!postgres.available)(
  'hostile identifiers and values cannot inject SQL',
  async () => {
    const { store: makeStore } = await useEmulator()
    const store = makeStore()
    afterAll(() => store.close())
    const api = async (): Promise<DataApi> =>
      (await (store as unknown as { runner(): Promise<{ api: DataApi }> }).runner()).api
    await (await api()).run(['CREATE TABLE victim AS SELECT 1 AS n'], [])

    async function victimIntact(): Promise<void> {
      const a = await api()
      const id = await a.run(['SELECT n FROM victim'], [])
      for await (const page of a.pages(id)) expect(page.TotalNumRows).toBe(1)
    }

    test('a retrieval with hostile column, feature and view names equals the engine', async () => {
      const got = await runOnStore(
        store,
        {
          loadSource: async (name: string, table: arrow.Table, fields) => {
            await store.createTable([name.toLowerCase()], table)
            return { kind: 'redshift', table: name.toLowerCase(), ...fields }
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
      const source = redshiftSource({
        name: 'evil',
        table: '"victim; DROP TABLE victim; --"',
        timestampField: 'ts',
      })
      const err = await store.sourceSchema(source).catch((e: unknown) => e)
      expect(isLarderError(err), String(err)).toBe(true)
      expect(String((err as Error).message)).toMatch(/does not exist|not found/i)
      await victimIntact()
      expect(() =>
        redshiftSource({ name: 'bad', table: '"victim; --', timestampField: 'ts' }),
      ).toThrow(/is not a table name/)
    })

    test('hostile text in an entity SQL string literal stays a value', async () => {
      const text = "x\\'); DROP TABLE victim; --"
      const schema = await store.entityTableSchema({
        kind: 'sql',
        sql: `SELECT 1 AS "n", ${redshiftStringLiteral(text)} AS s`,
      })
      expect(schema.map((col) => col.name)).toEqual(['n', 's'])
      await victimIntact()
    })
  },
)
