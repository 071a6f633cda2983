import { randomUUID } from 'node:crypto'
import type { QueryResult } from '../warehouse/duckdb.js'
import { WarehouseDb } from '../warehouse/duckdb.js'
import type { EmulatorRequest, EmulatorResponse } from '../warehouse/http.js'
import { parseJsonBody, startLoopbackServer } from '../warehouse/http.js'
import { SqlRejection } from '../warehouse/sql.js'
import type { SnowflakeBind, TranslatedSnowflake } from './dialect.js'
import { translateSnowflake } from './dialect.js'
import type { SnowflakeColumn } from './values.js'
import { rowtypeFor, syntheticColumn, toRowsetValue } from './values.js'

/** Options for {@link startSnowflakeEmulator}. */
export interface SnowflakeEmulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number
  /** DuckDB database file; in-memory when omitted. */
  database?: string
  /** Rows returned inline with the query response; the rest go to result chunks (default 1,000). */
  inlineRows?: number
  /** Rows per result chunk (default 20,000). */
  chunkRows?: number
}

/** A running Snowflake emulator. */
export interface SnowflakeEmulator {
  /** Base URL to pass as snowflake-sdk's `accessUrl`. */
  url: string
  port: number
  /** Runs DuckDB SQL directly (test setup). Snowflake schemas are DuckDB schemas; `PUBLIC` exists. */
  query(sql: string): Promise<QueryResult>
  close(): Promise<void>
}

interface Session {
  id: number
  database: string
  schema: string
  warehouse: string
  role: string
}

interface StoredResult {
  rowtype: SnowflakeColumn[]
  rows: Array<Array<string | null>>
  statementTypeId: number
  session: Session
}

/** Snowflake's error codes and SQL states for the failures the emulator reports. */
const ERRORS = {
  syntax: { code: '001003', sqlState: '42000' },
  function: { code: '002140', sqlState: '42601' },
  unsupported: { code: '000002', sqlState: '0A000' },
  qualification: { code: '002003', sqlState: '02000' },
  parameter: { code: '002049', sqlState: '07002' },
  notFound: { code: '002003', sqlState: '42S02' },
  invalidIdentifier: { code: '000904', sqlState: '42000' },
  conversion: { code: '100038', sqlState: '22018' },
  alreadyExists: { code: '002002', sqlState: '42710' },
  other: { code: '100000', sqlState: '22000' },
} as const

const STATEMENT_TYPES = {
  select: 0x1000,
  insert: 0x3100,
  update: 0x3200,
  delete: 0x3300,
  ddl: 0x6000,
  use: 0x6000,
  noop: 0x6000,
} as const

const SESSION_PARAMETERS = [
  { name: 'TIMEZONE', value: 'UTC' },
  { name: 'TIMESTAMP_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM' },
  { name: 'TIMESTAMP_NTZ_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3' },
  { name: 'TIMESTAMP_LTZ_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM' },
  { name: 'TIMESTAMP_TZ_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM' },
  { name: 'DATE_OUTPUT_FORMAT', value: 'YYYY-MM-DD' },
  { name: 'TIME_OUTPUT_FORMAT', value: 'HH24:MI:SS' },
  { name: 'BINARY_OUTPUT_FORMAT', value: 'HEX' },
  { name: 'CLIENT_RESULT_CHUNK_SIZE', value: 160 },
  { name: 'CLIENT_SESSION_KEEP_ALIVE', value: false },
]

/** A Snowflake-format failure: HTTP 200 with `success: false`, which the SDK raises as an error. */
class SnowflakeFailure extends Error {
  constructor(
    readonly code: string,
    readonly sqlState: string,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Starts a Snowflake stand-in backed by DuckDB on 127.0.0.1 speaking the protocol snowflake-sdk
 * uses (login-request, query-request with binds, result chunks, session delete). Snowflake SQL is
 * validated then translated (see README.md). Any credentials are accepted.
 */
export async function startSnowflakeEmulator(
  options: SnowflakeEmulatorOptions = {},
): Promise<SnowflakeEmulator> {
  const db = await WarehouseDb.open(options.database)
  await db.run('CREATE SCHEMA IF NOT EXISTS "PUBLIC"')
  const inlineRows = options.inlineRows ?? 1000
  const chunkRows = options.chunkRows ?? 20_000
  const sessions = new Map<string, Session>()
  const results = new Map<string, StoredResult>()
  let nextSessionId = 1

  const sessionFor = (req: EmulatorRequest): Session => {
    const auth = String(req.headers.authorization ?? '')
    const token = /Token="([^"]*)"/.exec(auth)?.[1] ?? ''
    const found = sessions.get(token)
    if (found) return found
    // Unknown tokens are accepted (the emulator does not check credentials).
    return { id: 0, database: 'LARDER', schema: 'PUBLIC', warehouse: 'EMULATOR', role: 'SYSADMIN' }
  }

