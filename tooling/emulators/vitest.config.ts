import { defineConfig } from 'vitest/config'

export default defineConfig({
  // Stand-ins serve real clients over loopback: a case that takes a second alone can take
  // several on a loaded 2-core machine. Cases that need longer say so themselves.
  test: { testTimeout: 30_000 },
})
