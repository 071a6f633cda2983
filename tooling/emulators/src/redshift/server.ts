/**
 * HTTP front of the Redshift Data API emulator: AWS JSON 1.1 (`POST /`,
 * `X-Amz-Target: RedshiftData.<Operation>`). SigV4 headers are accepted and ignored.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type pg from 'pg'
import { tokenize } from './sql.js'
import type { Statement, StatementEngine, SubStatement, Target } from './statements.js'
import type { ColumnMetadata } from './types.js'
import { redshiftTypeName } from './types.js'

/** A Data API error, serialized as `{ "__type": type, "message": ... }`. */
export class ApiError extends Error {
  /**
   * @param type error shape name, e.g. `ValidationException`.
   * @param message human-readable reason.
   * @param status HTTP status (400 client, 500 server).
   * @param extra additional members (e.g. `ResourceId`).
   */
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = type
  }
}

const validation = (message: string) => new ApiError('ValidationException', message)

type Input = Record<string, unknown>

function optionalString(input: Input, key: string): string | undefined {
  const v = input[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw validation(`${key} must be a string`)
  return v
}

function requiredString(input: Input, key: string): string {
  const v = optionalString(input, key)
  if (v === undefined || v === '') {
    throw validation(
      `1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`,
    )
  }
  return v
}

function optionalInt(input: Input, key: string, min: number, max: number): number | undefined {
  const v = input[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw validation(`${key} must be an integer between ${min} and ${max}`)
  }
  return v
}

const STATEMENT_ID = /^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\d+)?$/

const epochSeconds = (d: Date) => d.getTime() / 1000

function encodeToken(scope: string, offset: number): string {
  return Buffer.from(JSON.stringify({ s: scope, o: offset })).toString('base64url')
}

function decodeToken(scope: string, token: string | undefined): number {
  if (token === undefined || token === '') return 0
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      s?: unknown
      o?: unknown
    }
    if (parsed.s === scope && typeof parsed.o === 'number' && parsed.o >= 0) return parsed.o
  } catch {
    // fall through
  }
  throw validation('NextToken is invalid or belongs to another request')
}

function likeToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.')
  return new RegExp(`^${body}$`)
}

/** Handles the Data API operations for one emulator instance. */
export class RedshiftDataApi {
  readonly #engine: StatementEngine
  readonly #pool: pg.Pool
  readonly #pageRows: number
  readonly #databases = new Set<string>(['dev'])
  /** ClientToken -> the response of the call that first used it (idempotent retries). */
  readonly #clientTokens = new Map<string, unknown>()

  /**
   * @param engine statement runner.
   * @param pool pool on the emulator's PostgreSQL database, for catalog operations.
   * @param pageRows maximum records per GetStatementResult page.
   */
  constructor(engine: StatementEngine, pool: pg.Pool, pageRows: number) {
    this.#engine = engine
    this.#pool = pool
    this.#pageRows = pageRows
  }

