/**
 * A dynalite server in this process on 127.0.0.1 (random port), and clients configured so
 * that the SDK only ever talks to it: explicit endpoint, region and dummy credentials (no
 * instance-metadata probe), plain HTTP/1.1 handler.
 */
import type { AddressInfo } from 'node:net'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import dynalite from 'dynalite'
import { type DynamodbOnlineStoreOptions, dynamodbOnlineStore } from '../src/index.js'

export interface LocalDynamo {
  endpoint: string
  /** Store options pointing at this server. */
  options: DynamodbOnlineStoreOptions
  /** A new client for this server. */
  client(): DynamoDBClient
  close(): Promise<void>
}

export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' }

/** Starts dynalite on 127.0.0.1, port 0. */
export async function startDynalite(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const endpoint = `http://127.0.0.1:${port}`
  const options: DynamodbOnlineStoreOptions = {
    endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
    clientConfig: { requestHandler: new NodeHttpHandler() },
  }
  return {
    endpoint,
    options,
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
