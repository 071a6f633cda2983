/**
 * The Redshift store's own rules on the Data API stand-in: configuration errors, a FAILED
 * statement carries Redshift's message and names the statement, unsupported value types are
 * refused before any SQL, abort cancels the running statement, and an unreachable endpoint is
 * BACKEND_UNAVAILABLE.
 */
import { isLarderError } from '@larder/core'
import { afterAll, describe, expect, test } from 'vitest'
import {
  type DataApi,
  redshiftDialect,
  redshiftOfflineStore,
  redshiftSource,
} from '../src/index.js'
import { postgres, useEmulator } from './emulator.js'

describe('redshift store configuration', () => {
  test('a database and exactly one of workgroupName and clusterIdentifier are required', () => {
    expect(() => redshiftOfflineStore({ database: '' })).toThrow(/needs a database/)
    expect(() => redshiftOfflineStore({ database: 'dev' })).toThrow(/exactly one of workgroupName/)
    expect(() =>
      redshiftOfflineStore({ database: 'dev', workgroupName: 'a', clusterIdentifier: 'b' }),
    ).toThrow(/exactly one/)
    expect(() => redshiftOfflineStore({ database: 'dev', clusterIdentifier: 'c' })).toThrow(
      /dbUser or secretArn/,
    )
  })

  test('sources need exactly one of table and query; schema goes with table', () => {
    expect(() => redshiftSource({ name: 's', timestampField: 'ts' })).toThrow(
      /exactly one of 'table' and 'query'/,
    )
    expect(() =>
      redshiftSource({ name: 's', table: 't', query: 'SELECT 1', timestampField: 'ts' }),
    ).toThrow(/exactly one/)
    expect(() =>
      redshiftSource({ name: 's', query: 'SELECT 1', schema: 'x', timestampField: 'ts' }),
    ).toThrow(/goes with 'table'/)
    expect(redshiftSource({ name: 's', table: 'public.t', timestampField: 'ts' }).table).toBe(
      'public.t',
    )
  })

  test('bytes and arrays are refused with a clear error', () => {
    expect(() => redshiftDialect.typeName('bytes')).toThrow(/no column type for Larder's bytes/)
    expect(() => redshiftDialect.typeName('array<int64>')).toThrow(/SUPER/)
  })

  test('an unreachable endpoint is BACKEND_UNAVAILABLE', async () => {
    const store = redshiftOfflineStore({
      database: 'dev',
      workgroupName: 'wg',
      endpoint: 'http://127.0.0.1:9',
    })
    const source = redshiftSource({ name: 's', table: 't', timestampField: 'ts' })
    const err = await store.sourceSchema(source).catch((e: unknown) => e)
    expect(isLarderError(err, 'BACKEND_UNAVAILABLE'), String(err)).toBe(true)
    await store.close()
  }, 60_000)
})

describe.skipIf(!postgres.available)('redshift store on the stand-in', async () => {
  const { store: makeStore } = await useEmulator()
  const store = makeStore()
  afterAll(() => store.close())
  const api = async (): Promise<DataApi> =>
    (await (store as unknown as { runner(): Promise<{ api: DataApi }> }).runner()).api

  test("a FAILED statement names it and carries Redshift's message", async () => {
    const source = redshiftSource({ name: 'missing', table: 'no_such_table', timestampField: 'ts' })
    const err = await store.sourceSchema(source).catch((e: unknown) => e)
    expect(isLarderError(err)).toBe(true)
    expect((err as Error).message).toMatch(
      /statement [0-9a-f-]{36} failed: .*no_such_table.*does not exist/,
    )
  })

  test('abort cancels the running statement', async () => {
    const a = await api()
    const controller = new AbortController()
    const running = a.run(
      ['SELECT count(*) FROM generate_series(1, 50000000)'],
      [],
      controller.signal,
    )
    setTimeout(() => controller.abort(new Error('stop')), 200)
    await expect(running).rejects.toThrow(/stop/)
  })
})
