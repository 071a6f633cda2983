/**
 * The Snowflake store's own rules: configuration errors, arrays refused before any SQL, a
 * failed statement carries Snowflake's code and SQLSTATE. (A failed login cannot be tested
 * here: the stand-in takes any credentials, and an unreachable endpoint makes snowflake-sdk
 * probe a cloud metadata address, which tests must never reach.)
 */
import { isLarderError } from '@larder/core'
import { afterAll, describe, expect, test } from 'vitest'
import { snowflakeDialect, snowflakeOfflineStore, snowflakeSource } from '../src/index.js'
import { useEmulator } from './emulator.js'

const { store: makeStore } = await useEmulator()

describe('snowflake store', () => {
  const store = makeStore()
  afterAll(() => store.close())

  test('account, username, database, schema and a credential are required', () => {
    const base = { account: 'a', username: 'u', password: 'p', database: 'D', schema: 'S' }
    expect(() => snowflakeOfflineStore({ ...base, account: '' })).toThrow(/needs account/)
    expect(() => snowflakeOfflineStore({ ...base, schema: '' })).toThrow(/needs schema/)
    const { password: _, ...noCredential } = base
    expect(() => snowflakeOfflineStore(noCredential)).toThrow(
      /password, privateKey or authenticator/,
    )
  })

  test('sources: one of table and query; up to DATABASE.SCHEMA.TABLE', () => {
    expect(() => snowflakeSource({ name: 's', timestampField: 'ts' })).toThrow(/exactly one/)
    expect(() => snowflakeSource({ name: 's', table: 'A.B.C.D', timestampField: 'ts' })).toThrow(
      /DATABASE.SCHEMA.TABLE/,
    )
    expect(snowflakeSource({ name: 's', table: 'DB.PUBLIC.T', timestampField: 'ts' }).table).toBe(
      'DB.PUBLIC.T',
    )
  })

  test('arrays are refused with a clear error', () => {
    expect(() => snowflakeDialect.typeName('array<int64>')).toThrow(/ARRAY\/VARIANT/)
  })

  test("a failed statement carries Snowflake's message, code and SQLSTATE", async () => {
    const source = snowflakeSource({
      name: 'missing',
      table: 'NO_SUCH_TABLE',
      timestampField: 'ts',
    })
    const err = await store.sourceSchema(source).catch((e: unknown) => e)
    expect(isLarderError(err)).toBe(true)
    expect((err as Error).message).toMatch(
      /NO_SUCH_TABLE.*does not exist.*code 002003, SQLSTATE 42S02/s,
    )
  })
})
