/**
 * How failures become HTTP answers: every error is `{ "error": { "code", "message" } }`;
 * the user's fault is 4xx, a fault of the server or a backend is 5xx.
 */
import { CLIENT_ERROR_CODES, isLarderError, type LarderErrorCode } from '@larder/core'

/** Codes the server adds to Larder's own ({@link LarderErrorCode}). */
export type ServerOnlyErrorCode = 'UNAUTHORIZED' | 'PAYLOAD_TOO_LARGE' | 'TOO_MANY_ENTITY_ROWS'

/** Every `error.code` a feature server answers with. */
export type ServerErrorCode = LarderErrorCode | ServerOnlyErrorCode

/** The JSON body of every error answer. */
export interface ErrorBody {
  error: { code: ServerErrorCode; message: string }
}

/**
 * An error raised by the server itself with its HTTP status.
 * @example
 * throw new HttpError(413, 'TOO_MANY_ENTITY_ROWS', '2000 entity rows is more than the limit of 1000')
 */
export class HttpError extends Error {
  readonly status: number
  readonly code: ServerErrorCode

  constructor(status: number, code: ServerErrorCode, message: string) {
    super(message)
    this.name = 'HttpError'
    this.status = status
    this.code = code
  }
}

interface AjvError {
  keyword: string
  instancePath: string
  message?: string
  params: Record<string, unknown>
}

function describeValidation(errors: AjvError[], context: string): string {
  return errors
    .map((e) => {
      const at = `${context}${e.instancePath.replaceAll('/', '.')}`
      switch (e.keyword) {
        case 'additionalProperties':
          return `unknown field '${String(e.params.additionalProperty)}' in ${at}`
        case 'required':
          return `${at} misses required field '${String(e.params.missingProperty)}'`
        case 'type':
          return `${at} must be ${e.params.type === 'array' ? 'a list' : `of type ${String(e.params.type)}`}`
        case 'enum':
          return `${at} must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
        default:
          return `${at} ${e.message ?? 'is invalid'}`
      }
    })
    .join('; ')
}

/**
 * HTTP status of a Larder error code: NOT_FOUND 404, REGISTRY_CONFLICT 409, other client
 * codes 400, BACKEND_UNAVAILABLE 503, BACKEND_ERROR 502, anything else 500.
 * @example
 * statusOfCode('INVALID_INPUT') // 400
 */
export function statusOfCode(code: LarderErrorCode): number {
  if (code === 'NOT_FOUND') return 404
  if (code === 'REGISTRY_CONFLICT') return 409
  if (CLIENT_ERROR_CODES.has(code)) return 400
  if (code === 'BACKEND_UNAVAILABLE') return 503
  if (code === 'BACKEND_ERROR') return 502
  return 500
}

/** `scheme://anything` up to a space or quote: service URLs (credentials included). */
const URL_PATTERN = /\b([a-z][a-z0-9+.-]*):\/\/[^\s'"<>]+/gi
/** `1.2.3.4:5678`, `[::1]:5678`, `localhost:5678`: an address with its port. */
const ADDRESS_PATTERN = /(?:\b(?:\d{1,3}\.){3}\d{1,3}|\[[0-9a-f:.]+\]|\blocalhost):\d{1,5}\b/gi

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * What a client may see of an error message: paths inside the repo folder become
 * repo-relative (`data/registry.json`), service URLs and `host:port` addresses are hidden.
 * The server's log keeps the full message.
 * @example
 * scrubMessage("cannot connect to redis://10.0.0.5:6379: connect ECONNREFUSED 10.0.0.5:6379", '/srv/repo')
 * // 'cannot connect to redis://<hidden>: connect ECONNREFUSED <address>'
 */
export function scrubMessage(message: string, repoPath?: string): string {
  let out = message
  if (repoPath && repoPath !== '/') {
    const root = repoPath.replace(/\/+$/, '')
    out = out
      .replace(new RegExp(`${escapeRegExp(root)}/`, 'g'), '')
      .replace(new RegExp(`${escapeRegExp(root)}(?![\\w.-])`, 'g'), '.')
  }
  return out.replace(URL_PATTERN, '$1://<hidden>').replace(ADDRESS_PATTERN, '<address>')
}

/**
 * Maps any thrown value to a status and an error body. Unknown errors are 500 INTERNAL with
 * a message that does not leak internals (the full error goes to the log); messages are
 * scrubbed of the repo folder and service addresses ({@link scrubMessage}).
 */
export function toErrorAnswer(
  err: unknown,
  requestId: string,
  bodyLimit: number,
  repoPath?: string,
): { status: number; body: ErrorBody; fault: boolean } {
  const answer = (status: number, code: ServerErrorCode, message: string) => ({
    status,
    body: { error: { code, message: scrubMessage(message, repoPath) } },
    fault: status >= 500,
  })
  if (err instanceof HttpError) return answer(err.status, err.code, err.message)
  if (isLarderError(err)) return answer(statusOfCode(err.code), err.code, err.message)
  const e = err as {
    validation?: AjvError[]
    validationContext?: string
    code?: string
    statusCode?: number
    message?: string
  }
  if (Array.isArray(e.validation)) {
    return answer(
      400,
      'INVALID_INPUT',
      `invalid request: ${describeValidation(e.validation, e.validationContext ?? 'body')}`,
    )
  }
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return answer(
      413,
      'PAYLOAD_TOO_LARGE',
      `request body is larger than the limit of ${bodyLimit} bytes (option bodyLimit)`,
    )
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return answer(e.statusCode, 'INVALID_INPUT', e.message ?? 'bad request')
  }
  return answer(
    500,
    'INTERNAL',
    `internal error (request id ${requestId}); the server log has the details`,
  )
}
