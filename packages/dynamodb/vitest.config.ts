import { defineConfig } from 'vitest/config'

export default defineConfig({
  // dynalite runs in the test process: on a busy 2-core machine a case can take seconds.
  test: { globalSetup: ['./test/global-setup.ts'], testTimeout: 30_000 },
})
