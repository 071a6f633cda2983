/**
 * The engine at a scale the property tests do not reach (several cache blocks, many keys,
 * hourly timestamps so event_ts ties are common, duplicates, nulls, a TTL), against a
 * point-in-time join written by hand in DuckDB SQL over the same data.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance, DuckDBTimestampTZValue } from '@duckdb/node-api'
import {
  type FeatureViewSpec,
  formatTime,
  fromArrowType,
  planHistoricalRetrieval,
  pointInTimeJoin,
} from '@larder/core'
import type * as arrow from 'apache-arrow'
import { expect, test } from 'vitest'
import { generateEntityTable, generateFeatureTable, tableCells } from '../src/index.js'

function csv(table: arrow.Table): string {
  const cells = tableCells(table)
  const lines = [table.schema.fields.map((f) => f.name).join(',')]
  for (const row of cells) lines.push(row.map((v) => (v === null ? '' : String(v))).join(','))
  return `${lines.join('\n')}\n`
}

test('engine equals hand-written DuckDB SQL on 50k entity rows x 200k feature rows', async () => {
  const features = generateFeatureTable({
    rows: 200_000,
    entities: 5_000,
    granularitySeconds: 3600,
    duplicateRate: 0.05,
    nullRate: 0.05,
    mixedTypes: true,
    seed: 5,
  })
  const entities = generateEntityTable({
    rows: 50_000,
    entities: 5_000,
    granularitySeconds: 1800,
    unknownRate: 0.01,
    seed: 6,
  })
  const ttl = 6 * 3600
  const view: FeatureViewSpec = {
    kind: 'featureView',
    name: 'gen',
    entities: ['e'],
    features: [
      { name: 'f0', valueType: 'float64' },
      { name: 'count', valueType: 'int64' },
      { name: 'label', valueType: 'string' },
    ],
    source: {
      kind: 'memory',
      name: 'gen',
      timestampField: 'event_timestamp',
      createdTimestampColumn: 'created',
    },
    ttlSeconds: ttl,
    online: false,
    offline: true,
  }
  const plan = planHistoricalRetrieval({
    features: ['gen:f0', 'gen:count', 'gen:label'],
    views: new Map([['gen', view]]),
    entities: new Map([
      ['e', { kind: 'entity', name: 'e', joinKeys: ['entity_id'], valueType: 'int64' }],
    ]),
    entityColumns: entities.schema.fields.map((f) => ({
      name: f.name,
      valueType: fromArrowType(f.type),
    })),
  })
  const got = tableCells(pointInTimeJoin(entities, plan, new Map([['gen', features]])))

  const dir = mkdtempSync(join(tmpdir(), 'larder-engine-scale-'))
  const instance = await DuckDBInstance.create(':memory:')
  const db = await instance.connect()
  try {
    writeFileSync(join(dir, 'f.csv'), csv(features))
    writeFileSync(join(dir, 'e.csv'), csv(entities))
    await db.run("SET TimeZone = 'UTC'")
    const read = (name: string) =>
      `read_csv('${join(dir, name)}', header = true, all_varchar = true)`
    await db.run(`CREATE TABLE f AS SELECT entity_id::BIGINT AS k, event_timestamp::TIMESTAMPTZ AS ts,
      created::TIMESTAMPTZ AS cr, f0::DOUBLE AS f0, count::BIGINT AS count, label FROM ${read('f.csv')}`)
    await db.run(`CREATE TABLE e AS SELECT row_number() OVER () AS rid, entity_id::BIGINT AS k,
      event_timestamp::TIMESTAMPTZ AS t FROM ${read('e.csv')}`)
    const reader = await db.runAndReadAll(`
      WITH ranked AS (
        SELECT e.rid, f.f0, f.count, f.label,
               row_number() OVER (PARTITION BY e.rid ORDER BY f.ts DESC, f.cr DESC) AS rank
        FROM e JOIN f ON f.k = e.k AND f.ts <= e.t AND f.ts >= e.t - INTERVAL ${ttl} SECOND)
      SELECT e.k, e.t, r.f0, r.count, r.label FROM e LEFT JOIN ranked r ON r.rid = e.rid AND r.rank = 1
      ORDER BY e.rid`)
    const expected = reader
      .getRows()
      .map((row) =>
        row.map((v) => (v instanceof DuckDBTimestampTZValue ? formatTime(v.micros) : v)),
      )
    expect(got.length).toBe(50_000)
    const matched = expected.filter((r) => r[4] !== null).length
    expect(matched).toBeGreaterThan(10_000) // the case is not vacuous
    for (let i = 0; i < expected.length; i++) {
      if (
        JSON.stringify(got[i], (_, v) => (typeof v === 'bigint' ? `${v}n` : v)) !==
        JSON.stringify(expected[i], (_, v) => (typeof v === 'bigint' ? `${v}n` : v))
      ) {
        expect(got[i], `entity row ${i}`).toEqual(expected[i])
      }
    }
  } finally {
    db.closeSync()
    instance.closeSync()
    rmSync(dir, { recursive: true, force: true })
  }
}, 120_000)
