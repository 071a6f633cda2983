/**
 * The Redshift Data API stand-in of tooling/emulators (PostgreSQL behind the Data API),
 * started in-process on a loopback port for a test file, with a guard proving that nothing
 * but loopback was reached.
 */
import {
  type RedshiftEmulator,
  recordOutboundConnections,
  startRedshiftEmulator,
} from '@larder/emulators'
import { findPostgres } from '@larder/testing'
import { afterAll, expect } from 'vitest'
import { type RedshiftOfflineStoreOptions, redshiftOfflineStore } from '../src/index.js'

/** The PostgreSQL the stand-in runs on (CI requires it; elsewhere the tests skip loudly). */
export const postgres = await findPostgres()

/**
 * Starts the stand-in for this test file (closed after it) and returns it with a factory of
 * stores pointed at it: the official client, loopback, dummy credentials.
 */
export async function useEmulator(): Promise<{
  emulator: RedshiftEmulator
  store: (options?: Partial<RedshiftOfflineStoreOptions>) => ReturnType<typeof redshiftOfflineStore>
}> {
  const connections = recordOutboundConnections()
  const emulator = await startRedshiftEmulator({
    ...(postgres.available ? { postgresUrl: postgres.url } : {}),
  })
  afterAll(async () => {
    connections.restore()
    await emulator.close()
    expect(connections.nonLoopback()).toEqual([])
  })
  return {
    emulator,
    store: (options = {}) =>
      redshiftOfflineStore({
        database: 'dev',
        workgroupName: 'wg',
        endpoint: emulator.endpoint,
        pollIntervalMs: 5,
        maxPollIntervalMs: 50,
        ...options,
      }),
  }
}
