// The PostgreSQL registry store on the local PostgreSQL: the registry store conformance suite
// (each location is a project row in a table of this run), a table per schema, errors.
import { randomUUID } from 'node:crypto'
import { isLarderError } from '@larder/core'
import {
  type FoundService,
  findPostgres,
  registryApplyRace,
  registryStoreConformance,
} from '@larder/testing'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { maskPostgresUrl, postgresRegistry } from '../src/index.js'

const pgService: FoundService = await findPostgres()
const url = pgService.available ? pgService.url : ''
const table = `larder_registry_test_${randomUUID().slice(0, 8)}`

afterAll(async () => {
  if (!pgService.available) return
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query(`DROP TABLE IF EXISTS ${table}`)
  await client.query('DROP SCHEMA IF EXISTS larder_reg_schema_test CASCADE')
  await client.end()
  await pgService.stop()
})

describe.skipIf(!pgService.available)('postgres registry store', () => {
  registryStoreConformance({
    name: 'postgres',
    newLocation: () => `p_${randomUUID().replaceAll('-', '')}`,
    open: (project) => postgresRegistry({ url, table, project }),
  })

  let schemaStore: ReturnType<typeof postgresRegistry>
  beforeAll(async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client.query('CREATE SCHEMA IF NOT EXISTS larder_reg_schema_test')
    await client.end()
    schemaStore = postgresRegistry(`${url}?table=larder_reg_schema_test.registry&project=p1`)
  })
  afterAll(async () => {
    await schemaStore?.close()
  })

  it('takes table and project from the URL; a schema-qualified table works', async () => {
    const v = await schemaStore.write('{"a":1}', undefined)
    expect(await schemaStore.read()).toEqual({ text: '{"a":1}', version: v })
    expect(schemaStore.location).toContain('larder_reg_schema_test.registry')
  })

  it('the project comes from configure() when the URL has none; a second configure keeps it', async () => {
    const store = postgresRegistry({ url, table })
    await expect(store.read()).rejects.toThrow(/no project/)
    const project = `cfg_${randomUUID().slice(0, 8)}`
    store.configure({ project })
    store.configure({ project: 'other' })
    await store.write('{}', undefined)
    const again = postgresRegistry({ url, table, project })
    expect((await again.read())?.text).toBe('{}')
    await Promise.all([store.close(), again.close()])
  })

  it('the row is replaced in place: the table does not grow with writes', async () => {
    const project = `grow_${randomUUID().slice(0, 8)}`
    const store = postgresRegistry({ url, table, project })
    let v = await store.write('{"n":0}', undefined)
    for (let i = 1; i <= 50; i++) v = await store.write(`{"n":${i}}`, v)
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM ${table} WHERE project = $1`,
      [project],
    )
    await client.end()
    expect(rows[0].n).toBe(1)
    expect(v).toBe('51')
    await store.close()
  })

  it('an unreachable server is BACKEND_UNAVAILABLE naming the location without the password', async () => {
    const store = postgresRegistry({ url: 'postgres://u:secret@127.0.0.1:9/db', project: 'x' })
    const err = await store.read().catch((e: unknown) => e)
    expect(isLarderError(err, 'BACKEND_UNAVAILABLE')).toBe(true)
    expect((err as Error).message).toContain('127.0.0.1:9')
    expect((err as Error).message).not.toContain('secret')
    await store.close()
  })

  it('hostile table names are refused or quoted, never run as SQL', async () => {
    expect(() => postgresRegistry({ url, table: 'a\u0000b', project: 'x' })).toThrow(
      /control character/,
    )
    const store = postgresRegistry({ url, table: `weird"; DROP TABLE ${table}; --`, project: 'x' })
    await store.write('{}', undefined)
    expect((await store.read())?.text).toBe('{}')
    await store.delete()
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client.query(`DROP TABLE IF EXISTS "weird""; DROP TABLE ${table}; --"`)
    await client.end()
    await store.close()
  })

  it('two machines applying at once: one wins, the other gets REGISTRY_CONFLICT, nothing is lost', async () => {
    const arg = { url, table, project: `race_${randomUUID().slice(0, 8)}` }
    const outcomes = await registryApplyRace({
      moduleUrl: new URL('../dist/index.js', import.meta.url).href,
      factory: 'postgresRegistry',
      arg,
      project: 'race',
    })
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1)
    expect(outcomes.find((o) => !o.ok)?.code).toBe('REGISTRY_CONFLICT')
    const winner = outcomes[0]?.ok ? 'view_a' : 'view_b'
    const store = postgresRegistry(arg)
    const data = JSON.parse((await store.read())?.text ?? '{}')
    await store.close?.()
    expect(data.version).toBe(1)
    expect(data.featureViews.map((v: { name: string }) => v.name)).toEqual([winner])
  }, 30_000)

  it('masks passwords in URLs', () => {
    expect(maskPostgresUrl('postgres://u:pw@h:5/d?x=1')).toBe('postgres://u:***@h:5/d')
  })
})
