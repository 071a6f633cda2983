/**
 * The DynamoDB online store: one table per feature view (`{project}.{view}`), partition key
 * `entity_id` (the serialized entity key, Binary), one item per entity holding the feature
 * values, `event_ts` and `created_ts`. The write rule of SEMANTICS.md is a condition on every
 * write (see {@link DynamodbWriteMode}); reads are BatchGetItem in chunks of 100.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  type BillingMode,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  type KeysAndAttributes,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb'
import {
  entityKeyId,
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
  winsAgainst,
} from '@larder/core'
import { type Decoder, decoderFor, type Encoder, encoderFor, ValueError } from './codec.js'
import {
  backoffDelayMs,
  DEFAULT_RETRY,
  mapConcurrent,
  type ResolvedRetryOptions,
  type RetryOptions,
  sleep,
  withThrottlingRetry,
} from './retry.js'

const COMPONENT = 'dynamodb'
/** The partition key attribute. */
export const ENTITY_ID = 'entity_id'
/** The event timestamp attribute (epoch micros, N). */
export const EVENT_TS = 'event_ts'
/** The created timestamp attribute (epoch micros, N; absent when the row had none). */
export const CREATED_TS = 'created_ts'
const READ_CHUNK = 100
const WRITE_CHUNK = 25

/**
 * How `writeBatch` enforces the write rule.
 *
 * - `'conditional'`: one UpdateItem per row, `concurrency` in flight, each with the condition
 *   `attribute_not_exists(entity_id) OR event_ts < :e OR (event_ts = :e AND created_ts < :c)`.
 *   DynamoDB checks and writes atomically, so an older row never overwrites a newer one, even
 *   with any number of concurrent writers. Writes only the given features (others stay).
 * - `'check-then-batch'`: BatchGetItem of the stored timestamps, then BatchWriteItem (25 items
 *   per call) of the rows that win. Fewer requests, but BatchWriteItem cannot carry conditions:
 *   a writer that stores a newer row between the check and the write of another writer gets
 *   overwritten by the older row. Safe only with a single writer per table (e.g. one
 *   materialization job and no push or stream writes at the same time).
 */
export type DynamodbWriteMode = 'conditional' | 'check-then-batch'

/** Options of {@link dynamodbOnlineStore}. */
export interface DynamodbOnlineStoreOptions {
  /**
   * The AWS region. Unset, the SDK's default chain decides (`AWS_REGION`, config files).
   * @example 'us-east-1'
   */
  region?: string
  /**
   * An endpoint instead of AWS's, e.g. DynamoDB Local or dynalite.
   * @example 'http://127.0.0.1:8000'
   */
  endpoint?: string
  /**
   * Credentials. Unset, the SDK's default chain decides (environment, config files, SSO,
   * instance metadata).
   */
  credentials?: DynamoDBClientConfig['credentials']
  /**
   * A client to use instead of creating one from `region`, `endpoint`, `credentials` and
   * `clientConfig`. The store does not destroy a client it was given.
   */
  client?: DynamoDBClient
  /** Any other client settings (e.g. `maxAttempts`, `requestHandler`), for the created client. */
  clientConfig?: DynamoDBClientConfig
  /**
   * How long one request to DynamoDB may take, connecting included, before it fails (then
   * retried by the SDK, `maxAttempts`, and finally BACKEND_UNAVAILABLE): a hung endpoint never
   * hangs reads, writes or materialization. Applies to the created client unless
   * `clientConfig.requestHandler` is given (set the timeouts on that handler then).
   * @default 5000
   */
  requestTimeoutMs?: number
  /**
   * The table of a view; `{project}` and `{view}` are replaced. Table names may hold
   * `a-z A-Z 0-9 _ - .` and be 3 to 255 characters long.
   * @default '{project}.{view}'
   */
  tableNameTemplate?: string
  /**
   * Billing mode of the tables `update()` creates.
   * @default 'PAY_PER_REQUEST'
   */
  billingMode?: BillingMode
  /**
   * Capacity of created tables when `billingMode` is `'PROVISIONED'`.
   * @default { readCapacityUnits: 5, writeCapacityUnits: 5 }
   */
  provisionedThroughput?: { readCapacityUnits: number; writeCapacityUnits: number }
  /**
   * Requests in flight at once per `writeBatch` / `read` call (UpdateItem calls, or batch
   * calls). Keep it at or below the HTTP agent's socket limit (50 for the SDK's default).
   * @default 32
   */
  concurrency?: number
  /**
   * How the write rule is enforced; see {@link DynamodbWriteMode}.
   * @default 'conditional'
   */
  writeMode?: DynamodbWriteMode
  /**
   * Strongly consistent reads (twice the read capacity). Eventually consistent reads may miss
   * a write made within the last second.
   * @default false
   */
  consistentReads?: boolean
  /**
   * In `'conditional'` mode, read the stored timestamps first (BatchGetItem, 100 keys per
   * call) and send conditional writes only for rows that may win. Rows that lose for sure
   * (re-run materializations, late rows) then cost a fraction of a read instead of a failed
   * write. Safe with concurrent writers: stored rows only ever get newer, so a row that loses
   * against what the check saw loses against the stored row too, and every write that is
   * sent still carries its condition.
   * @default true
   */
  precheck?: boolean
  /** Backoff of throttled calls and of unprocessed batch items. */
  retry?: RetryOptions
  /**
   * How long `update()` waits for a created table to become ACTIVE (or a deleted one to
   * disappear), in milliseconds.
   * @default 300000
   */
  tableWaitTimeoutMs?: number
}

