import { defineConfig } from 'vitest/config'

export default defineConfig({
  // The opt-in run against real BigQuery has its own config (pnpm test:real).
  test: { exclude: ['**/node_modules/**', 'test/real/**'], testTimeout: 30_000 },
})
