/**
 * Capped exponential backoff with full jitter (the AWS architecture blog's "full jitter"),
 * for throttled calls and for the unprocessed part of batch calls.
 */

/** How retries wait and when they give up. */
export interface RetryOptions {
  /**
   * Attempts of one call (or of one batch's unprocessed remainder) before giving up.
   * @default 10
   */
  maxAttempts?: number
  /**
   * The first retry waits up to this long, in milliseconds; each next one up to twice as long.
   * @default 25
   */
  baseDelayMs?: number
  /**
   * No retry waits longer than this, in milliseconds.
   * @default 2000
   */
  maxDelayMs?: number
}

export type ResolvedRetryOptions = Required<RetryOptions>

/** Defaults of {@link RetryOptions}. */
export const DEFAULT_RETRY: ResolvedRetryOptions = {
  maxAttempts: 10,
  baseDelayMs: 25,
  maxDelayMs: 2000,
}

/** The wait before retry number `attempt` (1 = first retry): uniform in [0, min(cap, base * 2^(attempt-1))]. */
export function backoffDelayMs(attempt: number, options: ResolvedRetryOptions): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  return Math.random() * ceiling
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'InternalServerError',
  'ServiceUnavailable',
])

/** True for errors worth retrying after a pause (throttling, transient server errors). */
export function isThrottling(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const e = err as { name?: unknown; $retryable?: { throttling?: boolean } }
  return (typeof e.name === 'string' && THROTTLING.has(e.name)) || e.$retryable?.throttling === true
}

/**
 * Runs `fn`, retrying throttling errors with backoff; `onGiveUp` builds the error thrown when
 * every attempt was throttled. Other errors pass through at once.
 */
export async function withThrottlingRetry<T>(
  fn: () => Promise<T>,
  options: ResolvedRetryOptions,
  onGiveUp: (err: unknown) => Error,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (!isThrottling(err)) throw err
      if (attempt >= options.maxAttempts) throw onGiveUp(err)
      await sleep(backoffDelayMs(attempt, options))
    }
  }
}

/** Runs `fn` over `items` with at most `concurrency` calls in flight; results keep item order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  let failed = false
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++
      try {
        out[i] = await fn(items[i] as T, i)
      } catch (err) {
        failed = true
        throw err
      }
    }
  }
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker)
  await Promise.all(workers)
  return out
}
