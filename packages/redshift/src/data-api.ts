/**
 * The Redshift Data API as the store uses it: statements run asynchronously
 * (ExecuteStatement / BatchExecuteStatement), DescribeStatement polled with capped backoff,
 * GetStatementResult paged, CancelStatement on abort. Every failure becomes a LarderError that
 * names the statement and carries Redshift's message.
 *
 * int64 values arrive as JSON numbers (`longValue`), which a JavaScript JSON parser rounds
 * beyond 2^53; the client's HTTP handler rewrites each `"longValue": <digits>` of a
 * GetStatementResult response into a string field before the SDK parses it, so BIGINTs stay
 * exact.
 */

import { Readable } from 'node:stream'
import {
  BatchExecuteStatementCommand,
  CancelStatementCommand,
  DescribeStatementCommand,
  type DescribeStatementResponse,
  ExecuteStatementCommand,
  type Field,
  GetStatementResultCommand,
  type GetStatementResultResponse,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data'
import { LarderError } from '@larder/core'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { type HttpRequest, HttpResponse } from '@smithy/protocol-http'

const COMPONENT = 'redshift'

/** Where statements run: a serverless workgroup, or a provisioned cluster. */
export interface RedshiftTarget {
  database: string
  workgroupName?: string
  clusterIdentifier?: string
  dbUser?: string
  secretArn?: string
}

/** What the store needs of the Data API client (a `RedshiftDataClient` fits). */
export interface RedshiftDataClientLike {
  send(command: unknown): Promise<unknown>
  destroy?(): void
}

/** Options of {@link createRedshiftDataClient}. */
export interface RedshiftDataClientOptions {
  region?: string
  endpoint?: string
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
}

/** Field name the handler gives int64 values (kept as decimal text). */
export const EXACT_LONG = 'stringValue'

/**
 * A Data API client whose `longValue`s reach the store exact (see this module's comment).
 * A loopback endpoint gets dummy credentials (no AWS, no instance metadata).
 */
export function createRedshiftDataClient(options: RedshiftDataClientOptions): RedshiftDataClient {
  const inner = new NodeHttpHandler()
  const handler = {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request: HttpRequest, handlerOptions?: { abortSignal?: AbortSignal }) {
      const out = await inner.handle(request, handlerOptions)
      const target = String(
        request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? '',
      )
      if (!target.endsWith('.GetStatementResult')) return out
      const chunks: Buffer[] = []
      for await (const chunk of out.response.body as AsyncIterable<Buffer>)
        chunks.push(Buffer.from(chunk))
      const text = Buffer.concat(chunks)
        .toString('utf8')
        .replace(/"longValue"\s*:\s*(-?\d+)/g, `"${EXACT_LONG}":"$1"`)
      const body = Readable.from([Buffer.from(text, 'utf8')])
      const headers = { ...out.response.headers }
      delete headers['content-length']
      return {
        response: new HttpResponse({
          statusCode: out.response.statusCode,
          ...(out.response.reason !== undefined ? { reason: out.response.reason } : {}),
          headers,
          body,
        }),
      }
    },
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => ({}),
    destroy: () => inner.destroy(),
  }
  const loopback = options.endpoint !== undefined && isLoopback(options.endpoint)
  return new RedshiftDataClient({
    ...(options.region ? { region: options.region } : loopback ? { region: 'us-east-1' } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials
      ? { credentials: options.credentials }
      : loopback
        ? { credentials: { accessKeyId: 'larder', secretAccessKey: 'larder' } }
        : {}),
    requestHandler: handler as never,
  })
}

function isLoopback(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '')
    return host === 'localhost' || host === '::1' || host.startsWith('127.')
  } catch {
    return false
  }
}

/** Poll timing. */
export interface PollOptions {
  /** First wait between DescribeStatement calls. @default 50 */
  pollIntervalMs?: number
  /** Longest wait between them. @default 2000 */
  maxPollIntervalMs?: number
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0] ?? ''
}

/** Shortens a statement for messages. */
function excerpt(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim()
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat
}

/** Runs statements through the Data API and pages their results. */
export class DataApi {
  readonly #client: RedshiftDataClientLike
  readonly #target: RedshiftTarget
  readonly #poll: Required<PollOptions>

