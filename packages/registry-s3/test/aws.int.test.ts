// Opt-in: the registry store conformance suite against real S3. Runs only with
// LARDER_TEST_S3_URL=s3://bucket/prefix (a bucket you own; objects are written under the
// prefix and deleted) and AWS credentials in the environment (AWS default chain, AWS_REGION),
// and never in CI (CI set).
import { randomUUID } from 'node:crypto'
import { registryStoreConformance } from '@larder/testing'
import { describe, test } from 'vitest'
import { s3Registry } from '../src/index.js'

const env = process.env
const prefix = env.LARDER_TEST_S3_URL?.replace(/\/$/, '')

if (env.CI) {
  describe('real S3', () => {
    test.skip('skipped: never run in CI (it needs real AWS credentials and a bucket)', () => {})
  })
} else if (!prefix || !env.AWS_REGION) {
  describe('real S3', () => {
    test.skip('skipped: opt-in, set LARDER_TEST_S3_URL=s3://bucket/prefix and AWS_REGION (credentials from the AWS default chain) to run the registry suite against real S3', () => {})
  })
} else {
  registryStoreConformance({
    name: `s3 on AWS (${prefix})`,
    newLocation: () => `${prefix}/larder-test-${randomUUID()}/registry.json`,
    open: (url) => s3Registry({ url, region: env.AWS_REGION }),
  })
}
