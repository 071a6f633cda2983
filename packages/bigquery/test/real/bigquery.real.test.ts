/**
 * Opt-in: the offline conformance suite against real BigQuery (see README.md here). Runs only
 * with LARDER_TEST_BIGQUERY=1 and a project; credentials come from the environment the way
 * Google's client finds them (GOOGLE_APPLICATION_CREDENTIALS or Application Default
 * Credentials). It creates a dataset `larder_test_<run>` (tables expire after a day) and
 * deletes it at the end; the randomized cases are left out to keep the bill at cents.
 */
import type { BigQuery } from '@google-cloud/bigquery'
import { offlineStoreConformance } from '@larder/testing'
import { afterAll, beforeAll, describe, test } from 'vitest'
import { bigqueryOfflineStore } from '../../src/index.js'
import { entityTableAdapters } from '../adapters.js'

const env = process.env
const project = env.LARDER_BIGQUERY_PROJECT ?? env.GOOGLE_CLOUD_PROJECT
const missing = [
  env.LARDER_TEST_BIGQUERY === '1' ? undefined : 'LARDER_TEST_BIGQUERY=1',
  project ? undefined : 'LARDER_BIGQUERY_PROJECT (or GOOGLE_CLOUD_PROJECT)',
].filter((m): m is string => m !== undefined)

if (missing.length > 0) {
  const reason = `skipped: opt-in, set ${missing.join(' and ')} (and credentials: GOOGLE_APPLICATION_CREDENTIALS or gcloud ADC) to run the conformance suite against real BigQuery`
  console.warn(`[larder] [bigquery] ${reason}`)
  describe('real BigQuery', () => {
    test.skip(reason, () => {})
  })
} else {
  const location = env.LARDER_BIGQUERY_LOCATION
  // A dry run of this file against the stand-in: LARDER_BIGQUERY_API_ENDPOINT=http://127.0.0.1:9050
  const apiEndpoint = env.LARDER_BIGQUERY_API_ENDPOINT
  const dataset = `larder_test_${Date.now()}_${process.pid}`
  const options = {
    projectId: project as string,
    dataset,
    ...(location ? { location } : {}),
    ...(apiEndpoint ? { apiEndpoint } : {}),
    ...(env.GOOGLE_APPLICATION_CREDENTIALS
      ? { keyFilename: env.GOOGLE_APPLICATION_CREDENTIALS }
      : {}),
    labels: { purpose: 'larder-test' },
    maximumBytesBilled: 10_000_000_000,
  }
  const loader = bigqueryOfflineStore(options)
  let client: BigQuery
  beforeAll(async () => {
    const { BigQuery: Client } = await import('@google-cloud/bigquery')
    client = new Client({
      projectId: project as string,
      ...(location ? { location } : {}),
      ...(env.GOOGLE_APPLICATION_CREDENTIALS
        ? { keyFilename: env.GOOGLE_APPLICATION_CREDENTIALS }
        : {}),
      ...(apiEndpoint
        ? {
            apiEndpoint,
            authClient: {
              getRequestHeaders: async () => new Headers({ authorization: 'Bearer stand-in' }),
              getAccessToken: async () => ({ token: 'stand-in' }),
            } as never,
          }
        : {}),
    })
  })
  afterAll(async () => {
    await loader.close()
    await client?.dataset(dataset).delete({ force: true })
  })
  offlineStoreConformance({
    name: `bigquery (real, project ${project})`,
    createStore: () => bigqueryOfflineStore(options),
    loadSource: async (name, table, fields) => {
      await loader.createTable(`${dataset}.${name}`, table)
      return { kind: 'bigquery', table: `${project}.${dataset}.${name}`, ...fields }
    },
    entityTables: entityTableAdapters(loader, project as string, dataset),
    capabilities: { properties: false },
    timeoutMs: 300_000,
  })
}