  constructor(client: RedshiftDataClientLike, target: RedshiftTarget, poll: PollOptions = {}) {
    this.#client = client
    this.#target = target
    this.#poll = {
      pollIntervalMs: poll.pollIntervalMs ?? 50,
      maxPollIntervalMs: poll.maxPollIntervalMs ?? 2000,
    }
  }

  #where(): Record<string, string> {
    const t = this.#target
    return {
      Database: t.database,
      ...(t.workgroupName ? { WorkgroupName: t.workgroupName } : {}),
      ...(t.clusterIdentifier ? { ClusterIdentifier: t.clusterIdentifier } : {}),
      ...(t.dbUser ? { DbUser: t.dbUser } : {}),
      ...(t.secretArn ? { SecretArn: t.secretArn } : {}),
    }
  }

  async #send<T>(command: unknown, what: string): Promise<T> {
    try {
      return (await this.#client.send(command)) as T
    } catch (err) {
      throw this.#apiError(err, what)
    }
  }

  #apiError(err: unknown, what: string): LarderError {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } }
    const status = e.$metadata?.httpStatusCode
    const name = e.name ?? 'Error'
    if (name === 'AccessDeniedException' || status === 403) {
      return new LarderError(
        'BACKEND_ERROR',
        `${what}: access denied by the Redshift Data API (${firstLine(e.message)})`,
        {
          component: COMPONENT,
          cause: err,
          hint: 'grant redshift-data:ExecuteStatement, DescribeStatement, GetStatementResult and CancelStatement, and access to the workgroup or cluster, to the credentials in use (AWS default chain)',
        },
      )
    }
    if (name === 'ValidationException' || name === 'ResourceNotFoundException') {
      return new LarderError('BACKEND_ERROR', `${what}: ${name}: ${firstLine(e.message)}`, {
        component: COMPONENT,
        cause: err,
        hint: 'check database, workgroupName or clusterIdentifier + dbUser, or secretArn in redshiftOfflineStore()',
      })
    }
    return new LarderError(
      status === undefined || status >= 500 ? 'BACKEND_UNAVAILABLE' : 'BACKEND_ERROR',
      `${what}: ${name}: ${firstLine(e.message)}`,
      {
        component: COMPONENT,
        cause: err,
        hint: 'check the region, the endpoint and the network; the command can be retried',
      },
    )
  }

  /** Runs one statement (or several, in one transaction) and waits for it; returns its id. */
  async run(
    sqls: readonly string[],
    params: readonly unknown[],
    signal?: AbortSignal,
  ): Promise<string> {
    signal?.throwIfAborted()
    const what = `statement ${excerpt(sqls[0] ?? '')}`
    const parameters = params.map((value, i) => ({ name: `p${i + 1}`, value: paramText(value) }))
    const started =
      sqls.length === 1
        ? await this.#send<{ Id?: string }>(
            new ExecuteStatementCommand({
              ...this.#where(),
              Sql: sqls[0],
              ...(parameters.length > 0 ? { Parameters: parameters } : {}),
            }),
            `cannot run ${what}`,
          )
        : await this.#send<{ Id?: string }>(
            new BatchExecuteStatementCommand({ ...this.#where(), Sqls: [...sqls] }),
            `cannot run a batch of ${sqls.length} statements starting with ${excerpt(sqls[0] ?? '')}`,
          )
    const id = started.Id as string
    const cancel = () => {
      this.#client.send(new CancelStatementCommand({ Id: id })).catch(() => {})
    }
    signal?.addEventListener('abort', cancel, { once: true })
    try {
      let wait = this.#poll.pollIntervalMs
      for (;;) {
        const d = await this.#send<DescribeStatementResponse>(
          new DescribeStatementCommand({ Id: id }),
          `cannot follow ${what}`,
        )
        if (d.Status === 'FINISHED') return id
        if (d.Status === 'FAILED') {
          throw new LarderError(
            'BACKEND_ERROR',
            `Redshift statement ${id} failed: ${firstLine(d.Error)} (${what})`,
            {
              component: COMPONENT,
            },
          )
        }
        if (d.Status === 'ABORTED') {
          signal?.throwIfAborted()
          throw new LarderError('BACKEND_ERROR', `Redshift statement ${id} was aborted (${what})`, {
            component: COMPONENT,
          })
        }
        await new Promise((r) => setTimeout(r, wait))
        wait = Math.min(this.#poll.maxPollIntervalMs, wait * 2)
      }
    } finally {
      signal?.removeEventListener('abort', cancel)
    }
  }

  /** The pages of a finished statement's result (for a batch, pass `<id>:<n>`). */
  async *pages(id: string, signal?: AbortSignal): AsyncIterable<GetStatementResultResponse> {
    let token: string | undefined
    do {
      signal?.throwIfAborted()
      const page: GetStatementResultResponse = await this.#send(
        new GetStatementResultCommand({ Id: id, ...(token ? { NextToken: token } : {}) }),
        `cannot read the result of Redshift statement ${id}`,
      )
      yield page
      token = page.NextToken
    } while (token)
  }
}

/** A parameter as the Data API takes it: text. */
function paramText(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean')
    return String(value)
  return String(value)
}

/** The value of one result field (int64 arrives as text, see {@link EXACT_LONG}). */
export function fieldValue(field: Field): unknown {
  const f = field as unknown as Record<string, unknown>
  if (f.isNull === true) return null
  if ('stringValue' in f && f.stringValue !== undefined) return f.stringValue
  if ('doubleValue' in f && f.doubleValue !== undefined) return f.doubleValue
  if ('booleanValue' in f && f.booleanValue !== undefined) return f.booleanValue
  if ('longValue' in f && f.longValue !== undefined) return f.longValue
  if ('blobValue' in f && f.blobValue !== undefined) return f.blobValue
  return null
}
