// Opt-in: the conformance suite against real DynamoDB. Runs only with LARDER_TEST_AWS=1,
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN if temporary) and
// AWS_REGION set, and never in CI (CI set). It creates and deletes tables named
// `larder-test-<run>_<n>.<view>` with PAY_PER_REQUEST billing; the large-batch case is left
// out to keep the bill at a few cents.
import { onlineStoreConformance } from '@larder/testing'
import { describe, test } from 'vitest'
import { dynamodbOnlineStore } from '../src/index.js'

const env = process.env
const missing = [
  env.LARDER_TEST_AWS === '1' ? undefined : 'LARDER_TEST_AWS=1',
  env.AWS_ACCESS_KEY_ID ? undefined : 'AWS_ACCESS_KEY_ID',
  env.AWS_SECRET_ACCESS_KEY ? undefined : 'AWS_SECRET_ACCESS_KEY',
  env.AWS_REGION ? undefined : 'AWS_REGION',
].filter((m): m is string => m !== undefined)

if (env.CI) {
  describe('real AWS DynamoDB', () => {
    test.skip('skipped: never run in CI (it needs real AWS credentials and costs money)', () => {})
  })
} else if (missing.length > 0) {
  describe('real AWS DynamoDB', () => {
    test.skip(`skipped: opt-in, set ${missing.join(', ')} to run the conformance suite against real DynamoDB`, () => {})
  })
} else {
  onlineStoreConformance({
    name: `dynamodb on AWS (${env.AWS_REGION})`,
    createStore: () =>
      dynamodbOnlineStore({
        region: env.AWS_REGION,
        credentials: {
          accessKeyId: env.AWS_ACCESS_KEY_ID as string,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string,
          ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
        },
        tableNameTemplate: 'larder-test-{project}.{view}',
        consistentReads: true,
      }),
    capabilities: { largeBatches: false },
    // CreateTable / DeleteTable take seconds to tens of seconds on AWS.
    timeoutMs: 180_000,
  })
}
