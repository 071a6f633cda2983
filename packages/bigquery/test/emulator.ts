/**
 * The BigQuery stand-in of tooling/emulators, started in-process on a loopback port for a
 * test file, with a guard proving that nothing but loopback was reached.
 */
import type { BigQuery } from '@google-cloud/bigquery'
import {
  type BigQueryEmulator,
  recordOutboundConnections,
  startBigQueryEmulator,
} from '@larder/emulators'
import { afterAll, expect } from 'vitest'
import { type BigQueryOfflineStoreOptions, bigqueryOfflineStore } from '../src/index.js'

/** The project every test uses (the stand-in has one namespace). */
export const PROJECT = 'larder-test'

/**
 * Starts the stand-in for this test file (closed after it) and returns it with a factory of
 * stores pointed at it: the official client, loopback, no credentials.
 */
export async function useEmulator(): Promise<{
  emulator: BigQueryEmulator
  store: (options?: Partial<BigQueryOfflineStoreOptions>) => ReturnType<typeof bigqueryOfflineStore>
}> {
  const connections = recordOutboundConnections()
  const emulator = await startBigQueryEmulator({ projectId: PROJECT })
  afterAll(async () => {
    connections.restore()
    await emulator.close()
    expect(connections.nonLoopback()).toEqual([])
  })
  return {
    emulator,
    store: (options = {}) =>
      bigqueryOfflineStore({
        projectId: PROJECT,
        dataset: 'larder_tmp',
        apiEndpoint: emulator.url,
        ...options,
      }),
  }
}

/**
 * The official client pointed at a stand-in: a fixed bearer token (its upload path needs an
 * auth header; nothing is fetched from Google), no project or credential lookup.
 */
export async function officialClient(apiEndpoint: string, projectId = PROJECT): Promise<BigQuery> {
  const { BigQuery: Client } = await import('@google-cloud/bigquery')
  return new Client({
    projectId,
    apiEndpoint,
    authClient: {
      getRequestHeaders: async () => new Headers({ authorization: 'Bearer stand-in' }),
      getAccessToken: async () => ({ token: 'stand-in' }),
    } as never,
  })
}
