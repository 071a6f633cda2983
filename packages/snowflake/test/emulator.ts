/**
 * The Snowflake stand-in of tooling/emulators (DuckDB behind Snowflake's protocol), started
 * in-process on a loopback port for a test file, with a guard proving that nothing but
 * loopback was reached.
 */
import {
  recordOutboundConnections,
  type SnowflakeEmulator,
  startSnowflakeEmulator,
} from '@larder/emulators'
import { afterAll, expect } from 'vitest'
import { type SnowflakeOfflineStoreOptions, snowflakeOfflineStore } from '../src/index.js'

// The driver must never probe cloud metadata endpoints from tests: vitest.config.ts sets
// SNOWFLAKE_DISABLE_PLATFORM_DETECTION before any module loads it; check it did.
if (process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION !== 'true') {
  throw new Error('SNOWFLAKE_DISABLE_PLATFORM_DETECTION must be true (see vitest.config.ts)')
}

/**
 * Starts the stand-in for this test file (closed after it) and returns it with a factory of
 * stores pointed at it: the official driver, loopback, any credentials.
 */
export async function useEmulator(): Promise<{
  emulator: SnowflakeEmulator
  store: (
    options?: Partial<SnowflakeOfflineStoreOptions>,
  ) => ReturnType<typeof snowflakeOfflineStore>
}> {
  const connections = recordOutboundConnections()
  const emulator = await startSnowflakeEmulator()
  afterAll(async () => {
    connections.restore()
    await emulator.close()
    expect(connections.nonLoopback()).toEqual([])
  })
  return {
    emulator,
    store: (options = {}) =>
      snowflakeOfflineStore({
        account: 'emulator',
        username: 'larder',
        password: 'not-checked',
        database: 'LARDER',
        schema: 'PUBLIC',
        accessUrl: emulator.url,
        ...options,
      }),
  }
}
