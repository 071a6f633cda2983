/**
 * The in-memory point-in-time engine (`pointInTimeJoin`) against DuckDB's ASOF JOIN on the
 * same data in the same process. Scale 1: 1M entity rows x 10M feature rows, 100k entities,
 * 3 float64 features, created-timestamp column, no TTL.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import {
  type EntitySpec,
  type FeatureViewSpec,
  fromArrowType,
  planHistoricalRetrieval,
  pointInTimeJoin,
} from '@larder/core'
import { generateEntityTable, generateFeatureTable } from '@larder/testing'
import type * as arrow from 'apache-arrow'

import type { BenchContext, Benchmark, BenchResult } from '../types.js'

function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024)
}

/** Writes key, event_timestamp (micros), [created (micros)], features as CSV for DuckDB. */
function writeCsv(path: string, table: arrow.Table, columns: string[]): void {
  const fd = openSync(path, 'w')
  const vectors = columns.map((c) => table.getChild(c) as arrow.Vector)
  const raw = vectors.map((v) => {
    const data = v.data[0] as arrow.Data
    return data.values as BigInt64Array | Float64Array
  })
  const isTs = vectors.map((v) => String(v.type).startsWith('Timestamp'))
  writeSync(fd, `${columns.join(',')}\n`)
  let buf = ''
  for (let i = 0; i < table.numRows; i++) {
    let line = ''
    for (let c = 0; c < columns.length; c++) {
      const values = raw[c] as BigInt64Array | Float64Array
      if (c > 0) line += ','
      line += isTs[c] ? String(values[i]) : String(values[i])
    }
    buf += `${line}\n`
    if (buf.length > 1 << 20) {
      writeSync(fd, buf)
      buf = ''
    }
  }
  writeSync(fd, buf)
  closeSync(fd)
}

const benchmark: Benchmark = {
  name: 'historical-engine',
  description:
    'pointInTimeJoin (in-memory, Arrow) vs DuckDB ASOF JOIN on the same data: 1M entity rows x 10M feature rows, 100k entities, 3 features at scale 1',
  defaultScale: 1,
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const entityRows = Math.max(1, Math.round(1_000_000 * ctx.scale))
    const featureRows = Math.max(1, Math.round(10_000_000 * ctx.scale))
    const entityCount = Math.max(1, Math.round(100_000 * ctx.scale))
    const caseName = `${entityRows} entity rows x ${featureRows} feature rows, ${entityCount} entities, 3 features`
    ctx.log(`generating ${caseName}`)
    const features = generateFeatureTable({
      rows: featureRows,
      entities: entityCount,
      features: 3,
      seed: 11,
    })
    const entityTable = generateEntityTable({ rows: entityRows, entities: entityCount, seed: 12 })

    const view: FeatureViewSpec = {
      kind: 'featureView',
      name: 'bench',
      entities: ['entity'],
      features: ['f0', 'f1', 'f2'].map((name) => ({ name, valueType: 'float64' as const })),
      source: {
        kind: 'memory',
        name: 'bench',
        timestampField: 'event_timestamp',
        createdTimestampColumn: 'created',
      },
      ttlSeconds: 0,
      online: false,
      offline: true,
    }
    const entity: EntitySpec = {
      kind: 'entity',
      name: 'entity',
      joinKeys: ['entity_id'],
      valueType: 'int64',
    }
    const plan = planHistoricalRetrieval({
      features: ['bench:f0', 'bench:f1', 'bench:f2'],
      views: new Map([['bench', view]]),
      entities: new Map([['entity', entity]]),
      entityColumns: entityTable.schema.fields.map((f) => ({
        name: f.name,
        valueType: fromArrowType(f.type),
      })),
    })

    const results: BenchResult[] = []
    const larderTimes: number[] = []
    let larderRows = 0
    for (let r = 0; r < ctx.runs; r++) {
      const t0 = performance.now()
      const out = pointInTimeJoin(entityTable, plan, new Map([['bench', features]]))
      larderTimes.push(performance.now() - t0)
      larderRows = out.numRows
      ctx.log(`pointInTimeJoin run ${r + 1}: ${larderTimes[r]?.toFixed(0)} ms`)
    }
    results.push({
      case: caseName,
      subject: 'larder pointInTimeJoin',
      baseline: false,
      timesMs: larderTimes,
      peakRssMb: peakRssMb(),
      rows: larderRows,
    })

    const dir = mkdtempSync(join(tmpdir(), 'larder-bench-'))
    try {
      ctx.log('loading the same data into DuckDB (CSV, not timed)')
      writeCsv(join(dir, 'features.csv'), features, [
        'entity_id',
        'event_timestamp',
        'created',
        'f0',
        'f1',
        'f2',
      ])
      writeCsv(join(dir, 'entities.csv'), entityTable, ['entity_id', 'event_timestamp'])
      const instance = await DuckDBInstance.create(':memory:')
      const db = await instance.connect()
      const q = (s: string) => `'${s.replaceAll("'", "''")}'`
      await db.run(
        `CREATE TABLE features AS SELECT entity_id::BIGINT AS entity_id, make_timestamp(event_timestamp::BIGINT) AS event_timestamp,
           make_timestamp(created::BIGINT) AS created, f0::DOUBLE AS f0, f1::DOUBLE AS f1, f2::DOUBLE AS f2
         FROM read_csv(${q(join(dir, 'features.csv'))}, header = true, all_varchar = true)`,
      )
      await db.run(
        `CREATE TABLE entities AS SELECT row_number() OVER () AS rid, entity_id::BIGINT AS entity_id,
           make_timestamp(event_timestamp::BIGINT) AS event_timestamp
         FROM read_csv(${q(join(dir, 'entities.csv'))}, header = true, all_varchar = true)`,
      )
      const duckTimes: number[] = []
      let duckRows = 0
      for (let r = 0; r < ctx.runs; r++) {
        await db.run('DROP TABLE IF EXISTS result')
        const t0 = performance.now()
        await db.run(
          `CREATE TABLE result AS SELECT e.entity_id, e.event_timestamp, f.f0, f.f1, f.f2
           FROM entities e ASOF LEFT JOIN features f
             ON e.entity_id = f.entity_id AND e.event_timestamp >= f.event_timestamp
           ORDER BY e.rid`,
        )
        duckTimes.push(performance.now() - t0)
        const count = await db.runAndReadAll('SELECT count(*)::INTEGER AS n FROM result')
        duckRows = Number(count.getRowObjects()[0]?.n ?? 0)
        ctx.log(`DuckDB ASOF run ${r + 1}: ${duckTimes[r]?.toFixed(0)} ms`)
      }
      results.push({
        case: caseName,
        subject: 'duckdb asof join',
        baseline: true,
        timesMs: duckTimes,
        peakRssMb: peakRssMb(),
        rows: duckRows,
      })
      db.closeSync()
      instance.closeSync()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    return results
  },
}

export default benchmark
