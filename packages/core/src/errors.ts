/**
 * Larder's one error family. Every error a user can see carries a stable `code`, says which
 * part of Larder raised it (`[larder] [redis] ...`) and, where it helps, what to do next.
 * The original failure, when there is one, is kept as `cause`.
 */

/** Stable machine-readable error codes. Grouped by what went wrong, not where. */
export type LarderErrorCode =
  /** A definition is invalid (duplicate name, bad field, unknown reference...). */
  | 'INVALID_DEFINITION'
  /** Config file missing or invalid. */
  | 'INVALID_CONFIG'
  /** A referenced object (view, feature, service, source, entity) does not exist. */
  | 'NOT_FOUND'
  /** User input (entity rows, pushed rows, times, files) is malformed. */
  | 'INVALID_INPUT'
  /** A stream record cannot be decoded or lacks what its view needs (it is dead-lettered). */
  | 'INVALID_RECORD'
  /** A source's columns do not match what a view needs. */
  | 'SCHEMA_MISMATCH'
  /** The registry changed under us (concurrent apply). */
  | 'REGISTRY_CONFLICT'
  /** The registry file is unreadable or corrupt. */
  | 'REGISTRY_CORRUPT'
  /** A backend service could not be reached or failed. */
  | 'BACKEND_UNAVAILABLE'
  /** A backend answered with an error. */
  | 'BACKEND_ERROR'
  /** The operation is not supported by this backend (see its capabilities). */
  | 'UNSUPPORTED'
  /** A bug in Larder: should never happen. */
  | 'INTERNAL'

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
    this.code = code
    this.component = options.component
    this.reason = reason
    this.hint = options.hint
  }
}

/** True when `err` is a {@link LarderError}, optionally of the given code. */
export function isLarderError(err: unknown, code?: LarderErrorCode): err is LarderError {
  return err instanceof LarderError && (code === undefined || err.code === code)
}

/** Errors that are the user's input's fault (an HTTP server maps these to 4xx). */
export const CLIENT_ERROR_CODES: ReadonlySet<LarderErrorCode> = new Set<LarderErrorCode>([
  'INVALID_DEFINITION',
  'INVALID_CONFIG',
  'NOT_FOUND',
  'INVALID_INPUT',
  'INVALID_RECORD',
  'SCHEMA_MISMATCH',
  'REGISTRY_CONFLICT',
  'UNSUPPORTED',
])