/** Per-view encoders and decoders, built once per view shape. */
interface ViewPlan {
  table: string
  types: Map<string, ValueTypeName>
  encoders: Map<string, Encoder>
  decoders: Map<string, Decoder>
}

interface DedupedRow {
  row: OnlineRow
  /** Position in the caller's rows, for error messages. */
  index: number
  /** The row's feature attributes (filled before anything is sent). */
  attributes: Record<string, AttributeValue>
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function errorName(err: unknown): string {
  if (typeof err !== 'object' || err === null) return ''
  const e = err as { name?: unknown; code?: unknown }
  return typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : ''
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** The timestamps of a stored item, or undefined when there is none. */
function storedStamps(
  item: Record<string, AttributeValue> | undefined,
): { eventTs: bigint; createdTs: bigint | null } | undefined {
  if (!item) return undefined
  const created = item[CREATED_TS]?.N
  return {
    eventTs: BigInt(item[EVENT_TS]?.N ?? '0'),
    createdTs: created === undefined ? null : BigInt(created),
  }
}

const TABLE_NAME = /^[a-zA-Z0-9_.-]{3,255}$/

/** The DynamoDB online store. Create it with {@link dynamodbOnlineStore}. */
export class DynamodbOnlineStore extends OnlineStoreBase {
  readonly name = 'dynamodb'
  override readonly capabilities: OnlineStoreCapabilities
  readonly #options: DynamodbOnlineStoreOptions
  readonly #retry: ResolvedRetryOptions
  readonly #concurrency: number
  readonly #writeMode: DynamodbWriteMode
  #client: DynamoDBClient | undefined
  #ownsClient = false
  #plans = new WeakMap<StoredViewSpec, { signature: string; plan: ViewPlan }>()

  constructor(options: DynamodbOnlineStoreOptions = {}) {
    super()
    this.#options = options
    this.#retry = { ...DEFAULT_RETRY, ...options.retry }
    this.#concurrency = Math.max(1, Math.floor(options.concurrency ?? 32))
    this.#writeMode = options.writeMode ?? 'conditional'
    if (this.#writeMode !== 'conditional' && this.#writeMode !== 'check-then-batch')
      throw new LarderError('INVALID_CONFIG', `unknown writeMode '${String(this.#writeMode)}'`, {
        component: COMPONENT,
        hint: "use 'conditional' (the default) or 'check-then-batch'",
      })
    this.capabilities = {
      keyTtl: false,
      // Conditional writes are atomic per item; check-then-batch has a race window.
      concurrentWriters: this.#writeMode === 'conditional',
    }
  }

  override configure(context: StoreContext): void {
    super.configure(context)
    this.#plans = new WeakMap()
  }

  /** The client, created on first use. */
  get client(): DynamoDBClient {
    if (this.#client) return this.#client
    if (this.#options.client) {
      this.#client = this.#options.client
      return this.#client
    }
    const { region, endpoint, credentials, clientConfig } = this.#options
    const timeout = this.#options.requestTimeoutMs ?? 5000
    this.#client = new DynamoDBClient({
      ...(clientConfig?.requestHandler === undefined && {
        // throwOnRequestTimeout: without it the handler only logs a warning and waits on.
        requestHandler: {
          requestTimeout: timeout,
          connectionTimeout: timeout,
          throwOnRequestTimeout: true,
        },
      }),
      ...clientConfig,
      ...(region === undefined ? {} : { region }),
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(credentials === undefined ? {} : { credentials }),
    })
    this.#ownsClient = true
    return this.#client
  }

  /** The table of a view (`tableNameTemplate` with the project and view filled in). */
  tableName(view: StoredViewSpec | string): string {
    const viewName = typeof view === 'string' ? view : view.name
    const template = this.#options.tableNameTemplate ?? '{project}.{view}'
    const table = template
      .replaceAll('{project}', this.context?.project ?? 'default')
      .replaceAll('{view}', viewName)
    if (!TABLE_NAME.test(table))
      throw new LarderError(
        'INVALID_CONFIG',
        `table name '${table}' of feature view '${viewName}' is not a valid DynamoDB table name`,
        {
          component: COMPONENT,
          hint: 'table names hold 3 to 255 of a-z A-Z 0-9 _ - . : rename the project or view, or set dynamodbOnlineStore({ tableNameTemplate })',
        },
      )
    return table
  }

  /** Where the store connects, for messages. */
  #where(): string {
    const parts = [`region ${this.#options.region ?? "from the SDK's chain"}`]
    if (this.#options.endpoint) parts.push(`endpoint ${this.#options.endpoint}`)
    return parts.join(', ')
  }

  /** Turns an SDK error into a LarderError naming the table and what to do. */
  #fail(err: unknown, table: string, doing: string): LarderError {
    if (isLarderError(err)) return err
    const name = errorName(err)
    const where = this.#where()
    const options = { component: COMPONENT, cause: err }
    if (name === 'ResourceNotFoundException')
      return new LarderError(
        'NOT_FOUND',
        `table '${table}' does not exist (${where}) while ${doing}`,
        { ...options, hint: 'run `larder apply` to create the tables of the online views' },
      )
    if (
      [
        'UnrecognizedClientException',
        'InvalidSignatureException',
        'MissingAuthenticationTokenException',
        'MissingAuthenticationToken',
        'ExpiredTokenException',
        'InvalidClientTokenId',
        'CredentialsProviderError',
        'AccessDeniedException',
        'IncompleteSignature',
      ].includes(name)
    )
      return new LarderError(
        'BACKEND_UNAVAILABLE',
        `DynamoDB refused the credentials (${where}) while ${doing} on table '${table}': ${name}: ${message(err)}`,
        {
          ...options,
          hint: 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE, that they allow DynamoDB access to this table, and that the region is the one the tables live in',
        },
      )
    if (/region is missing/i.test(message(err)))
      return new LarderError('INVALID_CONFIG', `no AWS region is set while ${doing}`, {
        ...options,
        hint: "set dynamodbOnlineStore({ region: 'us-east-1' }) or AWS_REGION",
      })
    if (
      [
        'ECONNREFUSED',
        'ENOTFOUND',
        'ECONNRESET',
        'ETIMEDOUT',
        'EAI_AGAIN',
        'TimeoutError',
      ].includes(name)
    )
      return new LarderError(
        'BACKEND_UNAVAILABLE',
        `cannot reach DynamoDB (${where}) while ${doing} on table '${table}': ${message(err)}`,
        {
          ...options,
          hint: this.#options.endpoint
            ? 'check that the endpoint is up and the address is right'
            : 'check the network and the region',
        },
      )
    return new LarderError(
      'BACKEND_ERROR',
      `DynamoDB failed while ${doing} on table '${table}' (${where}): ${name ? `${name}: ` : ''}${message(err)}`,
      options,
    )
  }

  #throttled(table: string, doing: string): (err: unknown) => LarderError {
    return (err) =>
      new LarderError(
        'BACKEND_ERROR',
        `DynamoDB kept throttling ${doing} on table '${table}' after ${this.#retry.maxAttempts} attempts (${this.#where()})`,
        {
          component: COMPONENT,
          cause: err,
          hint: 'raise the table capacity (or use PAY_PER_REQUEST), lower `concurrency`, or raise `retry.maxAttempts`',
        },
      )
  }

