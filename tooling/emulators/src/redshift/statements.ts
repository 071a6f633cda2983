/**
 * Statement lifecycle for the Redshift Data API emulator: every ExecuteStatement or
 * BatchExecuteStatement becomes a statement that runs asynchronously on its own PostgreSQL
 * session (like a Data API call without a session), moving SUBMITTED -> STARTED -> FINISHED,
 * FAILED or ABORTED. Results stay in memory for GetStatementResult.
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import { SqlRejectedError, translateStatement } from './sql.js'
import type { ColumnMetadata, Field } from './types.js'
import { columnMetadata, isKnownType, redshiftTypeName, toField } from './types.js'

/** Data API statement status. */
export type StatementStatus = 'SUBMITTED' | 'PICKED' | 'STARTED' | 'FINISHED' | 'ABORTED' | 'FAILED'

/** One SQL statement (the only one of ExecuteStatement, or one of a batch). */
export interface SubStatement {
  /** `<uuid>` for ExecuteStatement, `<uuid>:<n>` (1-based) inside a batch. */
  id: string
  sql: string
  status: StatementStatus
  error?: string
  createdAt: Date
  updatedAt: Date
  /** Nanoseconds; -1 until the statement ends. */
  durationNs: number
  hasResultSet: boolean
  /** Rows returned or affected; -1 until the statement ends. */
  resultRows: number
  /** Bytes of result text; -1 until the statement ends. */
  resultSize: number
  queryId: number
  columns?: ColumnMetadata[]
  records?: Field[][]
}

/** Connection fields echoed back by the Data API. */
export interface Target {
  database: string
  clusterIdentifier?: string
  workgroupName?: string
  secretArn?: string
  dbUser?: string
}

/** One ExecuteStatement or BatchExecuteStatement call. */
export interface Statement {
  id: string
  isBatch: boolean
  subs: SubStatement[]
  status: StatementStatus
  error?: string
  createdAt: Date
  updatedAt: Date
  durationNs: number
  target: Target
  statementName?: string
  withEvent?: boolean
  parameters?: { name: string; value: string }[]
  /** PostgreSQL backend pid (reported as RedshiftPid); -1 before it connects. */
  pid: number
  /** The pid while its connection is open, else -1: the only pid CancelStatement may signal. */
  activePid: number
  cancelRequested: boolean
  done: Promise<void>
}

/** What a new statement needs. */
export interface SubmitRequest {
  sqls: string[]
  isBatch: boolean
  target: Target
  statementName?: string
  withEvent?: boolean
  parameters?: { name: string; value: string }[]
}

const rawText = { getTypeParser: () => (value: string) => value }

function errorText(error: unknown): string {
  if (error instanceof SqlRejectedError) return error.message
  const message = error instanceof Error ? error.message : String(error)
  return message.startsWith('ERROR:') ? message : `ERROR: ${message}`
}

const isCancel = (error: unknown) =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '57014'

/** Runs statements against one PostgreSQL database and remembers them. */
export class StatementEngine {
  readonly #databaseUrl: string
  readonly #statements = new Map<string, Statement>()
  readonly #typeNames = new Map<number, string>()
  #nextQueryId = 1000
  #closed = false

  /** @param databaseUrl PostgreSQL URL of the emulator's own database. */
  constructor(databaseUrl: string) {
    this.#databaseUrl = databaseUrl
  }

