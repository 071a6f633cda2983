import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api'
import { DuckDBInstance, DuckDBTypeId, ResultReturnType } from '@duckdb/node-api'

/** One result column as DuckDB reports it. */
export interface ResultColumn {
  name: string
  typeId: DuckDBTypeId
  /** The full DuckDB type (carries decimal width/scale, list child types). */
  type: DuckDBType
}

/** A fully materialized statement result. */
export interface QueryResult {
  columns: ResultColumn[]
  rows: DuckDBValue[][]
  /** Rows inserted/updated/deleted, for DML. */
  rowsChanged: number
  /** Whether the statement returns rows (a query) rather than a change count. */
  returnsRows: boolean
}

/** Parameter values: positional (`$1`, `$2`, ...) or named (`$name`). Strings are cast by DuckDB. */
export type QueryParams = Array<string | null> | Record<string, string | null>

/**
 * One in-process DuckDB database behind an emulator. Statements run one at a time on a single
 * connection (in arrival order), so a test sees its own writes.
 */
export class WarehouseDb {
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /** Opens an in-memory database, or the file at `path`; sessions run in UTC. */
  static async open(path?: string): Promise<WarehouseDb> {
    const instance = await DuckDBInstance.create(path ?? ':memory:')
    const connection = await instance.connect()
    await connection.run("SET TimeZone = 'UTC'")
    return new WarehouseDb(instance, connection)
  }

  /** Runs one statement (already in DuckDB SQL) and materializes its result. */
  run(sql: string, params?: QueryParams): Promise<QueryResult> {
    const task = this.queue.then(async () => {
      const result = await this.connection.run(sql, params as DuckDBValue[] | undefined)
      const columns: ResultColumn[] = []
      for (let i = 0; i < result.columnCount; i++) {
        columns.push({
          name: result.columnName(i),
          typeId: result.columnTypeId(i),
          type: result.columnType(i),
        })
      }
      const returnsRows = result.returnType === ResultReturnType.QUERY_RESULT
      const rows = returnsRows ? await result.getRows() : []
      return { columns, rows, rowsChanged: returnsRows ? 0 : result.rowsChanged, returnsRows }
    })
    this.queue = task.catch(() => undefined)
    return task
  }

  /**
   * Runs one statement once per row of parameters (an array-bound INSERT), prepared once, in
   * one transaction: all rows or none, as one statement is in a warehouse.
   * @returns the rows changed in all.
   */
  runMany(sql: string, rows: readonly QueryParams[]): Promise<number> {
    const task = this.queue.then(async () => {
      await this.connection.run('BEGIN TRANSACTION')
      try {
        const prepared = await this.connection.prepare(sql)
        let changed = 0
        for (const row of rows) {
          prepared.bind(row as DuckDBValue[])
          const result = await prepared.run()
          changed += result.rowsChanged
        }
        await this.connection.run('COMMIT')
        return changed
      } catch (err) {
        await this.connection.run('ROLLBACK').catch(() => undefined)
        throw err
      }
    })
    this.queue = task.catch(() => undefined)
    return task
  }

  /** Closes the connection and the database. */
  close(): void {
    this.connection.closeSync()
    this.instance.closeSync()
  }
}

export { DuckDBTypeId }
