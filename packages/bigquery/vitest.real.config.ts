import { defineConfig } from 'vitest/config'

// The opt-in run against real BigQuery (pnpm --filter @larder/bigquery test:real); never part
// of `pnpm test`, so CI neither runs nor counts it.
export default defineConfig({
  test: { include: ['test/real/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000 },
})