  /** Records a statement and starts running it after the caller's response is sent. */
  submit(request: SubmitRequest): Statement {
    const now = new Date()
    const id = randomUUID()
    const subs = request.sqls.map(
      (sql, i): SubStatement => ({
        id: request.isBatch ? `${id}:${i + 1}` : id,
        sql,
        status: 'SUBMITTED',
        createdAt: now,
        updatedAt: now,
        durationNs: -1,
        hasResultSet: false,
        resultRows: -1,
        resultSize: -1,
        queryId: -1,
      }),
    )
    const statement: Statement = {
      id,
      isBatch: request.isBatch,
      subs,
      status: 'SUBMITTED',
      createdAt: now,
      updatedAt: now,
      durationNs: -1,
      target: request.target,
      pid: -1,
      activePid: -1,
      cancelRequested: false,
      done: Promise.resolve(),
      ...(request.statementName !== undefined && { statementName: request.statementName }),
      ...(request.withEvent !== undefined && { withEvent: request.withEvent }),
      ...(request.parameters !== undefined && { parameters: request.parameters }),
    }
    this.#statements.set(id, statement)
    statement.done = new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.#run(statement),
    )
    return statement
  }

  /** The statement with this id (sub-statement ids resolve to their parent), if any. */
  get(id: string): { statement: Statement; sub?: SubStatement } | undefined {
    const [base, index] = id.split(':')
    const statement = this.#statements.get(base ?? '')
    if (!statement) return undefined
    if (index === undefined) return { statement }
    const sub = statement.isBatch ? statement.subs[Number(index) - 1] : undefined
    return sub && /^\d+$/.test(index) ? { statement, sub } : undefined
  }

  /** All statements, newest first. */
  list(): Statement[] {
    return [...this.#statements.values()].reverse()
  }

  /** Cancels a running statement; false when it already ended. */
  async cancel(statement: Statement): Promise<boolean> {
    if (!['SUBMITTED', 'PICKED', 'STARTED'].includes(statement.status)) return false
    statement.cancelRequested = true
    let finished = false
    const done = statement.done.then(() => {
      finished = true
    })
    let client: pg.Client | undefined
    try {
      // Repeat: a cancel that reaches the backend before the query does is ignored.
      while (!finished) {
        const pid = statement.activePid
        if (pid > 0) {
          if (!client) {
            client = new pg.Client({ connectionString: this.#databaseUrl })
            await client.connect()
          }
          await client.query('SELECT pg_cancel_backend($1)', [pid])
        }
        await Promise.race([done, new Promise((r) => setTimeout(r, 100))])
      }
    } finally {
      await client?.end().catch(() => {})
    }
    return true
  }

  /** Cancels everything still running and waits for it to stop. */
  async close(): Promise<void> {
    this.#closed = true
    const running = [...this.#statements.values()].filter((s) => s.status !== 'FINISHED')
    await Promise.all(running.map((s) => this.cancel(s).catch(() => false)))
    await Promise.all(running.map((s) => s.done))
  }

  async #run(statement: Statement): Promise<void> {
    const started = process.hrtime.bigint()
    const touch = (status: StatementStatus) => {
      statement.status = status
      statement.updatedAt = new Date()
    }
    const finish = (status: StatementStatus, error?: string) => {
      statement.durationNs = Number(process.hrtime.bigint() - started)
      if (error !== undefined) statement.error = error
      touch(status)
    }
    if (this.#closed || statement.cancelRequested) {
      for (const sub of statement.subs) sub.status = 'ABORTED'
      finish('ABORTED', "ERROR: Query cancelled on user's request")
      return
    }
    const client = new pg.Client({
      connectionString: this.#databaseUrl,
      application_name: 'larder-redshift-emulator',
    })
    try {
      await client.connect()
      const pid = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      statement.pid = pid.rows[0]?.pid ?? -1
      statement.activePid = statement.pid
    } catch (error) {
      for (const sub of statement.subs) sub.status = 'FAILED'
      finish('FAILED', `ERROR: could not connect to the emulator's PostgreSQL: ${errorText(error)}`)
      await client.end().catch(() => {})
      return
    }
    touch('STARTED')
    const params = new Map((statement.parameters ?? []).map((p) => [p.name, p.value]))
    let failure: string | undefined
    let aborted = false
    try {
      if (statement.isBatch) await client.query('BEGIN')
      for (const [i, sub] of statement.subs.entries()) {
        if (failure !== undefined || aborted || statement.cancelRequested) {
          sub.status = 'ABORTED'
          sub.updatedAt = new Date()
          aborted ||= statement.cancelRequested
          continue
        }
        const error = await this.#runSub(client, sub, params)
        if (error !== undefined) {
          if (error.cancelled || statement.cancelRequested) aborted = true
          else
            failure = statement.isBatch ? `Query #${i + 1} failed with ${error.text}` : error.text
        }
      }
      if (statement.isBatch) {
        await client.query(failure !== undefined || aborted ? 'ROLLBACK' : 'COMMIT')
      }
    } catch (error) {
      failure ??= errorText(error)
    } finally {
      statement.activePid = -1
      await client.end().catch(() => {})
    }
    if (aborted) finish('ABORTED', "ERROR: Query cancelled on user's request")
    else if (failure !== undefined) finish('FAILED', failure)
    else finish('FINISHED')
  }

  async #runSub(
    client: pg.Client,
    sub: SubStatement,
    params: Map<string, string>,
  ): Promise<{ text: string; cancelled: boolean } | undefined> {
    const started = process.hrtime.bigint()
    sub.status = 'STARTED'
    sub.updatedAt = new Date()
    sub.queryId = this.#nextQueryId++
    const end = (status: StatementStatus) => {
      sub.durationNs = Number(process.hrtime.bigint() - started)
      sub.status = status
      sub.updatedAt = new Date()
    }
    try {
      const translated = translateStatement(sub.sql, params)
      const result = await client.query<unknown[]>({
        text: translated.sql,
        values: translated.values,
        rowMode: 'array',
        types: rawText,
      })
      const fields = result.fields
      await this.#resolveTypeNames(
        client,
        fields.map((f) => f.dataTypeID),
      )
      if (fields.length > 0) {
        let size = 0
        const records = result.rows.map((row) =>
          fields.map((f, c) => {
            const text = (row[c] ?? null) as string | null
            if (text !== null) size += Buffer.byteLength(text)
            return toField(f.dataTypeID, text)
          }),
        )
        sub.columns = fields.map((f) =>
          columnMetadata(
            f.name,
            f.dataTypeID,
            f.dataTypeModifier,
            redshiftTypeName(f.dataTypeID, this.#typeNames.get(f.dataTypeID)),
          ),
        )
        sub.records = records
        sub.hasResultSet = true
        sub.resultRows = records.length
        sub.resultSize = size
      } else {
        sub.resultRows = result.rowCount ?? 0
        sub.resultSize = 0
      }
      end('FINISHED')
      return undefined
    } catch (error) {
      const cancelled = isCancel(error)
      sub.error = cancelled ? "ERROR: Query cancelled on user's request" : errorText(error)
      end(cancelled ? 'ABORTED' : 'FAILED')
      return { text: sub.error, cancelled }
    }
  }

  async #resolveTypeNames(client: pg.Client, oids: number[]): Promise<void> {
    const missing = [...new Set(oids)].filter((o) => !isKnownType(o) && !this.#typeNames.has(o))
    if (missing.length === 0) return
    const rows = await client.query<{ oid: number; typname: string }>(
      'SELECT oid::int AS oid, typname FROM pg_type WHERE oid = ANY($1::oid[])',
      [missing],
    )
    for (const r of rows.rows) this.#typeNames.set(r.oid, r.typname)
  }
}
