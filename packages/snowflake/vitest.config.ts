import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // snowflake-sdk probes cloud metadata addresses (169.254.169.254) when it is first
    // loaded unless this is set: set before any test module loads it, so tests reach only
    // loopback.
    env: { SNOWFLAKE_DISABLE_PLATFORM_DETECTION: 'true' },
    testTimeout: 30_000,
  },
})
