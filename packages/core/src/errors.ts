/**
 * Larder's one error family. Every error a user can see carries a stable `code`, says which
 * part of Larder raised it (`[larder] [redis] ...`) and, where it helps, what to do next.
 * The original failure, when there is one, is kept as `cause`.
 */

/**
 * Every stable error code, grouped by what went wrong, not where. Clients (the server's HTTP
 * client, other processes) check a code they receive against this list.
 * - `INVALID_DEFINITION`: a definition is invalid (duplicate name, bad field, unknown reference...).
 * - `INVALID_CONFIG`: config file missing or invalid.
 * - `NOT_FOUND`: a referenced object (view, feature, service, source, entity) does not exist.
 * - `INVALID_INPUT`: user input (entity rows, pushed rows, times, files) is malformed.
 * - `INVALID_RECORD`: a stream record cannot be decoded or lacks what its view needs (it is
 *   dead-lettered).
 * - `SCHEMA_MISMATCH`: a source's columns do not match what a view needs.
 * - `REGISTRY_CONFLICT`: the registry changed under us (concurrent apply).
 * - `REGISTRY_CORRUPT`: the registry file is unreadable or corrupt.
 * - `BACKEND_UNAVAILABLE`: a backend service could not be reached or failed.
 * - `BACKEND_ERROR`: a backend answered with an error.
 * - `UNSUPPORTED`: the operation is not supported by this backend (see its capabilities).
 * - `INTERNAL`: a bug in Larder: should never happen.
 */
export const LARDER_ERROR_CODES = [
  'INVALID_DEFINITION',
  'INVALID_CONFIG',
  'NOT_FOUND',
  'INVALID_INPUT',
  'INVALID_RECORD',
  'SCHEMA_MISMATCH',
  'REGISTRY_CONFLICT',
  'REGISTRY_CORRUPT',
  'BACKEND_UNAVAILABLE',
  'BACKEND_ERROR',
  'UNSUPPORTED',
  'INTERNAL',
] as const

/** Stable machine-readable error codes (see {@link LARDER_ERROR_CODES}). */
export type LarderErrorCode = (typeof LARDER_ERROR_CODES)[number]

const CODES: ReadonlySet<string> = new Set(LARDER_ERROR_CODES)

/** True when `code` is one of {@link LARDER_ERROR_CODES}. */
export function isLarderErrorCode(code: unknown): code is LarderErrorCode {
  return typeof code === 'string' && CODES.has(code)
}

/**
 * The brand every {@link LarderError} carries. A registered symbol (`Symbol.for`), so two
 * copies of `@larder/core` in one process (a backend with its own copy) recognize each
 * other's errors where `instanceof` would not.
 */
export const LARDER_ERROR_BRAND: unique symbol = Symbol.for('@larder/core/LarderError')

/** Options for {@link LarderError}. */
export interface LarderErrorOptions {
  /** The component that raised the error, e.g. `redis`, `registry`, `cli`. */
  component?: string
  /** The underlying error. */
  cause?: unknown
  /** What the user can do about it; appended to the message. */
  hint?: string
}

/**
 * The base class of every error Larder throws on purpose.
 *
 * @example
 * throw new LarderError('NOT_FOUND', "feature view 'driver_stats' is not registered", {
 *   component: 'registry', hint: 'run `larder apply` first',
 * })
 */
export class LarderError extends Error {
  /** Stable code, safe to branch on. */
  readonly code: LarderErrorCode
  /** The component that raised it. */
  readonly component: string | undefined
  /** The bare reason, without prefix or hint. */
  readonly reason: string
  /** What to do about it. */
  readonly hint: string | undefined

  constructor(code: LarderErrorCode, reason: string, options: LarderErrorOptions = {}) {
    const prefix = options.component ? `[larder] [${options.component}] ` : '[larder] '
    const hint = options.hint ? `: ${options.hint}` : ''
    super(
      prefix + reason + hint,
      options.cause === undefined ? undefined : { cause: options.cause },
    )
    this.name = 'LarderError'
    Object.defineProperty(this, LARDER_ERROR_BRAND, { value: true })
    this.code = code
    this.component = options.component
    this.reason = reason
    this.hint = options.hint
  }
}

/**
 * True when `err` is a {@link LarderError} (of this copy of core or of any other: it checks
 * the {@link LARDER_ERROR_BRAND}, not the class), optionally of the given code.
 */
export function isLarderError(err: unknown, code?: LarderErrorCode): err is LarderError {
  if (typeof err !== 'object' || err === null) return false
  if ((err as Record<symbol, unknown>)[LARDER_ERROR_BRAND] !== true) return false
  return code === undefined || (err as { code?: unknown }).code === code
}

/** Codes of failures on Larder's or a backend's side; every other code is the caller's. */
const SERVER_SIDE: ReadonlySet<LarderErrorCode> = new Set<LarderErrorCode>([
  'REGISTRY_CORRUPT',
  'BACKEND_UNAVAILABLE',
  'BACKEND_ERROR',
  'INTERNAL',
])

/** Errors that are the user's input's fault (an HTTP server maps these to 4xx). */
export const CLIENT_ERROR_CODES: ReadonlySet<LarderErrorCode> = new Set<LarderErrorCode>(
  LARDER_ERROR_CODES.filter((code) => !SERVER_SIDE.has(code)),
)
