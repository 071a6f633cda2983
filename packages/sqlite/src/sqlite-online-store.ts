/**
 * The default online store: one SQLite file (WAL mode) through `node:sqlite`, built into
 * Node 24. A table per feature view, keyed by the serialized entity key; the write rule of
 * SEMANTICS.md is enforced by the upsert itself.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import {
  isLarderError,
  LarderError,
  type OnlineRow,
  OnlineStoreBase,
  type OnlineStoreCapabilities,
  type OnlineStoreUpdate,
  type OnlineValue,
  type StoreContext,
  type StoredViewSpec,
  type ValueTypeName,
} from '@larder/core'
import {
  type Decoder,
  decoderFor,
  type Encoder,
  encoderFor,
  type SqlValue,
  ValueError,
} from './codec.js'

const COMPONENT = 'sqlite'
const INT64_MIN = '-9223372036854775808'

/** Options of {@link sqliteOnlineStore}. */
export interface SqliteOnlineStoreOptions {
  /**
   * The database file. A relative path resolves against the feature repo (`repoPath`);
   * its folder is created when missing. `':memory:'` keeps everything in this process.
   * @default 'data/online.db'
   */
  path?: string
  /**
   * How long a statement waits for another process's lock before failing, in milliseconds.
   * @default 5000
   */
  busyTimeoutMs?: number
  /**
   * SQLite's `synchronous` setting. `FULL` syncs every committed batch to disk, so a batch
   * that `writeBatch` reported written survives a power cut; `NORMAL` (still safe against a
   * process crash in WAL mode) is faster for many small batches.
   * @default 'FULL'
   */
  synchronous?: 'OFF' | 'NORMAL' | 'FULL'
  /**
   * SQLite's page cache of this connection, in MiB. Large batches upsert keys in no
   * particular order, so a cache that holds the hot part of the table saves most page I/O.
   * @default 64
   */
  cacheSizeMb?: number
}

/** The SQL and codecs of one view, derived once per view shape. */
interface ViewPlan {
  table: string
  /** Quoted table name. */
  qtable: string
  /** Feature name -> value type. */
  types: Map<string, ValueTypeName>
  writes: Map<string, { stmt: StatementSync; encoders: Encoder[] }>
  reads: Map<string, { stmt: StatementSync; decoders: Decoder[] }>
  /** The table was checked (created or widened) for these features during this session. */
  ensured: boolean
  /** The features array of the last read and its query (callers often reuse one array). */
  lastRead?: { features: string[]; query: { stmt: StatementSync; decoders: Decoder[] } }
}

/** Quotes an SQLite identifier. */
export function quoteIdentifier(name: string): string {
  if (name.includes('\u0000'))
    throw new LarderError('INVALID_INPUT', `identifier ${JSON.stringify(name)} contains NUL`, {
      component: COMPONENT,
    })
  return `"${name.replaceAll('"', '""')}"`
}

/** The table of a view: `<project>__<view>`. */
export function tableName(project: string, view: string): string {
  return `${project}__${view}`
}

/**
 * The column of a feature: `<feature>:<type>`. The type is part of the name so that changing
 * a feature's type starts a new column instead of misreading the old values.
 */
