import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  type SchemaRegistryEmulator,
  startSchemaRegistryEmulator,
} from '../src/schema-registry/index.js'

const AVRO = JSON.stringify({
  type: 'record',
  name: 'Trip',
  fields: [{ name: 'driver_id', type: 'long' }],
})
const PROTO = 'syntax = "proto3";\nmessage Trip { int64 driver_id = 1; }\n'

let registry: SchemaRegistryEmulator

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(registry.url + path, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

beforeAll(async () => {
  registry = await startSchemaRegistryEmulator()
})
afterAll(async () => {
  await registry.close()
})

describe('Schema Registry stand-in over plain HTTP', () => {
  test('registers versions under a subject and serves them by id and version', async () => {
    const v1 = await call('POST', '/subjects/trips-value/versions', { schema: AVRO })
    expect(v1).toEqual({ status: 200, body: { id: expect.any(Number) } })
    const id = v1.body.id as number
    // Registering the same schema again keeps its id and adds no version.
    expect((await call('POST', '/subjects/trips-value/versions', { schema: AVRO })).body).toEqual({
      id,
    })
    const v2 = await call('POST', '/subjects/trips-value/versions', {
      schema: PROTO,
      schemaType: 'PROTOBUF',
    })
    expect(v2.body.id).not.toBe(id)

    expect(await call('GET', `/schemas/ids/${id}`)).toEqual({ status: 200, body: { schema: AVRO } })
    expect((await call('GET', `/schemas/ids/${v2.body.id}`)).body).toEqual({
      schema: PROTO,
      schemaType: 'PROTOBUF',
    })
    expect((await call('GET', '/subjects/trips-value/versions/latest')).body).toEqual({
      subject: 'trips-value',
      version: 2,
      id: v2.body.id,
      schema: PROTO,
      schemaType: 'PROTOBUF',
    })
    expect((await call('GET', '/subjects/trips-value/versions/1')).body).toMatchObject({
      version: 1,
      id,
    })
    expect((await call('GET', '/subjects/trips-value/versions')).body).toEqual([1, 2])
    expect(registry.count('GET', `/schemas/ids/${id}`)).toBe(1)
  })

  test('answers with Confluent error codes', async () => {
    expect(await call('GET', '/schemas/ids/999')).toEqual({
      status: 404,
      body: { error_code: 40403, message: 'Schema not found' },
    })
    expect((await call('GET', '/subjects/nope/versions/latest')).body.error_code).toBe(40401)
    await call('POST', '/subjects/one-value/versions', { schema: AVRO })
    expect((await call('GET', '/subjects/one-value/versions/7')).body.error_code).toBe(40402)
    expect((await call('GET', '/subjects/one-value/versions/x')).body.error_code).toBe(42202)
    const bad = await call('POST', '/subjects/one-value/versions', { schema: '{not json' })
    expect(bad.status).toBe(422)
    expect(bad.body.error_code).toBe(42201)
  })

  test('keeps references and rejects references to missing versions', async () => {
    const dep = 'syntax = "proto3";\npackage common;\nmessage Money { int64 cents = 1; }\n'
    await call('POST', '/subjects/money.proto/versions', { schema: dep, schemaType: 'PROTOBUF' })
    const references = [{ name: 'money.proto', subject: 'money.proto', version: 1 }]
    const main = await call('POST', '/subjects/orders-value/versions', {
      schema:
        'syntax = "proto3";\nimport "money.proto";\nmessage Order { common.Money total = 1; }\n',
      schemaType: 'PROTOBUF',
      references,
    })
    expect((await call('GET', `/schemas/ids/${main.body.id}`)).body.references).toEqual(references)
    const missing = await call('POST', '/subjects/x-value/versions', {
      schema: PROTO,
      schemaType: 'PROTOBUF',
      references: [{ name: 'a.proto', subject: 'a.proto', version: 3 }],
    })
    expect(missing.body.error_code).toBe(42201)
  })

  test('requires basic credentials when configured', async () => {
    const locked = await startSchemaRegistryEmulator({
      basicAuth: { username: 'key', password: 'secret' },
    })
    try {
      const denied = await fetch(`${locked.url}/subjects`)
      expect(denied.status).toBe(401)
      expect(await denied.json()).toEqual({ error_code: 401, message: 'Unauthorized' })
      const allowed = await fetch(`${locked.url}/subjects`, {
        headers: { authorization: `Basic ${Buffer.from('key:secret').toString('base64')}` },
      })
      expect(allowed.status).toBe(200)
    } finally {
      await locked.close()
    }
  })

  test('`pnpm emulator schema-registry` prints its address and serves', async () => {
    const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
    const child = spawn(process.execPath, [cli, 'schema-registry', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      const [chunk] = (await once(child.stdout, 'data')) as [Buffer]
      const m = /^listening on 127\.0\.0\.1:(\d+)\n$/.exec(chunk.toString())
      expect(m).not.toBeNull()
      const res = await fetch(`http://127.0.0.1:${m?.[1]}/subjects`)
      expect(await res.json()).toEqual([])
    } finally {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
  })
})
