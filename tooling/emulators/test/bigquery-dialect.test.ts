import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { translateBigQuery } from '../src/bigquery/index.js'
import { WarehouseDb } from '../src/warehouse/duckdb.js'
import { SqlRejection } from '../src/warehouse/sql.js'

let db: WarehouseDb

beforeAll(async () => {
  db = await WarehouseDb.open()
  await db.run(`CREATE SCHEMA ds; CREATE TABLE ds.t (id BIGINT, ts TIMESTAMPTZ, name VARCHAR, arr BIGINT[]);
    INSERT INTO ds.t VALUES (1, '2024-01-01 00:00:00+00', 'a', [1, 2]), (2, '2024-01-02 06:30:00+00', 'b', [3])`)
})
afterAll(() => db?.close())

/** Translates GoogleSQL, runs it on DuckDB and returns the first row's values as strings. */
async function first(
  sql: string,
  params?: Parameters<typeof translateBigQuery>[1],
): Promise<string[]> {
  const t = translateBigQuery(sql, params)
  const r = await db.run(t.sql, t.params)
  return (r.rows[0] ?? []).map((v) => String(v))
}

function rejection(sql: string): SqlRejection {
  try {
    translateBigQuery(sql)
  } catch (err) {
    if (err instanceof SqlRejection) return err
    throw err
  }
  throw new Error(`expected a rejection for: ${sql}`)
}

