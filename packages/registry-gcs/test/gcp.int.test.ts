// Opt-in: the registry store conformance suite against real Google Cloud Storage. Runs only
// with LARDER_TEST_GCS_URL=gs://bucket/prefix (a bucket you own; objects are written under
// the prefix) and Application Default Credentials, and never in CI (CI set).
import { randomUUID } from 'node:crypto'
import { registryStoreConformance } from '@larder/testing'
import { describe, test } from 'vitest'
import { gcsRegistry } from '../src/index.js'

const env = process.env
const prefix = env.LARDER_TEST_GCS_URL?.replace(/\/$/, '')

if (env.CI) {
  describe('real GCS', () => {
    test.skip('skipped: never run in CI (it needs real Google Cloud credentials and a bucket)', () => {})
  })
} else if (!prefix) {
  describe('real GCS', () => {
    test.skip('skipped: opt-in, set LARDER_TEST_GCS_URL=gs://bucket/prefix (Application Default Credentials) to run the registry suite against real GCS', () => {})
  })
} else {
  registryStoreConformance({
    name: `gcs (${prefix})`,
    newLocation: () => `${prefix}/larder-test-${randomUUID()}/registry.json`,
    open: (url) => gcsRegistry(url),
  })
}