  /** Node `http` request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.#handle(req, res).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error)
      this.#send(res, 500, { __type: 'InternalServerException', message })
    })
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    try {
      if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/') {
        throw new ApiError(
          'UnknownOperationException',
          `${req.method} ${req.url} is not a Data API call`,
          404,
        )
      }
      const target = String(req.headers['x-amz-target'] ?? '')
      const op = target.startsWith('RedshiftData.') ? target.slice('RedshiftData.'.length) : ''
      let input: unknown
      try {
        input = body.trim() === '' ? {} : JSON.parse(body)
      } catch {
        throw new ApiError('SerializationException', 'request body is not valid JSON')
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new ApiError('SerializationException', 'request body must be a JSON object')
      }
      const output = await this.#dispatch(op, input as Input)
      this.#send(res, 200, output)
    } catch (error) {
      if (error instanceof ApiError) {
        this.#send(res, error.status, {
          __type: error.type,
          message: error.message,
          ...error.extra,
        })
      } else throw error
    }
  }

  #send(res: ServerResponse, status: number, payload: unknown): void {
    const text = JSON.stringify(payload)
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    })
    res.end(text)
  }

  #dispatch(op: string, input: Input): Promise<unknown> | unknown {
    switch (op) {
      case 'ExecuteStatement':
        return this.#execute(input, false)
      case 'BatchExecuteStatement':
        return this.#execute(input, true)
      case 'DescribeStatement':
        return this.#describe(input)
      case 'GetStatementResult':
        return this.#result(input)
      case 'CancelStatement':
        return this.#cancel(input)
      case 'ListStatements':
        return this.#listStatements(input)
      case 'ListDatabases':
        return this.#listDatabases(input)
      case 'ListSchemas':
        return this.#listSchemas(input)
      case 'ListTables':
        return this.#listTables(input)
      case 'DescribeTable':
        return this.#describeTable(input)
      default:
        throw new ApiError(
          'UnknownOperationException',
          op
            ? `operation ${op} is not supported by the emulator`
            : 'missing or malformed X-Amz-Target header',
        )
    }
  }

  #target(input: Input): Target {
    if (input.SessionId !== undefined || input.SessionKeepAliveSeconds !== undefined) {
      throw validation(
        '[emulator] Data API sessions (SessionId, SessionKeepAliveSeconds) are not supported',
      )
    }
    const clusterIdentifier = optionalString(input, 'ClusterIdentifier')
    const workgroupName = optionalString(input, 'WorkgroupName')
    if (clusterIdentifier === undefined && workgroupName === undefined) {
      throw validation('Either ClusterIdentifier or WorkgroupName must be provided')
    }
    if (clusterIdentifier !== undefined && workgroupName !== undefined) {
      throw validation('ClusterIdentifier and WorkgroupName cannot both be provided')
    }
    const database = requiredString(input, 'Database')
    this.#databases.add(database)
    const secretArn = optionalString(input, 'SecretArn')
    const dbUser = optionalString(input, 'DbUser')
    return {
      database,
      ...(clusterIdentifier !== undefined && { clusterIdentifier }),
      ...(workgroupName !== undefined && { workgroupName }),
      ...(secretArn !== undefined && { secretArn }),
      ...(dbUser !== undefined && { dbUser }),
    }
  }

  #parameters(input: Input, sqls: string[]): { name: string; value: string }[] | undefined {
    const raw = input.Parameters
    if (raw === undefined || raw === null) {
      for (const sql of sqls) this.#checkPlaceholders(sql, new Set())
      return undefined
    }
    if (!Array.isArray(raw) || raw.length === 0) {
      throw validation('Parameters must be a non-empty list of {name, value}')
    }
    const seen = new Set<string>()
    const parameters = raw.map((p: unknown) => {
      const entry = (p ?? {}) as Input
      const name = requiredString(entry, 'name')
      const value = optionalString(entry, 'value')
      if (!/^[0-9a-zA-Z_]+$/.test(name)) throw validation(`parameter name "${name}" is invalid`)
      if (value === undefined) throw validation(`parameter ${name} has no value`)
      if (seen.has(name)) throw validation(`parameter ${name} is given more than once`)
      seen.add(name)
      return { name, value }
    })
    for (const sql of sqls) this.#checkPlaceholders(sql, seen)
    return parameters
  }

  #checkPlaceholders(sql: string, names: Set<string>): void {
    let tokens: ReturnType<typeof tokenize>
    try {
      tokens = tokenize(sql)
    } catch {
      return // the statement itself will fail with the lexer's message
    }
    for (const t of tokens) {
      if (t.kind === 'param' && !names.has(t.text.slice(1))) {
        throw validation(`no value was provided for parameter ${t.text}`)
      }
    }
  }

  #execute(input: Input, isBatch: boolean): unknown {
    const clientToken = optionalString(input, 'ClientToken')
    const earlier = clientToken === undefined ? undefined : this.#clientTokens.get(clientToken)
    if (earlier !== undefined) return earlier
    const format = optionalString(input, 'ResultFormat')
    if (format !== undefined && format !== 'JSON') {
      throw validation(`[emulator] ResultFormat ${format} is not supported; use JSON (the default)`)
    }
    let sqls: string[]
    if (isBatch) {
      const raw = input.Sqls
      if (!Array.isArray(raw) || raw.length === 0 || raw.length > 40) {
        throw validation('Sqls must be a list of 1 to 40 SQL statements')
      }
      sqls = raw.map((s: unknown, i) => {
        if (typeof s !== 'string' || s.trim() === '')
          throw validation(`Sqls[${i}] must be a non-empty string`)
        return s
      })
    } else {
      sqls = [requiredString(input, 'Sql')]
    }
    for (const sql of sqls) {
      if (Buffer.byteLength(sql) > 100_000) throw validation('SQL text is longer than 100 KB')
    }
    const target = this.#target(input)
    const parameters = this.#parameters(input, sqls)
    const withEvent = input.WithEvent
    if (withEvent !== undefined && typeof withEvent !== 'boolean')
      throw validation('WithEvent must be a boolean')
    const statementName = optionalString(input, 'StatementName')
    if (statementName !== undefined && statementName.length > 500) {
      throw validation('StatementName is longer than 500 characters')
    }
    const statement = this.#engine.submit({
      sqls,
      isBatch,
      target,
      ...(parameters !== undefined && { parameters }),
      ...(withEvent !== undefined && { withEvent }),
      ...(statementName !== undefined && { statementName }),
    })
    const output = {
      Id: statement.id,
      CreatedAt: epochSeconds(statement.createdAt),
      Database: target.database,
      ClusterIdentifier: target.clusterIdentifier,
      WorkgroupName: target.workgroupName,
      SecretArn: target.secretArn,
      DbUser: target.dbUser,
    }
    if (clientToken !== undefined) this.#clientTokens.set(clientToken, output)
    return output
  }

  #lookup(input: Input): { statement: Statement; sub?: SubStatement } {
    const id = requiredString(input, 'Id')
    if (!STATEMENT_ID.test(id)) {
      throw validation(`Id ${id} is not a statement id (a UUID, with :N for a batch sub-statement)`)
    }
    const found = this.#engine.get(id)
    if (!found) {
      throw new ApiError('ResourceNotFoundException', 'Query does not exist.', 400, {
        ResourceId: id,
      })
    }
    return found
  }

  #subData(sub: SubStatement): Record<string, unknown> {
    return {
      Id: sub.id,
      Status: sub.status,
      Error: sub.error,
      CreatedAt: epochSeconds(sub.createdAt),
      UpdatedAt: epochSeconds(sub.updatedAt),
      Duration: sub.durationNs,
      QueryString: sub.sql,
      HasResultSet: sub.hasResultSet,
      ResultRows: sub.resultRows,
      ResultSize: sub.resultSize,
      RedshiftQueryId: sub.queryId,
    }
  }

  #describe(input: Input): unknown {
    const { statement, sub } = this.#lookup(input)
    const t = statement.target
    const common = {
      Database: t.database,
      ClusterIdentifier: t.clusterIdentifier,
      WorkgroupName: t.workgroupName,
      SecretArn: t.secretArn,
      DbUser: t.dbUser,
      RedshiftPid: statement.pid,
      QueryParameters: statement.parameters,
    }
    if (sub) return { ...common, ...this.#subData(sub) }
    const only = statement.isBatch ? undefined : statement.subs[0]
    const sum = (pick: (s: SubStatement) => number) =>
      statement.subs.reduce((acc, s) => acc + Math.max(0, pick(s)), 0)
    return {
      ...common,
      Id: statement.id,
      Status: statement.status,
      Error: statement.error,
      CreatedAt: epochSeconds(statement.createdAt),
      UpdatedAt: epochSeconds(statement.updatedAt),
      Duration: statement.durationNs,
      QueryString: only?.sql ?? '',
      HasResultSet: statement.subs.some((s) => s.hasResultSet),
      ResultRows: only ? only.resultRows : sum((s) => s.resultRows),
      ResultSize: only ? only.resultSize : sum((s) => s.resultSize),
      RedshiftQueryId: only?.queryId ?? 0,
      SubStatements: statement.isBatch ? statement.subs.map((s) => this.#subData(s)) : undefined,
    }
  }

  #result(input: Input): unknown {
    const { statement, sub: explicit } = this.#lookup(input)
    if (statement.isBatch && !explicit) {
      throw validation(
        'GetStatementResult on a batch needs a sub-statement id (<Id>:<N>, see DescribeStatement SubStatements)',
      )
    }
    const sub = explicit ?? statement.subs[0]!
    if (sub.status !== 'FINISHED' || !sub.hasResultSet || !sub.records || !sub.columns) {
      throw validation(
        `Query does not have result. Please check query status with DescribeStatement (status ${sub.status}${sub.status === 'FINISHED' ? ', no result set' : ''}).`,
      )
    }
    const offset = decodeToken(sub.id, optionalString(input, 'NextToken'))
    const end = Math.min(offset + this.#pageRows, sub.records.length)
    return {
      Records: sub.records.slice(offset, end),
      ColumnMetadata: sub.columns,
      TotalNumRows: sub.records.length,
      NextToken: end < sub.records.length ? encodeToken(sub.id, end) : undefined,
    }
  }

  async #cancel(input: Input): Promise<unknown> {
    const { statement, sub } = this.#lookup(input)
    if (sub) throw validation('CancelStatement takes the batch Id, not a sub-statement id')
    const cancelled = await this.#engine.cancel(statement)
    if (!cancelled) {
      throw validation(`Could not cancel a query that is already in ${statement.status} status`)
    }
    return { Status: true }
  }

  #page<T>(scope: string, items: T[], input: Input, max: number): { page: T[]; next?: string } {
    const limit = optionalInt(input, 'MaxResults', 0, max) || max
    const offset = decodeToken(scope, optionalString(input, 'NextToken'))
    const end = Math.min(offset + limit, items.length)
    return {
      page: items.slice(offset, end),
      ...(end < items.length && { next: encodeToken(scope, end) }),
    }
  }

  #listStatements(input: Input): unknown {
    const status = optionalString(input, 'Status') ?? 'ALL'
    const name = optionalString(input, 'StatementName')
    const all = this.#engine
      .list()
      .filter((s) => status === 'ALL' || s.status === status)
      .filter((s) => name === undefined || (s.statementName ?? '').startsWith(name))
    const { page, next } = this.#page('ListStatements', all, input, 100)
    return {
      Statements: page.map((s) => ({
        Id: s.id,
        QueryString: s.isBatch ? undefined : s.subs[0]?.sql,
        QueryStrings: s.isBatch ? s.subs.map((x) => x.sql) : undefined,
        SecretArn: s.target.secretArn,
        Status: s.status,
        StatementName: s.statementName,
        CreatedAt: epochSeconds(s.createdAt),
        UpdatedAt: epochSeconds(s.updatedAt),
        QueryParameters: s.parameters,
        IsBatchStatement: s.isBatch,
      })),
      NextToken: next,
    }
  }

  #listDatabases(input: Input): unknown {
    this.#target(input)
    const { page, next } = this.#page('ListDatabases', [...this.#databases].sort(), input, 1000)
    return { Databases: page, NextToken: next }
  }

  async #listSchemas(input: Input): Promise<unknown> {
    this.#target(input)
    const pattern = likeToRegExp(optionalString(input, 'SchemaPattern') ?? '%')
    const rows = await this.#pool.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_toast%' AND nspname NOT LIKE 'pg_temp%' ORDER BY nspname",
    )
    const names = rows.rows.map((r) => r.nspname).filter((n) => pattern.test(n))
    const { page, next } = this.#page('ListSchemas', names, input, 1000)
    return { Schemas: page, NextToken: next }
  }

  async #listTables(input: Input): Promise<unknown> {
    this.#target(input)
    const schemaPattern = optionalString(input, 'SchemaPattern')
    const schemaRe = likeToRegExp(schemaPattern ?? '%')
    const tableRe = likeToRegExp(optionalString(input, 'TablePattern') ?? '%')
    const rows = await this.#pool.query<{ schema: string; name: string; kind: string }>(
      `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'v', 'm', 'p')
          AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
        ORDER BY n.nspname, c.relname`,
    )
    const system = (s: string) => s === 'pg_catalog' || s === 'information_schema'
    const tables = rows.rows
      .filter((r) => (schemaPattern === undefined ? !system(r.schema) : schemaRe.test(r.schema)))
      .filter((r) => tableRe.test(r.name))
      .map((r) => ({
        name: r.name,
        schema: r.schema,
        type: system(r.schema)
          ? 'SYSTEM TABLE'
          : r.kind === 'v' || r.kind === 'm'
            ? 'VIEW'
            : 'TABLE',
      }))
    const { page, next } = this.#page('ListTables', tables, input, 1000)
    return { Tables: page, NextToken: next }
  }

  async #describeTable(input: Input): Promise<unknown> {
    this.#target(input)
    const schema = optionalString(input, 'Schema') ?? 'public'
    const table = optionalString(input, 'Table')
    const rows = await this.#pool.query<{
      table: string
      name: string
      oid: number
      typname: string
      typmod: number
      notnull: boolean
      def: string | null
    }>(
      `SELECT c.relname AS table, a.attname AS name, a.atttypid::int AS oid, t.typname,
              a.atttypmod AS typmod, a.attnotnull AS notnull,
              pg_get_expr(d.adbin, d.adrelid) AS def
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = $1 AND ($2::text IS NULL OR c.relname = $2)
          AND c.relkind IN ('r', 'v', 'm', 'p') AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY c.relname, a.attnum`,
      [schema, table ?? null],
    )
    const columns: ColumnMetadata[] = rows.rows.map((r) => {
      let length = 0
      let precision = 0
      let scale = 0
      if ((r.oid === 1043 || r.oid === 1042) && r.typmod >= 4) length = r.typmod - 4
      if (r.oid === 1700 && r.typmod >= 4) {
        precision = ((r.typmod - 4) >> 16) & 0xffff
        scale = (r.typmod - 4) & 0xffff
      }
      return {
        name: r.name,
        label: r.name,
        typeName: redshiftTypeName(r.oid, r.typname),
        length,
        precision,
        scale,
        nullable: r.notnull ? 0 : 1,
        isCaseSensitive: [18, 25, 1042, 1043].includes(r.oid),
        isSigned: [20, 21, 23, 700, 701, 1700].includes(r.oid),
        isCurrency: false,
        schemaName: schema,
        tableName: r.table,
        ...(r.def !== null && { columnDefault: r.def }),
      }
    })
    const { page, next } = this.#page(
      `DescribeTable:${schema}.${table ?? ''}`,
      columns,
      input,
      1000,
    )
    return { TableName: table, ColumnList: page, NextToken: next }
  }
}