describe('GoogleSQL -> DuckDB translation rules (each one executed on DuckDB)', () => {
  test.each([
    ['backtick paths and project removal', 'SELECT COUNT(*) FROM `any-project.ds.t`', ['2']],
    ['backtick parts', 'SELECT COUNT(*) FROM `ds`.`t`', ['2']],
    [
      'double-quoted strings and backslash escapes',
      'SELECT "it\\\'s", \'a\\nb\' = "a\\nb"',
      ["it's", 'true'],
    ],
    [
      'TIMESTAMP literal is UTC TIMESTAMPTZ',
      "SELECT COUNT(*) FROM ds.t WHERE ts = TIMESTAMP '2024-01-01 00:00:00'",
      ['1'],
    ],
    [
      'TIMESTAMP_SUB',
      "SELECT TIMESTAMP_SUB(TIMESTAMP '2024-01-01 00:00:00', INTERVAL 90 MINUTE)",
      ['2023-12-31 22:30:00+00'],
    ],
    [
      'TIMESTAMP_ADD',
      "SELECT TIMESTAMP_ADD(TIMESTAMP '2024-01-01 00:00:00', INTERVAL 2 DAY)",
      ['2024-01-03 00:00:00+00'],
    ],
    ['DATE_SUB keeps DATE', "SELECT DATE_SUB(DATE '2024-03-01', INTERVAL 1 DAY)", ['2024-02-29']],
    ['TIMESTAMP_DIFF truncates', 'SELECT TIMESTAMP_DIFF(MAX(ts), MIN(ts), HOUR) FROM ds.t', ['30']],
    ['DATE_DIFF', "SELECT DATE_DIFF(DATE '2024-01-10', DATE '2024-01-01', DAY)", ['9']],
    [
      'TIMESTAMP_TRUNC',
      'SELECT TIMESTAMP_TRUNC(MAX(ts), DAY) FROM ds.t',
      ['2024-01-02 00:00:00+00'],
    ],
    [
      'CAST type names',
      "SELECT CAST('7' AS INT64) + 1, CAST(1 AS STRING), CAST('1.5' AS FLOAT64)",
      ['8', '1', '1.5'],
    ],
    ['SAFE_CAST', "SELECT SAFE_CAST('x' AS INT64)", ['null']],
    ['IF / IFNULL', 'SELECT IF(1 < 2, "y", "n"), IFNULL(NULL, 3)', ['y', '3']],
    [
      'COUNTIF / LOGICAL_AND',
      'SELECT COUNTIF(id > 1), LOGICAL_AND(id > 0) FROM ds.t',
      ['1', 'true'],
    ],
    [
      'UNIX_MICROS / TIMESTAMP_MICROS',
      'SELECT UNIX_MICROS(TIMESTAMP_MICROS(1700000000000001))',
      ['1700000000000001'],
    ],
    [
      'UNIX_SECONDS / TIMESTAMP_SECONDS',
      'SELECT UNIX_SECONDS(TIMESTAMP_SECONDS(1700000000))',
      ['1700000000'],
    ],
    [
      'GENERATE_ARRAY + UNNEST alias',
      'SELECT SUM(x) FROM UNNEST(GENERATE_ARRAY(1, 10)) AS x',
      ['55'],
    ],
    ['IN UNNEST', 'SELECT COUNT(*) FROM ds.t WHERE id IN UNNEST([2, 5])', ['1']],
    ['ARRAY_LENGTH', 'SELECT ARRAY_LENGTH(arr) FROM ds.t WHERE id = 1', ['2']],
    ['SAFE_DIVIDE', 'SELECT SAFE_DIVIDE(1, 0), SAFE_DIVIDE(6, 3)', ['null', '2']],
    [
      'EXTRACT keeps FROM inside the call',
      'SELECT EXTRACT(HOUR FROM ts) FROM ds.t WHERE id = 2',
      ['6'],
    ],
    [
      'QUALIFY',
      'SELECT id FROM ds.t WHERE TRUE QUALIFY ROW_NUMBER() OVER (ORDER BY ts DESC) = 1',
      ['2'],
    ],
    ['comma FROM list', 'SELECT COUNT(*) FROM ds.t a, ds.t b WHERE a.id = b.id', ['2']],
  ])('%s', async (_name, sql, expected) => {
    expect(await first(sql)).toEqual(expected)
  })

  test('named and positional parameters are typed CASTs', async () => {
    expect(
      await first('SELECT name FROM ds.t WHERE id = @id AND ts < @t', {
        queryParameters: [
          { name: 'id', parameterType: { type: 'INT64' }, parameterValue: { value: '2' } },
          {
            name: 't',
            parameterType: { type: 'TIMESTAMP' },
            parameterValue: { value: '2025-01-01 00:00:00+00' },
          },
        ],
      }),
    ).toEqual(['b'])
    expect(
      await first('SELECT COUNT(*) FROM ds.t WHERE id IN UNNEST(?) AND name = ?', {
        queryParameters: [
          {
            parameterType: { type: 'ARRAY', arrayType: { type: 'INT64' } },
            parameterValue: { arrayValues: [{ value: 1 }, { value: 2 }] },
          },
          { parameterType: { type: 'STRING' }, parameterValue: { value: 'a' } },
        ],
      }),
    ).toEqual(['1'])
  })

  test('Feast-style point-in-time query: dedup CTEs, range join, ROW_NUMBER, USING joins, * EXCEPT', async () => {
    await db.run(`CREATE TABLE ds.features (driver_id BIGINT, event_timestamp TIMESTAMPTZ, created TIMESTAMPTZ, rating DOUBLE);
      INSERT INTO ds.features VALUES (1, '2024-01-01 00:00:00+00', '2024-01-01 00:00:00+00', 1.0),
        (1, '2024-01-01 10:00:00+00', '2024-01-01 10:00:00+00', 2.0), (2, '2024-01-01 00:00:00+00', '2024-01-01 00:00:00+00', 9.0);
      CREATE TABLE ds.entities (driver_id BIGINT, ts TIMESTAMPTZ);
      INSERT INTO ds.entities VALUES (1, '2024-01-01 12:00:00+00'), (2, '2024-01-03 00:00:00+00')`)
    const sql = `WITH entity_dataframe AS (
  SELECT *, ts AS entity_timestamp, CONCAT(CAST(driver_id AS STRING), CAST(ts AS STRING)) AS driver_stats__entity_row_unique_id
  FROM \`proj.ds.entities\`
),
driver_stats__entity_dataframe AS (
  SELECT driver_id, entity_timestamp, driver_stats__entity_row_unique_id FROM entity_dataframe GROUP BY driver_id, entity_timestamp, driver_stats__entity_row_unique_id
),
driver_stats__subquery AS (
  SELECT event_timestamp as event_timestamp, created as created_timestamp, driver_id AS driver_id, rating as rating
  FROM \`proj.ds.features\`
  WHERE event_timestamp <= '2024-01-05T00:00:00' AND event_timestamp >= Timestamp_sub(TIMESTAMP '2024-01-01', interval 86400 second)
),
driver_stats__base AS (
  SELECT subquery.*, entity_dataframe.entity_timestamp, entity_dataframe.driver_stats__entity_row_unique_id
  FROM driver_stats__subquery AS subquery
  INNER JOIN driver_stats__entity_dataframe AS entity_dataframe
  ON TRUE AND subquery.event_timestamp <= entity_dataframe.entity_timestamp
    AND subquery.event_timestamp >= Timestamp_sub(entity_dataframe.entity_timestamp, interval 86400 second)
    AND subquery.driver_id = entity_dataframe.driver_id
),
driver_stats__latest AS (
  SELECT event_timestamp, created_timestamp, driver_stats__entity_row_unique_id
  FROM (
    SELECT *, ROW_NUMBER() OVER(PARTITION BY driver_stats__entity_row_unique_id ORDER BY event_timestamp DESC, created_timestamp DESC) AS row_number
    FROM driver_stats__base
  )
  WHERE row_number = 1
),
driver_stats__cleaned AS (
  SELECT base.* FROM driver_stats__base as base
  INNER JOIN driver_stats__latest USING (driver_stats__entity_row_unique_id, event_timestamp, created_timestamp)
)
SELECT * EXCEPT (driver_stats__entity_row_unique_id, entity_timestamp) FROM entity_dataframe
LEFT JOIN (SELECT driver_stats__entity_row_unique_id, rating AS driver_stats__rating FROM driver_stats__cleaned) USING (driver_stats__entity_row_unique_id)
ORDER BY driver_id`
    const t = translateBigQuery(sql)
    const r = await db.run(t.sql, t.params)
    expect(r.columns.map((c) => c.name)).toEqual(['driver_id', 'ts', 'driver_stats__rating'])
    expect(r.rows.map((row) => [String(row[0]), row[2] === null ? null : String(row[2])])).toEqual([
      ['1', '2'],
      ['2', null],
    ])
  })

  test('default dataset qualifies bare table names; CTE names stay bare', async () => {
    expect(
      await first('WITH x AS (SELECT id FROM t) SELECT COUNT(*) FROM x', { defaultDataset: 'ds' }),
    ).toEqual(['2'])
  })

  test('DDL types and dataset names', () => {
    expect(
      translateBigQuery(
        'CREATE TABLE p.ds.n (a INT64, b STRING, c TIMESTAMP, d DATETIME, e NUMERIC, f BYTES)',
      ).sql,
    ).toBe(
      'CREATE TABLE ds.n (a BIGINT, b VARCHAR, c TIMESTAMPTZ, d TIMESTAMP, e DECIMAL(38,9), f BLOB)',
    )
    expect(translateBigQuery('CREATE SCHEMA proj.newds').sql).toBe('CREATE SCHEMA newds')
    expect(translateBigQuery('DELETE FROM ds.t WHERE id = 1').statementType).toBe('DELETE')
    expect(translateBigQuery('UPDATE ds.t SET name = "z" WHERE id = 1').sql).toBe(
      "UPDATE ds.t SET name = 'z' WHERE id = 1",
    )
    expect(translateBigQuery('DROP TABLE IF EXISTS ds.t').statementType).toBe('DROP_TABLE')
  })
})

describe('statements BigQuery would reject', () => {
  test.each([
    ['syntax error', 'SELEC 1', 'Syntax error'],
    ['unqualified table', 'SELECT * FROM t', 'must be qualified with a dataset'],
    ['DuckDB-only function', 'SELECT list_value(1)', 'Function not found: list_value'],
    ['unknown function', 'SELECT my_udf(1)', 'Function not found: my_udf'],
    [':: casts', 'SELECT 1::INT64', 'Syntax error'],
    [
      'TIMESTAMP_SUB with MONTH',
      "SELECT TIMESTAMP_SUB(TIMESTAMP '2024-01-01', INTERVAL 1 MONTH)",
      'does not support the MONTH date part',
    ],
    ['missing named parameter', 'SELECT @nope', "Query parameter 'nope' not found"],
    ['scripts', 'SELECT 1; SELECT 2', 'Multi-statement'],
    [
      'unsupported statement',
      'MERGE ds.t USING ds.u ON TRUE WHEN MATCHED THEN DELETE',
      'not supported',
    ],
  ])('%s', (_name, sql, message) => {
    expect(rejection(sql).message).toContain(message)
  })
})

describe('GoogleSQL details the warehouse backends emit', () => {
  test('backticked names take escape sequences', async () => {
    expect(await first('SELECT id AS `a\\`b\\\\c` FROM ds.t ORDER BY id')).toEqual(['1'])
    const t = translateBigQuery('SELECT id AS `a\\`b\\\\c` FROM ds.t')
    expect(t.sql).toContain('"a`b\\c"')
  })

  test('string escapes: \\x, \\u, \\U, octal; malformed ones are syntax errors', async () => {
    expect(await first("SELECT '\\x41\\u00e9\\U0001F600\\101' = 'Aé😀A'")).toEqual(['true'])
    expect(rejection("SELECT '\\u00g1'").message).toContain('illegal escape sequence')
  })

  test('backticked CTE names and INTERVAL n MICROSECOND pass the grammar check', async () => {
    expect(
      await first(
        'WITH `e` AS (SELECT ts FROM ds.t WHERE id = 1) SELECT TIMESTAMP_SUB(ts, INTERVAL 1 MICROSECOND) < ts FROM `e`',
      ),
    ).toEqual(['true'])
  })

  test('CREATE TABLE ... OPTIONS (...) AS: checked, then dropped', async () => {
    const t = translateBigQuery(
      'CREATE TABLE ds.x OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 24 HOUR), description = "d") AS SELECT 1 AS a',
    )
    expect(t.sql).not.toContain('OPTIONS')
    expect(t.statementType).toBe('CREATE_TABLE')
    expect(rejection('CREATE TABLE ds.y OPTIONS (1) AS SELECT 1 AS a').message).toContain(
      'OPTIONS expects name = value',
    )
  })
})

describe('backticked names with dots', () => {
  test('a table path in one pair of backticks is split; columns and aliases are one name', () => {
    const t = translateBigQuery('SELECT `a.b` AS `c.d` FROM `p.ds.t` AS `e.f`')
    expect(t.sql).toBe('SELECT "a.b" AS "c.d" FROM "ds"."t" AS "e.f"')
  })
})

describe('ARRAY<T> type names', () => {
  test('CAST(x AS ARRAY<INT64>) becomes a DuckDB list cast and runs', async () => {
    expect(translateBigQuery('SELECT CAST(arr AS ARRAY<INT64>) FROM ds.t').sql).toBe(
      'SELECT CAST(arr AS BIGINT[]) FROM ds.t',
    )
    expect(
      await first('SELECT ARRAY_LENGTH(CAST(arr AS ARRAY<INT64>)) FROM ds.t WHERE id = 1'),
    ).toEqual(['2'])
  })
})
