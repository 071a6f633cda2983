/**
 * The BigQuery dialect through @larder/testing's dialect conformance suite, on the stand-in
 * with the official client (raw REST results: INT64 and TIMESTAMP exact), plus the quoting
 * rules of GoogleSQL.
 */
import type { BigQuery } from '@google-cloud/bigquery'
import { sqlDialectConformance } from '@larder/testing'
import { describe, expect, test } from 'vitest'
import { bigqueryDialect, bigqueryStringLiteral, quoteBigQueryIdentifier } from '../src/index.js'
import { officialClient, PROJECT, useEmulator } from './emulator.js'

const { emulator } = await useEmulator()
await emulator.query('CREATE SCHEMA dialect_tmp')
const client: BigQuery = await officialClient(emulator.url)

interface Field {
  name: string
  type: string
}

function value(v: unknown, type: string): unknown {
  if (v === null || v === undefined) return null
  const text = String(v)
  switch (type) {
    case 'INTEGER':
    case 'TIMESTAMP':
      return BigInt(text)
    case 'FLOAT':
      return Number(text)
    case 'BOOLEAN':
      return text === 'true'
    default:
      return text
  }
}

/** jobs.query through the client's own request method (REST shapes, nothing parsed). */
async function run(sql: string, params: readonly unknown[] = []) {
  const body = {
    query: sql,
    useLegacySql: false,
    defaultDataset: { projectId: PROJECT, datasetId: 'dialect_tmp' },
    formatOptions: { useInt64Timestamp: true },
    ...(params.length > 0
      ? {
          parameterMode: 'NAMED',
          queryParameters: params.map((p, i) => ({
            name: `p${i + 1}`,
            parameterType: { type: 'STRING' },
            parameterValue: { value: String(p) },
          })),
        }
      : {}),
  }
  const response = await new Promise<{
    schema?: { fields: Field[] }
    rows?: Array<{ f: Array<{ v: unknown }> }>
  }>((resolve, reject) =>
    client.request({ method: 'POST', uri: '/queries', json: body } as never, (err, res) =>
      err ? reject(err) : resolve(res as never),
    ),
  )
  const fields = response.schema?.fields ?? []
  return {
    columns: fields.map((f) => f.name),
    rows: (response.rows ?? []).map((r) => r.f.map((c, i) => value(c.v, fields[i]?.type ?? ''))),
  }
}

sqlDialectConformance({
  name: 'bigquery (stand-in)',
  dialect: bigqueryDialect,
  query: run,
  execute: async (sql) => {
    await run(sql)
  },
})

describe('GoogleSQL quoting', () => {
  test('backticks and backslashes are escaped; control characters become \\u escapes', () => {
    expect(quoteBigQueryIdentifier('a`b\\c')).toBe('`a\\`b\\\\c`')
    expect(bigqueryStringLiteral("it's\n\\")).toBe("'it\\'s\\n\\\\'")
    expect(bigqueryStringLiteral('\u0001')).toBe("'\\u0001'")
  })

  test('a hostile value in a string literal stays a value', async () => {
    const evil = "x'); DROP TABLE dialect_tmp.victim; --\\"
    await emulator.query('CREATE TABLE dialect_tmp.victim AS SELECT 1 AS n')
    const result = await run(
      `SELECT ${bigqueryStringLiteral(evil)} AS ${quoteBigQueryIdentifier('v')}`,
    )
    expect(result.rows).toEqual([[evil]])
    expect((await run('SELECT n FROM dialect_tmp.victim')).rows).toEqual([[1n]])
  })
})