  /** Sends a command, retrying throttling; SDK errors become LarderErrors. */
  async #send<T>(table: string, doing: string, fn: (client: DynamoDBClient) => Promise<T>) {
    const client = this.client
    try {
      return await withThrottlingRetry(() => fn(client), this.#retry, this.#throttled(table, doing))
    } catch (err) {
      throw this.#fail(err, table, doing)
    }
  }

  #plan(view: StoredViewSpec): ViewPlan {
    const signature = view.features.map((f) => `${f.name}:${f.valueType}`).join('\u0000')
    const known = this.#plans.get(view)
    if (known && known.signature === signature) return known.plan
    const types = new Map(view.features.map((f) => [f.name, f.valueType]))
    for (const reserved of [ENTITY_ID, EVENT_TS, CREATED_TS])
      if (types.has(reserved))
        throw new LarderError(
          'INVALID_DEFINITION',
          `feature view '${view.name}' has a feature named '${reserved}', which the DynamoDB online store uses for its own attribute`,
          { component: COMPONENT, hint: 'rename the feature' },
        )
    const plan: ViewPlan = {
      table: this.tableName(view),
      types,
      encoders: new Map([...types].map(([f, t]) => [f, encoderFor(t)])),
      decoders: new Map([...types].map(([f, t]) => [f, decoderFor(t)])),
    }
    this.#plans.set(view, { signature, plan })
    return plan
  }

  // ---------------------------------------------------------------------------------------
  // update / teardown

  async update(change: OnlineStoreUpdate): Promise<void> {
    await Promise.all(change.drop.map((v) => this.#dropTable(this.tableName(v))))
    await Promise.all(change.keep.map((v) => this.#ensureTable(this.tableName(v))))
  }

  async teardown(views: StoredViewSpec[]): Promise<void> {
    await Promise.all(views.map((v) => this.#dropTable(this.tableName(v))))
  }

  /** The table's status, or undefined when it does not exist. */
  async #status(table: string): Promise<string | undefined> {
    try {
      const out = await withThrottlingRetry(
        () => this.client.send(new DescribeTableCommand({ TableName: table })),
        this.#retry,
        this.#throttled(table, 'describing the table'),
      )
      const keys = out.Table?.KeySchema ?? []
      if (keys.length !== 1 || keys[0]?.AttributeName !== ENTITY_ID)
        throw new LarderError(
          'SCHEMA_MISMATCH',
          `table '${table}' exists but its key is not '${ENTITY_ID}' alone (${this.#where()})`,
          {
            component: COMPONENT,
            hint: 'it was not created by Larder: delete it, or set another tableNameTemplate',
          },
        )
      return out.Table?.TableStatus ?? 'ACTIVE'
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return undefined
      throw this.#fail(err, table, 'describing the table')
    }
  }

  /** Polls until `done(status)` holds or the wait times out. */
  async #waitFor(
    table: string,
    what: string,
    done: (status: string | undefined) => boolean,
  ): Promise<void> {
    const timeout = this.#options.tableWaitTimeoutMs ?? 300_000
    const started = Date.now()
    for (let delay = 20; ; delay = Math.min(delay * 2, 2000)) {
      const status = await this.#status(table)
      if (done(status)) return
      if (Date.now() - started > timeout)
        throw new LarderError(
          'BACKEND_ERROR',
          `table '${table}' did not become ${what} within ${timeout} ms (status ${status ?? 'gone'}, ${this.#where()})`,
          { component: COMPONENT, hint: 'run `larder apply` again later' },
        )
      await sleep(delay)
    }
  }

  async #ensureTable(table: string): Promise<void> {
    let status = await this.#status(table)
    if (status === 'DELETING') {
      await this.#waitFor(table, 'deleted', (s) => s === undefined)
      status = undefined
    }
    if (status === undefined) {
      const billing = this.#options.billingMode ?? 'PAY_PER_REQUEST'
      const capacity = this.#options.provisionedThroughput ?? {
        readCapacityUnits: 5,
        writeCapacityUnits: 5,
      }
      try {
        await this.#send(table, 'creating the table', (c) =>
          c.send(
            new CreateTableCommand({
              TableName: table,
              AttributeDefinitions: [{ AttributeName: ENTITY_ID, AttributeType: 'B' }],
              KeySchema: [{ AttributeName: ENTITY_ID, KeyType: 'HASH' }],
              BillingMode: billing,
              ...(billing === 'PROVISIONED'
                ? {
                    ProvisionedThroughput: {
                      ReadCapacityUnits: capacity.readCapacityUnits,
                      WriteCapacityUnits: capacity.writeCapacityUnits,
                    },
                  }
                : {}),
            }),
          ),
        )
        this.context?.logger.debug({ table }, '[larder] [dynamodb] created table')
      } catch (err) {
        // Created meanwhile by another apply: fine, wait for it below.
        if (!(isLarderError(err) && errorName(err.cause) === 'ResourceInUseException')) throw err
      }
    }
    if (status !== 'ACTIVE') await this.#waitFor(table, 'ACTIVE', (s) => s === 'ACTIVE')
  }

  /**
   * Deletes a table and waits until it is gone. A table of that name with another key
   * schema is not Larder's: it is left alone (SCHEMA_MISMATCH from `#status`).
   */
  async #dropTable(table: string): Promise<void> {
    const status = await this.#status(table)
    if (status === undefined) return
    if (status === 'CREATING' || status === 'UPDATING')
      await this.#waitFor(table, 'ACTIVE', (s) => s !== 'CREATING' && s !== 'UPDATING')
    if (status !== 'DELETING') {
      try {
        await withThrottlingRetry(
          () => this.client.send(new DeleteTableCommand({ TableName: table })),
          this.#retry,
          this.#throttled(table, 'deleting the table'),
        )
        this.context?.logger.debug({ table }, '[larder] [dynamodb] deleted table')
      } catch (err) {
        const name = errorName(err)
        if (name === 'ResourceNotFoundException') return
        // Changing state right now (another apply): look again shortly.
        if (name !== 'ResourceInUseException') throw this.#fail(err, table, 'deleting the table')
        await sleep(100)
        return this.#dropTable(table)
      }
    }
    await this.#waitFor(table, 'deleted', (s) => s === undefined)
  }

  // ---------------------------------------------------------------------------------------
  // writes

  async writeBatch(view: StoredViewSpec, features: string[], rows: OnlineRow[]): Promise<number> {
    if (rows.length === 0) return 0
    const plan = this.#plan(view)
    const encoders = features.map((f) => {
      const encoder = plan.encoders.get(f)
      if (!encoder)
        throw new LarderError(
          'NOT_FOUND',
          `feature '${f}' is not in the schema of feature view '${view.name}'`,
          { component: COMPONENT, hint: 'add it to the view and run `larder apply`' },
        )
      return encoder
    })
    // One row per key: the winner of the batch (BatchWriteItem refuses repeated keys, and
    // conditional writes of one key would only race each other).
    const byKey = new Map<string, DedupedRow>()
    rows.forEach((row, index) => {
      const k = entityKeyId(row.key)
      const seen = byKey.get(k)
      if (!seen || winsAgainst(row, seen.row)) byKey.set(k, { row, index, attributes: {} })
    })
    const unique = [...byKey.values()]
    // Every value is encoded before anything is sent: a bad value writes nothing.
    for (const d of unique) {
      for (let i = 0; i < features.length; i++) {
        try {
          d.attributes[features[i] as string] = (encoders[i] as Encoder)(d.row.values[i] ?? null)
        } catch (err) {
          if (!(err instanceof ValueError)) throw err
          throw new LarderError(
            'INVALID_INPUT',
            `row ${d.index} of the write to '${view.name}': feature '${features[i]}' (${plan.types.get(features[i] as string)}): ${err.message}`,
            { component: COMPONENT, hint: 'nothing of this write was stored' },
          )
        }
      }
    }
    return this.#writeMode === 'conditional'
      ? this.#writeConditional(plan, features, unique)
      : this.#writeCheckThenBatch(plan, view, features, unique)
  }

  async #writeConditional(plan: ViewPlan, features: string[], rows: DedupedRow[]): Promise<number> {
    const names: Record<string, string> = { '#k': ENTITY_ID, '#e': EVENT_TS, '#c': CREATED_TS }
    const sets = ['#e = :e']
    features.forEach((f, i) => {
      names[`#f${i}`] = f
      sets.push(`#f${i} = :v${i}`)
    })
    const setClause = `SET ${sets.join(', ')}`
    const withCreated = `${setClause}, #c = :c`
    const withoutCreated = `${setClause} REMOVE #c`
    // A null created_ts sorts below every non-null one (see the conformance suite).
    const condWithCreated =
      'attribute_not_exists(#k) OR #e < :e OR (#e = :e AND (attribute_not_exists(#c) OR #c < :c))'
    const condWithoutCreated = 'attribute_not_exists(#k) OR #e < :e'
    const doing = 'writing rows'
    let candidates = rows
    if (this.#options.precheck ?? true) {
      const stored = await this.#getItems(
        plan.table,
        rows.map((d) => d.row.key),
        [EVENT_TS, CREATED_TS],
        'checking stored timestamps',
      )
      candidates = rows.filter((d) =>
        winsAgainst(d.row, storedStamps(stored.get(entityKeyId(d.row.key)))),
      )
    }
    const results = await mapConcurrent(candidates, this.#concurrency, async (d) => {
      const encoded = d.attributes
      const values: Record<string, AttributeValue> = { ':e': { N: d.row.eventTs.toString() } }
      features.forEach((_, i) => {
        values[`:v${i}`] = encoded[features[i] as string] as AttributeValue
      })
      const created = d.row.createdTs !== null
      if (created) values[':c'] = { N: (d.row.createdTs as bigint).toString() }
      return this.#send(plan.table, doing, async (c) => {
        try {
          await c.send(
            new UpdateItemCommand({
              TableName: plan.table,
              Key: { [ENTITY_ID]: { B: d.row.key } },
              UpdateExpression: created ? withCreated : withoutCreated,
              ConditionExpression: created ? condWithCreated : condWithoutCreated,
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
            }),
          )
          return 1
        } catch (err) {
          // The stored row wins: not written.
          if (errorName(err) === 'ConditionalCheckFailedException') return 0
          throw err
        }
      })
    })
    let written = 0
    for (const r of results) written += r
    return written
  }

  async #writeCheckThenBatch(
    plan: ViewPlan,
    view: StoredViewSpec,
    features: string[],
    rows: DedupedRow[],
  ): Promise<number> {
    // A write of a subset of the features keeps the others, as conditional writes do: read
    // whole items then, else only the timestamps.
    const partial = view.features.some((f) => !features.includes(f.name))
    const stored = await this.#getItems(
      plan.table,
      rows.map((d) => d.row.key),
      partial ? undefined : [EVENT_TS, CREATED_TS],
      'checking stored timestamps',
    )
    const winners: WriteRequest[] = []
    for (const d of rows) {
      const item = stored.get(entityKeyId(d.row.key))
      if (!winsAgainst(d.row, storedStamps(item))) continue
      const next: Record<string, AttributeValue> = { ...(partial ? item : undefined) }
      Object.assign(next, d.attributes)
      next[ENTITY_ID] = { B: d.row.key }
      next[EVENT_TS] = { N: d.row.eventTs.toString() }
      if (d.row.createdTs === null) delete next[CREATED_TS]
      else next[CREATED_TS] = { N: d.row.createdTs.toString() }
      winners.push({ PutRequest: { Item: next } })
    }
    await mapConcurrent(chunk(winners, WRITE_CHUNK), this.#concurrency, (requests) =>
      this.#batchWrite(plan.table, requests),
    )
    return winners.length
  }

  /** BatchWriteItem of at most 25 requests, retrying UnprocessedItems with backoff. */
  async #batchWrite(table: string, requests: WriteRequest[]): Promise<void> {
    let pending = requests
    let idle = 0
    while (pending.length > 0) {
      const out: BatchWriteItemCommandOutput = await this.#send(table, 'writing rows', (c) =>
        c.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } })),
      )
      const left = out.UnprocessedItems?.[table] ?? []
      if (left.length === 0) return
      idle = left.length < pending.length ? 1 : idle + 1
      if (idle >= this.#retry.maxAttempts) throw this.#throttled(table, 'writing rows')(undefined)
      pending = left
      await sleep(backoffDelayMs(idle, this.#retry))
    }
  }

  // ---------------------------------------------------------------------------------------
  // reads

  /**
   * BatchGetItem of `keys` (deduplicated, chunks of 100, `concurrency` in flight), with the
   * given attributes (undefined: whole items). Items by key string.
   */
  async #getItems(
    table: string,
    keys: Uint8Array[],
    attributes: string[] | undefined,
    doing: string,
  ): Promise<Map<string, Record<string, AttributeValue>>> {
    const unique = new Map<string, Uint8Array>()
    for (const k of keys) unique.set(entityKeyId(k), k)
    const request: Omit<KeysAndAttributes, 'Keys'> = {}
    if (attributes) {
      const names: Record<string, string> = { '#k': ENTITY_ID }
      const projection = ['#k']
      for (const [i, a] of attributes.entries()) {
        names[`#a${i}`] = a
        projection.push(`#a${i}`)
      }
      request.ProjectionExpression = projection.join(', ')
      request.ExpressionAttributeNames = names
    }
    if (this.#options.consistentReads) request.ConsistentRead = true
    const found = new Map<string, Record<string, AttributeValue>>()
    const chunks = chunk([...unique.values()], READ_CHUNK)
    await mapConcurrent(chunks, this.#concurrency, async (ks) => {
      let pending: KeysAndAttributes = {
        ...request,
        Keys: ks.map((k) => ({ [ENTITY_ID]: { B: k } })),
      }
      let idle = 0
      for (;;) {
        const asked = pending.Keys?.length ?? 0
        const out: BatchGetItemCommandOutput = await this.#send(table, doing, (c) =>
          c.send(new BatchGetItemCommand({ RequestItems: { [table]: pending } })),
        )
        for (const item of out.Responses?.[table] ?? []) {
          const id = item[ENTITY_ID]?.B
          if (id) found.set(entityKeyId(id), item)
        }
        const left = out.UnprocessedKeys?.[table]
        if (!left?.Keys?.length) return
        idle = left.Keys.length < asked ? 1 : idle + 1
        if (idle >= this.#retry.maxAttempts) throw this.#throttled(table, doing)(undefined)
        pending = left
        await sleep(backoffDelayMs(idle, this.#retry))
      }
    })
    return found
  }

  async read(
    view: StoredViewSpec,
    keys: Uint8Array[],
    features: string[],
  ): Promise<Array<OnlineValue | undefined>> {
    if (keys.length === 0) return []
    const plan = this.#plan(view)
    const wanted = [...new Set(features)]
    const items = await this.#getItems(plan.table, keys, [EVENT_TS, ...wanted], 'reading rows')
    const decoders = features.map((f) => plan.decoders.get(f) ?? decoderFor(undefined))
    // Each stored row is decoded once, however often its key repeats.
    const decoded = new Map<Record<string, AttributeValue>, OnlineValue>()
    return keys.map((k) => {
      const item = items.get(entityKeyId(k))
      if (!item) return undefined
      let value = decoded.get(item)
      if (!value) {
        value = {
          values: features.map((f, i) => (decoders[i] as Decoder)(item[f])),
          eventTs: BigInt(item[EVENT_TS]?.N ?? '0'),
        }
        decoded.set(item, value)
      }
      return value
    })
  }

  async close(): Promise<void> {
    if (this.#client && this.#ownsClient) this.#client.destroy()
    this.#client = undefined
    this.#ownsClient = false
  }
}

/**
 * Creates a DynamoDB online store: a table per feature view, created by `larder apply`.
 *
 * @example
 * // larder.config.ts
 * import { defineConfig } from '@larder/core'
 * import { dynamodbOnlineStore } from '@larder/dynamodb'
 * export default defineConfig({
 *   project: 'driver_ranking',
 *   onlineStore: dynamodbOnlineStore({ region: 'us-east-1' }),
 * })
 * @example
 * // A local dynalite or DynamoDB Local
 * dynamodbOnlineStore({
 *   endpoint: 'http://127.0.0.1:4567',
 *   region: 'us-east-1',
 *   credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
 * })
 */
export function dynamodbOnlineStore(options: DynamodbOnlineStoreOptions = {}): DynamodbOnlineStore {
  return new DynamodbOnlineStore(options)
}
