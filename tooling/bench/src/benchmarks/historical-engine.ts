/**
 * The in-memory point-in-time engine (`pointInTimeJoin`) against DuckDB's ASOF JOIN on the
 * same data, each in its own process (harness.ts), alternating. Scale 1: 1M entity rows x
 * 10M feature rows, 100k entities, 3 float64 features, created-timestamp column, no TTL.
 * Both start from their input in memory (an Arrow table; a DuckDB table loaded untimed) and
 * build the whole result inside the clock: the engine an Arrow table, DuckDB a table in
 * entity-row order, with the created tie-break the engine applies (dedup on event time,
 * greatest created first). Check: every value of the result, in entity-row order.
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

import { digestArrow, digestDuck } from '../digest.js'
import { compare, type SubjectFactory } from '../harness.js'
import type { BenchContext, Benchmark, BenchResult } from '../types.js'

/** Writes key, event_timestamp (micros), [created (micros)], features as CSV for DuckDB. */
function writeCsv(path: string, table: arrow.Table, columns: string[]): void {
  const fd = openSync(path, 'w')
  const vectors = columns.map((c) => table.getChild(c) as arrow.Vector)
  const raw = vectors.map((v) => {
    const data = v.data[0] as arrow.Data
    return data.values as BigInt64Array | Float64Array
  })
  writeSync(fd, `${columns.join(',')}\n`)
  let buf = ''
  for (let i = 0; i < table.numRows; i++) {
    let line = ''
    for (let c = 0; c < columns.length; c++) {
      const values = raw[c] as BigInt64Array | Float64Array
      if (c > 0) line += ','
      line += String(values[i])
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

interface Sizes {
  entityRows: number
  featureRows: number
  entityCount: number
}

function sizes(scale: number): Sizes {
  return {
    entityRows: Math.max(1, Math.round(1_000_000 * scale)),
    featureRows: Math.max(1, Math.round(10_000_000 * scale)),
    entityCount: Math.max(1, Math.round(100_000 * scale)),
  }
}

function generate(s: Sizes) {
  return {
    features: generateFeatureTable({
      rows: s.featureRows,
      entities: s.entityCount,
      features: 3,
      seed: 11,
    }),
    entityTable: generateEntityTable({ rows: s.entityRows, entities: s.entityCount, seed: 12 }),
  }
}

/** Subjects, each built in its own process. */
export const subjects: Record<string, SubjectFactory> = {
  engine: ({ scale }) => {
    const { features, entityTable } = generate(sizes(scale as number))
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
    let out: arrow.Table | undefined
    return {
      async run() {
        out = undefined
        out = pointInTimeJoin(entityTable, plan, new Map([['bench', features]]))
      },
      check: () => digestArrow(out!),
    }
  },

  duckdb: async ({ dir }) => {
    const q = (s: string) => `'${s.replaceAll("'", "''")}'`
    const instance = await DuckDBInstance.create(':memory:')
    const db = await instance.connect()
    await db.run(
      `CREATE TABLE features AS SELECT entity_id::BIGINT AS entity_id, make_timestamp(event_timestamp::BIGINT) AS event_timestamp,
         make_timestamp(created::BIGINT) AS created, f0::DOUBLE AS f0, f1::DOUBLE AS f1, f2::DOUBLE AS f2
       FROM read_csv(${q(join(dir as string, 'features.csv'))}, header = true, all_varchar = true)`,
    )
    await db.run(
      `CREATE TABLE entities AS SELECT row_number() OVER () AS rid, entity_id::BIGINT AS entity_id,
         make_timestamp(event_timestamp::BIGINT) AS event_timestamp
       FROM read_csv(${q(join(dir as string, 'entities.csv'))}, header = true, all_varchar = true)`,
    )
    return {
      before: () => db.run('DROP TABLE IF EXISTS result').then(() => {}),
      async run() {
        await db.run(
          `CREATE TABLE result AS SELECT e.rid, e.entity_id, e.event_timestamp, f.f0, f.f1, f.f2
           FROM entities e ASOF LEFT JOIN (
             SELECT * FROM features
             QUALIFY row_number() OVER (PARTITION BY entity_id, event_timestamp ORDER BY created DESC) = 1
           ) f ON e.entity_id = f.entity_id AND e.event_timestamp >= f.event_timestamp
           ORDER BY e.rid`,
        )
      },
      check: () =>
        digestDuck(
          db,
          'SELECT entity_id, epoch_us(event_timestamp), f0, f1, f2 FROM result ORDER BY rid',
        ),
      close() {
        db.closeSync()
        instance.closeSync()
      },
    }
  },
}

const benchmark: Benchmark = {
  name: 'historical-engine',
  description:
    'pointInTimeJoin (in-memory, Arrow) vs DuckDB ASOF JOIN on the same data: 1M entity rows x 10M feature rows, 100k entities, 3 features at scale 1',
  defaultScale: 1,
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const s = sizes(ctx.scale)
    const caseName = `${s.entityRows} entity rows x ${s.featureRows} feature rows, ${s.entityCount} entities, 3 features`
    const dir = mkdtempSync(join(tmpdir(), 'larder-bench-'))
    try {
      ctx.log(`generating ${caseName}; CSV for DuckDB (not timed)`)
      {
        const { features, entityTable } = generate(s)
        writeCsv(join(dir, 'features.csv'), features, [
          'entity_id',
          'event_timestamp',
          'created',
          'f0',
          'f1',
          'f2',
        ])
        writeCsv(join(dir, 'entities.csv'), entityTable, ['entity_id', 'event_timestamp'])
      }
      return await compare(ctx, {
        caseName,
        module: import.meta.url,
        rows: s.entityRows,
        subjects: [
          {
            name: 'larder pointInTimeJoin (Arrow in, Arrow out)',
            factory: 'engine',
            args: { scale: ctx.scale },
          },
          {
            name: 'DuckDB ASOF JOIN + created tie-break, ordered (table in, table out)',
            baseline: true,
            factory: 'duckdb',
            args: { dir },
          },
        ],
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
}

export default benchmark