  const ok = (data: Record<string, unknown>): EmulatorResponse => ({
    status: 200,
    json: { data, code: null, message: null, success: true },
  })

  const failure = (f: SnowflakeFailure, queryId: string): EmulatorResponse => ({
    status: 200,
    json: {
      data: {
        internalError: false,
        errorCode: f.code,
        age: 0,
        sqlState: f.sqlState,
        queryId,
        line: -1,
        pos: -1,
        type: 'COMPILATION',
      },
      code: f.code,
      message: f.message,
      success: false,
      headers: null,
    },
  })

  /** Maps a DuckDB error to the Snowflake error the real service would give. */
  const duckFailure = (
    err: unknown,
    tables: readonly string[],
    session: Session,
  ): SnowflakeFailure => {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err)
    const qualified = (bare: string): string => {
      const full = tables.find((t) => t.toUpperCase().endsWith(`.${bare.toUpperCase()}`))
      return `${session.database}.${full ?? `${session.schema}.${bare}`}`.toUpperCase()
    }
    let m =
      /Table with name "?([^"\s]+)"? does not exist because schema "([^"]+)" does not exist/.exec(
        message,
      )
    if (m) {
      return new SnowflakeFailure(
        ERRORS.notFound.code,
        ERRORS.notFound.sqlState,
        `SQL compilation error:\nSchema '${session.database}.${m[2]}' does not exist or not authorized.`,
      )
    }
    m = /(?:Table|View) with name "?([^"\s!]+)"? does not exist/.exec(message)
    if (m) {
      return new SnowflakeFailure(
        ERRORS.notFound.code,
        ERRORS.notFound.sqlState,
        `SQL compilation error:\nObject '${qualified(m[1]!)}' does not exist or not authorized.`,
      )
    }
    m = /Schema with name "?([^"\s!]+)"? does not exist/.exec(message)
    if (m) {
      return new SnowflakeFailure(
        ERRORS.notFound.code,
        ERRORS.notFound.sqlState,
        `SQL compilation error:\nSchema '${session.database}.${m[1]}' does not exist or not authorized.`,
      )
    }
    m = /Referenced column "?([^"\s]+)"? not found/.exec(message)
    if (m) {
      return new SnowflakeFailure(
        ERRORS.invalidIdentifier.code,
        ERRORS.invalidIdentifier.sqlState,
        `SQL compilation error: error line 0 at position -1\ninvalid identifier '${m[1]}'`,
      )
    }
    if (/already exists/.test(message)) {
      return new SnowflakeFailure(
        ERRORS.alreadyExists.code,
        ERRORS.alreadyExists.sqlState,
        `SQL compilation error:\n${message.replace(/^[A-Za-z ]+Error: /, '')}`,
      )
    }
    if (/^Conversion Error/.test(message)) {
      return new SnowflakeFailure(
        ERRORS.conversion.code,
        ERRORS.conversion.sqlState,
        message.replace(/^Conversion Error: /, ''),
      )
    }
    return new SnowflakeFailure(
      ERRORS.other.code,
      ERRORS.other.sqlState,
      message.replace(/^[A-Za-z ]+Error: /, ''),
    )
  }

  /** Executes one translated statement; returns columns and rows already in wire format. */
  const execute = async (t: TranslatedSnowflake, session: Session): Promise<StoredResult> => {
    const statementTypeId = STATEMENT_TYPES[t.kind]
    const status = (text: string): StoredResult => ({
      rowtype: [syntheticColumn('status', 'text', session.database, session.schema)],
      rows: [[text]],
      statementTypeId,
      session,
    })
    if (t.kind === 'use') {
      const { what, name } = t.use!
      const parts = name.split('.')
      if (what === 'schema') {
        const schema = parts[parts.length - 1]!.toUpperCase()
        const found = await db.run(
          'SELECT 1 FROM information_schema.schemata WHERE upper(schema_name) = $1',
          [schema],
        )
        if (found.rows.length === 0) {
          throw new SnowflakeFailure(
            ERRORS.notFound.code,
            ERRORS.notFound.sqlState,
            `SQL compilation error:\nObject does not exist, or operation cannot be performed.`,
          )
        }
        session.schema = schema
        if (parts.length === 2) session.database = parts[0]!.toUpperCase()
      } else if (what === 'database') session.database = name.toUpperCase()
      else if (what === 'warehouse') session.warehouse = name.toUpperCase()
      else session.role = name.toUpperCase()
      return status('Statement executed successfully.')
    }
    if (t.kind === 'noop') return status(t.status ?? 'Statement executed successfully.')
    let last: QueryResult | undefined
    let changed = 0
    if (t.kind === 'insert' && t.params.length > 1) {
      // An array-bound INSERT: one statement, all rows or none.
      changed = await db.runMany(t.sql, t.params)
      last = { columns: [], rows: [], rowsChanged: changed, returnsRows: false }
    } else {
      for (const row of t.params) {
        last = await db.run(t.sql, row)
        changed += last.rowsChanged
      }
    }
    if (!last) last = await db.run(t.sql)
    if (t.kind === 'select' && last.returnsRows) {
      const rowtype = last.columns.map((c) => rowtypeFor(c, session.database, session.schema))
      const rows = last.rows.map((r) => r.map((v, i) => toRowsetValue(v, rowtype[i]!)))
      return { rowtype, rows, statementTypeId, session }
    }
    if (t.kind === 'insert' || t.kind === 'update' || t.kind === 'delete') {
      const label = { insert: 'inserted', update: 'updated', delete: 'deleted' }[t.kind]
      const fixed = syntheticColumn(
        `number of rows ${label}`,
        'fixed',
        session.database,
        session.schema,
      )
      return { rowtype: [fixed], rows: [[String(changed)]], statementTypeId, session }
    }
    return status(t.status ?? 'Statement executed successfully.')
  }

  /** The query-response `data` for a stored result: inline rows plus chunk descriptors. */
  const responseData = (
    queryId: string,
    r: StoredResult,
    numberOfBinds: number,
  ): Record<string, unknown> => {
    const data: Record<string, unknown> = {
      parameters: SESSION_PARAMETERS,
      rowtype: r.rowtype,
      rowset: r.rows.slice(0, inlineRows),
      total: r.rows.length,
      returned: r.rows.length,
      queryId,
      databaseProvider: null,
      finalDatabaseName: r.session.database,
      finalSchemaName: r.session.schema,
      finalWarehouseName: r.session.warehouse,
      finalRoleName: r.session.role,
      numberOfBinds,
      arrayBindSupported: false,
      statementTypeId: r.statementTypeId,
      version: 1,
      sendResultTime: Date.now(),
      queryResultFormat: 'json',
      queryContext: { entries: [] },
    }
    if (r.rows.length > inlineRows) {
      const chunks: Array<Record<string, unknown>> = []
      for (let start = inlineRows, i = 0; start < r.rows.length; start += chunkRows, i++) {
        const rowCount = Math.min(chunkRows, r.rows.length - start)
        chunks.push({
          url: `${server.url}/emulator/chunks/${queryId}/${i}`,
          rowCount,
          uncompressedSize: -1,
          compressedSize: -1,
        })
      }
      data.chunks = chunks
      data.chunkHeaders = {}
    }
    return data
  }

  const queryRequest = async (req: EmulatorRequest): Promise<EmulatorResponse> => {
    const session = sessionFor(req)
    const body = parseJsonBody<{
      sqlText?: string
      bindings?: Record<string, SnowflakeBind>
      asyncExec?: boolean
    }>(req.body, (message) => {
      throw new SnowflakeFailure(ERRORS.other.code, ERRORS.other.sqlState, message)
    })
    const queryId = randomUUID()
    let translated: TranslatedSnowflake | undefined
    try {
      if (body.asyncExec) {
        throw new SnowflakeFailure(
          ERRORS.unsupported.code,
          ERRORS.unsupported.sqlState,
          'asyncExec is not supported by the emulator',
        )
      }
      translated = translateSnowflake(body.sqlText ?? '', {
        database: session.database,
        schema: session.schema,
        ...(body.bindings ? { bindings: body.bindings } : {}),
      })
      const result = await execute(translated, session)
      results.set(queryId, result)
      // Keep the results of the last 50 queries for chunk downloads and result fetches.
      if (results.size > 50) results.delete(results.keys().next().value!)
      return ok(responseData(queryId, result, Object.keys(body.bindings ?? {}).length))
    } catch (err) {
      if (err instanceof SnowflakeFailure) return failure(err, queryId)
      if (err instanceof SqlRejection) {
        const e = ERRORS[err.kind]
        return failure(new SnowflakeFailure(e.code, e.sqlState, err.message), queryId)
      }
      return failure(duckFailure(err, translated?.tables ?? [], session), queryId)
    }
  }

  const route = async (req: EmulatorRequest): Promise<EmulatorResponse> => {
    if (req.method === 'POST' && req.path === '/session/v1/login-request') {
      const token = `emulator-session-${randomUUID()}`
      const session: Session = {
        id: nextSessionId++,
        database: (req.query.get('databaseName') ?? 'LARDER').toUpperCase(),
        schema: (req.query.get('schemaName') ?? 'PUBLIC').toUpperCase(),
        warehouse: (req.query.get('warehouse') ?? 'EMULATOR').toUpperCase(),
        role: (req.query.get('roleName') ?? 'SYSADMIN').toUpperCase(),
      }
      sessions.set(token, session)
      return ok({
        token,
        masterToken: `emulator-master-${randomUUID()}`,
        validityInSeconds: 3600,
        masterValidityInSeconds: 14400,
        sessionId: session.id,
        parameters: SESSION_PARAMETERS,
        sessionInfo: {
          databaseName: session.database,
          schemaName: session.schema,
          warehouseName: session.warehouse,
          roleName: session.role,
        },
        displayUserName: 'EMULATOR',
        serverVersion: 'larder-emulator',
        firstLogin: false,
        remMeToken: null,
        remMeValidityInSeconds: 0,
        healthCheckInterval: 45,
        newClientForUpgrade: null,
      })
    }
    if (req.method === 'POST' && req.path === '/session' && req.query.get('delete') === 'true') {
      const token = /Token="([^"]*)"/.exec(String(req.headers.authorization ?? ''))?.[1] ?? ''
      sessions.delete(token)
      return ok({})
    }
    if (req.method === 'POST' && req.path === '/queries/v1/query-request') return queryRequest(req)
    const chunk = /^\/emulator\/chunks\/([^/]+)\/(\d+)$/.exec(req.path)
    if (req.method === 'GET' && chunk) {
      const r = results.get(chunk[1]!)
      if (!r) return { status: 404, text: 'result expired' }
      const start = inlineRows + Number(chunk[2]) * chunkRows
      const rows = r.rows.slice(start, start + chunkRows)
      return {
        status: 200,
        text: rows.map((row) => JSON.stringify(row)).join(','),
        headers: { 'content-type': 'application/octet-stream' },
      }
    }
    const result = /^\/queries\/([^/]+)\/result$/.exec(req.path)
    if (req.method === 'GET' && result) {
      const r = results.get(result[1]!)
      if (!r) {
        return failure(
          new SnowflakeFailure('000709', '02000', `Statement ${result[1]} not found`),
          result[1]!,
        )
      }
      return ok(responseData(result[1]!, r, 0))
    }
    if (
      req.method === 'POST' &&
      (req.path === '/telemetry/send' || req.path === '/session/heartbeat')
    )
      return ok({})
    if (req.method === 'POST' && req.path === '/session/token-request') {
      return ok({ sessionToken: `emulator-session-${randomUUID()}`, validityInSecondsST: 3600 })
    }
    return {
      status: 404,
      json: {
        data: null,
        code: '390404',
        message: `The emulator does not implement ${req.method} ${req.path}`,
        success: false,
      },
    }
  }

  const server = await startLoopbackServer(options.port ?? 0, route, (err) => ({
    status: 200,
    json: {
      data: { sqlState: ERRORS.other.sqlState, errorCode: ERRORS.other.code },
      code: ERRORS.other.code,
      message: `Emulator error: ${err instanceof Error ? err.message : String(err)}`,
      success: false,
    },
  }))

  return {
    url: server.url,
    port: server.port,
    query: (sql) => db.run(sql),
    close: async () => {
      await server.close()
      db.close()
    },
  }
}
