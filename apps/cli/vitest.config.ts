import { defineConfig } from 'vitest/config'

// CLI tests spawn the real executable (DuckDB start-up included): allow them time.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } })
