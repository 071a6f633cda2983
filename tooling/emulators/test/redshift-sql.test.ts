import { describe, expect, it } from 'vitest'
import { SqlRejectedError, translateStatement } from '../src/redshift/sql.js'

const sqlOf = (sql: string, params?: Record<string, string>) =>
  translateStatement(sql, new Map(Object.entries(params ?? {}))).sql

function rejection(sql: string): string {
  try {
    translateStatement(sql)
  } catch (error) {
    expect(error).toBeInstanceOf(SqlRejectedError)
    return (error as Error).message
  }
  throw new Error(`expected a rejection for: ${sql}`)
}

describe('Redshift -> PostgreSQL translation', () => {
  it('rewrites GETDATE, SYSDATE, NVL, NVL2 and LEN', () => {
    expect(sqlOf('SELECT GETDATE(), SYSDATE')).toBe(
      "SELECT date_trunc('second', localtimestamp), localtimestamp",
    )
    expect(sqlOf('SELECT NVL(a, 0), nvl2(b, 1, 2), LEN(c) FROM t')).toBe(
      'SELECT COALESCE(a,0), (CASE WHEN (b) IS NOT NULL THEN (1) ELSE (2) END), length(c) FROM t',
    )
  })

  it('rewrites DATEADD with identifier, quoted and abbreviated date parts, nested', () => {
    expect(sqlOf('SELECT DATEADD(day, -3, ts) FROM t')).toBe(
      "SELECT ((ts) + (-3) * interval '1 day') FROM t",
    )
    expect(sqlOf("SELECT DATEADD('hrs', 2, '2024-01-01')")).toBe(
      "SELECT ('2024-01-01'::timestamp + (2) * interval '1 hour')",
    )
    expect(sqlOf('SELECT DATEADD(qtr, 1, DATEADD(m, 5, GETDATE()))')).toBe(
      "SELECT ((((date_trunc('second', localtimestamp)) + (5) * interval '1 minute')) + (1) * interval '3 months')",
    )
  })

  it('rewrites DATEDIFF into boundary counts', () => {
    expect(sqlOf('SELECT DATEDIFF(day, a, b) FROM t')).toBe(
      'SELECT ((b)::timestamp::date - (a)::timestamp::date)::bigint FROM t',
    )
    expect(sqlOf('SELECT DATEDIFF(hour, a, b) FROM t')).toContain(
      "date_trunc('hour', (b)::timestamp)",
    )
  })

  it('maps :name parameters to $n, reusing the index for repeats, ignoring strings and casts', () => {
    const t = translateStatement(
      "SELECT ':skip', a::int FROM t WHERE id = :id OR parent = :id AND name = :name",
      new Map([
        ['id', '7'],
        ['name', 'x'],
      ]),
    )
    expect(t.sql).toBe("SELECT ':skip', a::int FROM t WHERE id = $1 OR parent = $1 AND name = $2")
    expect(t.values).toEqual(['7', 'x'])
  })

  it('strips DISTSTYLE/DISTKEY/SORTKEY/ENCODE and accepts CTAS, TEMP tables, IF EXISTS', () => {
    expect(
      sqlOf(
        'CREATE TABLE t (id BIGINT ENCODE az64 DISTKEY, ts TIMESTAMPTZ) DISTSTYLE KEY COMPOUND SORTKEY (id, ts)',
      ).replace(/\s+/g, ' '),
    ).toBe('CREATE TABLE t (id BIGINT , ts TIMESTAMPTZ) ')
    expect(sqlOf('CREATE TEMP TABLE x AS SELECT 1 AS a')).toBe(
      'CREATE TEMP TABLE x AS SELECT 1 AS a',
    )
    expect(sqlOf('DROP TABLE IF EXISTS public.t')).toBe('DROP TABLE IF EXISTS public.t')
  })

  it('accepts the point-in-time-join shape', () => {
    const sql = `
      WITH spine AS (SELECT entity_id, event_ts FROM entities),
      joined AS (
        SELECT s.entity_id, s.event_ts, f.value,
               ROW_NUMBER() OVER (PARTITION BY s.entity_id, s.event_ts ORDER BY f.feature_ts DESC) AS rn
          FROM spine s
          LEFT JOIN features f
            ON f.entity_id = s.entity_id AND f.feature_ts <= s.event_ts
           AND f.feature_ts > DATEADD(hour, -24, s.event_ts)
        UNION ALL
        SELECT entity_id, event_ts, NULL, 1 FROM extra
      )
      SELECT * FROM joined WHERE rn = 1`
    expect(sqlOf(sql)).toContain("((s.event_ts) + (-24) * interval '1 hour')")
  })

  it('folds quoted identifiers to lower case and accepts TIMESTAMPTZ casts', () => {
    expect(sqlOf('SELECT "DriverId" AS "Id", x::timestamptz FROM "Stats"')).toBe(
      'SELECT "driverid" AS "id", x::timestamptz FROM "stats"',
    )
  })

  it('names valid Redshift that the emulator does not support', () => {
    expect(rejection('SELECT a FROM t QUALIFY ROW_NUMBER() OVER (ORDER BY a) = 1')).toMatch(
      /QUALIFY is valid Redshift but outside the emulator's supported subset/,
    )
    expect(rejection('SELECT TOP 10 * FROM t')).toMatch(/SELECT TOP n .*LIMIT/)
    expect(
      rejection('SELECT LAST_VALUE(x) IGNORE NULLS OVER (PARTITION BY a ORDER BY b) FROM t'),
    ).toMatch(/IGNORE NULLS/)
    expect(rejection('MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE')).toMatch(
      /MERGE/,
    )
    expect(rejection('DELETE FROM t USING u WHERE t.id = u.id')).toMatch(/DELETE \.\.\. USING/)
    expect(rejection("UNLOAD ('SELECT 1') TO 's3://b/k'")).toMatch(/no S3/)
    expect(translateStatement('SELECT top FROM t').sql).toBe('SELECT top FROM t')
  })

  it('rejects what Redshift rejects, with a clear error', () => {
    expect(rejection('SELEC 1')).toMatch(/syntax error at or near "1"/)
    expect(rejection('INSERT INTO t (a) VALUES (1) ON CONFLICT DO NOTHING')).toMatch(/ON CONFLICT/)
    expect(rejection('INSERT INTO t (a) VALUES (1) RETURNING a')).toMatch(/RETURNING/)
    expect(rejection('SELECT DISTINCT ON (a) a FROM t')).toMatch(/DISTINCT ON/)
    expect(rejection("SELECT a->>'x' FROM t")).toMatch(/operator "->>"/)
    expect(rejection('SELECT a::jsonb FROM t')).toMatch(/type "jsonb"/)
    expect(rejection('CREATE TABLE t (id SERIAL)')).toMatch(/type "serial"/)
    expect(rejection("SELECT string_agg(a, ',') FROM t")).toMatch(/LISTAGG/)
    expect(rejection('SELECT count(*) FILTER (WHERE a > 1) FROM t')).toMatch(/FILTER/)
    expect(rejection('CREATE INDEX i ON t (a)')).toMatch(/outside the emulator's supported/)
    expect(rejection('SELECT 1; SELECT 2')).toMatch(/BatchExecuteStatement/)
    expect(rejection('SELECT DATEADD(fortnight, 1, ts) FROM t')).toMatch(/unsupported date part/)
    expect(rejection('SELECT * FROM t WHERE a = :missing')).toMatch(/:missing/)
  })
})