export function columnName(feature: string, type: ValueTypeName): string {
  return `${feature}:${type}`
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** The SQLite online store. Create it with {@link sqliteOnlineStore}. */
export class SqliteOnlineStore extends OnlineStoreBase {
  readonly name = 'sqlite'
  override readonly capabilities: OnlineStoreCapabilities
  readonly #options: Required<SqliteOnlineStoreOptions>
  #db: DatabaseSync | undefined
  readonly #plans = new Map<string, ViewPlan>()
  /** Plans by view object, so that hot reads skip building the view's signature. */
  #plansByView = new WeakMap<StoredViewSpec, { signature: string; plan: ViewPlan }>()

  constructor(options: SqliteOnlineStoreOptions = {}) {
    super()
    this.#options = {
      path: options.path ?? 'data/online.db',
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      synchronous: options.synchronous ?? 'FULL',
      cacheSizeMb: options.cacheSizeMb ?? 64,
    }
    this.capabilities = {
      keyTtl: false,
      // Writers of one file, in one process or several, serialize on SQLite's lock (waiting
      // up to busyTimeoutMs). An in-memory database belongs to one connection: no other writer.
      concurrentWriters: this.#options.path !== ':memory:',
    }
  }

  override configure(context: StoreContext): void {
    super.configure(context)
    this.#plans.clear()
    this.#plansByView = new WeakMap()
  }

  /** The absolute path of the database file (or `':memory:'`). */
  get path(): string {
    const { path } = this.#options
    if (path === ':memory:' || isAbsolute(path)) return path
    return resolve(this.context?.repoPath ?? process.cwd(), path)
  }

  /** The open database, opened on first use. */
  #open(): DatabaseSync {
    if (this.#db) return this.#db
    const path = this.path
    let db: DatabaseSync | undefined
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
      db = new DatabaseSync(path, { timeout: this.#options.busyTimeoutMs })
      db.exec('PRAGMA journal_mode = WAL')
      db.exec(`PRAGMA synchronous = ${this.#options.synchronous}`)
      db.exec(`PRAGMA cache_size = ${-Math.round(this.#options.cacheSizeMb * 1024)}`)
    } catch (err) {
      db?.close()
      throw new LarderError(
        'BACKEND_UNAVAILABLE',
        `cannot open the online store database '${path}': ${message(err)}`,
        {
          component: COMPONENT,
          cause: err,
          hint: 'check that its folder can be created and written and that the file is a SQLite database, or set another file with sqliteOnlineStore({ path }) in larder.config.ts',
        },
      )
    }
    this.#db = db
    this.context?.logger.debug({ path }, '[larder] [sqlite] opened the online store')
    return db
  }

  #project(): string {
    return this.context?.project ?? 'default'
  }

  /** The plan of a view; rebuilt when the view's features changed. */
  #plan(view: StoredViewSpec): ViewPlan {
    const known = this.#plansByView.get(view)
    // Same object, same features (a caller may have edited the spec in place).
    if (
      known &&
      known.plan.types.size === view.features.length &&
      this.#plans.get(known.signature) === known.plan
    )
      return known.plan
    const table = tableName(this.#project(), view.name)
    const signature = `${table}\u0000${view.features.map((f) => `${f.name}:${f.valueType}`).join('\u0000')}`
    let plan = this.#plans.get(signature)
    if (!plan) {
      plan = {
        table,
        qtable: quoteIdentifier(table),
        types: new Map(view.features.map((f) => [f.name, f.valueType])),
        writes: new Map(),
        reads: new Map(),
        ensured: false,
      }
      this.#plans.set(signature, plan)
    }
    this.#plansByView.set(view, { signature, plan })
    return plan
  }

  /** Forgets cached statements of a table (after DDL here or elsewhere). */
  #forget(table: string): void {
    for (const [signature, plan] of this.#plans)
      if (plan.table === table) this.#plans.delete(signature)
    this.#plansByView = new WeakMap()
  }

  #column(
    plan: ViewPlan,
    view: StoredViewSpec,
    feature: string,
  ): { column: string; type: ValueTypeName } {
    const type = plan.types.get(feature)
    if (type === undefined) {
      throw new LarderError(
        'NOT_FOUND',
        `feature view '${view.name}' has no feature '${feature}' (it has ${[...plan.types.keys()].join(', ') || 'none'})`,
        { component: COMPONENT },
      )
    }
    return { column: quoteIdentifier(columnName(feature, type)), type }
  }

  #existingColumns(db: DatabaseSync, table: string): Set<string> | undefined {
    const rows = db.prepare('SELECT name FROM pragma_table_info(?)').all(table)
    if (rows.length === 0) return undefined
    return new Set(rows.map((r) => String(r.name)))
  }

  /**
   * Creates the view's table or adds the columns of new features. With `prune`, also drops
   * feature columns the view no longer has (removed features, changed types).
   */
  #ensureTable(db: DatabaseSync, view: StoredViewSpec, prune: boolean): void {
    const plan = this.#plan(view)
    const wanted = view.features.map((f) => columnName(f.name, f.valueType))
    const existing = this.#existingColumns(db, plan.table)
    if (!existing) {
      const columns = wanted.map((c) => `, ${quoteIdentifier(c)}`).join('')
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${plan.qtable} (entity_key BLOB PRIMARY KEY NOT NULL, event_ts INTEGER NOT NULL, created_ts INTEGER${columns}) WITHOUT ROWID`,
      )
    } else {
      const missing = wanted.filter((c) => !existing.has(c))
      const fixed = new Set(['entity_key', 'event_ts', 'created_ts'])
      const stale = prune ? [...existing].filter((c) => !fixed.has(c) && !wanted.includes(c)) : []
      if (missing.length > 0 || stale.length > 0) {
        this.#transaction(db, () => {
          for (const c of missing)
            db.exec(`ALTER TABLE ${plan.qtable} ADD COLUMN ${quoteIdentifier(c)}`)
          for (const c of stale)
            db.exec(`ALTER TABLE ${plan.qtable} DROP COLUMN ${quoteIdentifier(c)}`)
        })
        this.#forget(plan.table)
      }
    }
    this.#plan(view).ensured = true
  }

  #transaction<T>(db: DatabaseSync, fn: () => T): T {
    db.exec('BEGIN IMMEDIATE')
    try {
      const result = fn()
      db.exec('COMMIT')
      return result
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK')
      throw err
    }
  }

  /** Wraps a driver error; forgets cached statements when the schema moved under us. */
  #fail(err: unknown, view: StoredViewSpec, doing: string): LarderError {
    if (isLarderError(err)) return err
    const text = message(err)
    const table = tableName(this.#project(), view.name)
    if (/no such (table|column)/.test(text)) {
      this.#forget(table)
      return new LarderError(
        'NOT_FOUND',
        `${doing} feature view '${view.name}': ${text} in ${this.path}`,
        { component: COMPONENT, cause: err, hint: 'run `larder apply` to create its table' },
      )
    }
    if (/database is locked|SQLITE_BUSY/i.test(text)) {
      return new LarderError(
        'BACKEND_UNAVAILABLE',
        `${doing} feature view '${view.name}': ${this.path} stayed locked by another process for ${this.#options.busyTimeoutMs} ms`,
        {
          component: COMPONENT,
          cause: err,
          hint: 'retry, or raise sqliteOnlineStore({ busyTimeoutMs })',
        },
      )
    }
    return new LarderError(
      'BACKEND_ERROR',
      `${doing} feature view '${view.name}' in ${this.path}: ${text}`,
      {
        component: COMPONENT,
        cause: err,
      },
    )
  }

  /**
   * Creates the tables of `keep` views (adding columns for new features and dropping those
   * of removed ones) and drops the tables of `drop` views, in one transaction.
   */
  async update(change: OnlineStoreUpdate): Promise<void> {
    const db = this.#open()
    for (const view of change.drop) {
      try {
        this.#dropTable(db, view)
      } catch (err) {
        throw this.#fail(err, view, 'cannot drop')
      }
    }
    for (const view of change.keep) {
      try {
        this.#ensureTable(db, view, true)
      } catch (err) {
        throw this.#fail(err, view, 'cannot create or migrate the table of')
      }
    }
  }

  #dropTable(db: DatabaseSync, view: StoredViewSpec): void {
    const table = tableName(this.#project(), view.name)
    db.exec(`DROP TABLE IF EXISTS ${quoteIdentifier(table)}`)
    this.#forget(table)
  }

  /**
   * Upserts rows in one transaction; a row replaces the stored one only when it wins (greater
   * event_ts, or equal event_ts and greater created_ts, a null created_ts losing to any).
   * Creates the table (or its missing columns) on first write. Returns the rows written.
   */
  async writeBatch(view: StoredViewSpec, features: string[], rows: OnlineRow[]): Promise<number> {
    if (rows.length === 0) return 0
    const db = this.#open()
    let plan = this.#plan(view)
    if (!plan.ensured) {
      try {
        this.#ensureTable(db, view, false)
      } catch (err) {
        throw this.#fail(err, view, 'cannot create the table of')
      }
      plan = this.#plan(view)
    }
    const key = features.join('\u0000')
    let write = plan.writes.get(key)
    if (!write) {
      const columns = features.map((f) => this.#column(plan, view, f))
      const t = plan.qtable
      const names = ['entity_key', 'event_ts', 'created_ts', ...columns.map((c) => c.column)]
      const sets = ['event_ts', 'created_ts', ...columns.map((c) => c.column)]
        .map((c) => `${c} = excluded.${c}`)
        .join(', ')
      const sql =
        `INSERT INTO ${t} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')}) ` +
        `ON CONFLICT (entity_key) DO UPDATE SET ${sets} ` +
        `WHERE excluded.event_ts > ${t}.event_ts OR (excluded.event_ts = ${t}.event_ts ` +
        `AND ifnull(excluded.created_ts, ${INT64_MIN}) > ifnull(${t}.created_ts, ${INT64_MIN}))`
      try {
        write = { stmt: db.prepare(sql), encoders: columns.map((c) => encoderFor(c.type)) }
      } catch (err) {
        throw this.#fail(err, view, 'cannot write to')
      }
      plan.writes.set(key, write)
    }
    const { stmt, encoders } = write
    const n = encoders.length
    const args: SqlValue[] = new Array(n + 3)
    let written = 0
    let i = 0
    let j = 0
    try {
      db.exec('BEGIN IMMEDIATE')
      try {
        for (i = 0; i < rows.length; i++) {
          const r = rows[i]!
          args[0] = r.key
          args[1] = r.eventTs
          args[2] = r.createdTs
          const values = r.values
          for (j = 0; j < n; j++) args[j + 3] = encoders[j]!(values[j])
          written += Number(stmt.run(...args).changes)
        }
        db.exec('COMMIT')
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK')
        throw err
      }
    } catch (err) {
      if (err instanceof ValueError) {
        throw new LarderError(
          'INVALID_INPUT',
          `feature '${features[j]}' of view '${view.name}', row ${i}: ${err.message}`,
          { component: COMPONENT, hint: 'nothing of this batch was written' },
        )
      }
      throw this.#fail(err, view, 'cannot write to')
    }
    return written
  }

  /** Reads the latest row of each key, in input order; `undefined` where none is stored. */
  async read(
    view: StoredViewSpec,
    keys: Uint8Array[],
    features: string[],
  ): Promise<Array<OnlineValue | undefined>> {
    if (keys.length === 0) return []
    const db = this.#open()
    const plan = this.#plan(view)
    let query = plan.lastRead?.features === features ? plan.lastRead.query : undefined
    const cacheKey = query ? '' : features.join('\u0000')
    query ??= plan.reads.get(cacheKey)
    if (!query) {
      const columns = features.map((f) => this.#column(plan, view, f))
      const select = ['event_ts', ...columns.map((c) => c.column)].join(', ')
      try {
        const stmt = db.prepare(`SELECT ${select} FROM ${plan.qtable} WHERE entity_key = ?`)
        stmt.setReadBigInts(true)
        stmt.setReturnArrays(true)
        query = { stmt, decoders: columns.map((c) => decoderFor(c.type)) }
      } catch (err) {
        throw this.#fail(err, view, 'cannot read')
      }
      plan.reads.set(cacheKey, query)
    }
    if (plan.lastRead?.features !== features) plan.lastRead = { features, query }
    const { stmt, decoders } = query
    const n = decoders.length
    const out = new Array<OnlineValue | undefined>(keys.length)
    try {
      for (let i = 0; i < keys.length; i++) {
        const r = stmt.get(keys[i]!) as unknown as unknown[] | undefined
        if (r === undefined) {
          out[i] = undefined
          continue
        }
        const values = new Array<unknown>(n)
        for (let j = 0; j < n; j++) values[j] = decoders[j]!(r[j + 1])
        out[i] = { values, eventTs: r[0] as bigint }
      }
    } catch (err) {
      throw this.#fail(err, view, 'cannot read')
    }
    return out
  }

  /** Drops the tables of these views (missing tables are fine). */
  async teardown(views: StoredViewSpec[]): Promise<void> {
    // Nothing to remove from a file that was never created (and no reason to create it).
    if (!this.#db && this.path !== ':memory:' && !existsSync(this.path)) return
    const db = this.#open()
    for (const view of views) {
      try {
        this.#dropTable(db, view)
      } catch (err) {
        throw this.#fail(err, view, 'cannot drop')
      }
    }
  }

  /** Closes the database; the next call opens it again. */
  async close(): Promise<void> {
    this.#plans.clear()
    this.#plansByView = new WeakMap()
    const db = this.#db
    this.#db = undefined
    if (db?.isOpen) db.close()
  }
}

/**
 * The SQLite online store, Larder's default: one file in WAL mode, so `larder serve` reads
 * while `larder materialize` writes from another process.
 *
 * @example
 * // larder.config.ts
 * import { defineConfig } from '@larder/core'
 * import { sqliteOnlineStore } from '@larder/sqlite'
 * export default defineConfig({
 *   project: 'quickstart',
 *   onlineStore: sqliteOnlineStore({ path: 'data/online.db' }),
 * })
 */
export function sqliteOnlineStore(options: SqliteOnlineStoreOptions = {}): SqliteOnlineStore {
  return new SqliteOnlineStore(options)
}
