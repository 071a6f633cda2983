/**
 * A dynalite server in this process on 127.0.0.1 (random port), and clients configured so
 * that the SDK only ever talks to it: explicit endpoint, region and dummy credentials (no
 * instance-metadata probe), plain HTTP/1.1 handler.
 */
import { type AddressInfo, Socket } from 'node:net'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import dynalite from 'dynalite'
import { afterAll, expect } from 'vitest'
import { type DynamodbOnlineStoreOptions, dynamodbOnlineStore } from '../src/index.js'

/**
 * Guard: any socket to another host than loopback fails the test run loudly (the SDK must
 * never reach AWS or the instance-metadata address 169.254.169.254 from these tests).
 */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])
/** Hosts the code under test tried to reach (the SDK may wrap the thrown error). */
export const foreignConnections: string[] = []
const realConnect = Socket.prototype.connect
Socket.prototype.connect = function guardedConnect(this: Socket, ...args: unknown[]) {
  // net.createConnection() passes its normalized arguments as one array.
  if (Array.isArray(args[0])) args = args[0] as unknown[]
  const first = args[0]
  const host =
    typeof first === 'object' && first !== null
      ? (first as { host?: string; path?: string | null }).path == null
        ? ((first as { host?: string }).host ?? 'localhost')
        : '127.0.0.1'
      : typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))
        ? (args[1] as string | undefined)
        : '127.0.0.1' // a Unix socket path
  if (host !== undefined && typeof host === 'string' && !LOOPBACK.has(host)) {
    foreignConnections.push(host)
    throw new Error(`test tried to connect to ${host}: only 127.0.0.1 is allowed`)
  }
  return (realConnect as (...a: unknown[]) => Socket).apply(this, args)
} as typeof Socket.prototype.connect

afterAll(() => {
  expect(foreignConnections, 'connections to hosts other than loopback').toEqual([])
})

export interface LocalDynamo {
  endpoint: string
  /** Store options pointing at this server (a fresh object on each access). */
  options: DynamodbOnlineStoreOptions
  /** A new client for this server. */
  client(): DynamoDBClient
  close(): Promise<void>
}

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' }

/** Starts dynalite on 127.0.0.1, port 0; tables change state at once unless `delays` say otherwise. */
export async function startDynalite(
  delays: { createTableMs?: number; deleteTableMs?: number } = {},
): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...delays })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const endpoint = `http://127.0.0.1:${port}`
  return {
    endpoint,
    // A new object (and HTTP handler) each time: a store's close() destroys its handler.
    get options(): DynamodbOnlineStoreOptions {
      return {
        endpoint,
        region: 'us-east-1',
        credentials: LOCAL_CREDENTIALS,
        clientConfig: { requestHandler: new NodeHttpHandler() },
      }
    },
    client: () =>
      new DynamoDBClient({
        endpoint,
        region: 'us-east-1',
        credentials: LOCAL_CREDENTIALS,
        requestHandler: new NodeHttpHandler(),
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A store on the given server. */
export function localStore(local: LocalDynamo, extra: DynamodbOnlineStoreOptions = {}) {
  return dynamodbOnlineStore({ ...local.options, ...extra })
}
