/**
 * The server's limits: option checks, per-request deadlines, and Larder-shaped answers for
 * the HTTP errors Node raises before Fastify sees a request (oversized headers, a malformed
 * request line or Content-Length, a client too slow to send its request).
 */
import type { Socket } from 'node:net'
import { LarderError } from '@larder/core'

/**
 * Checks a numeric option: a finite number within `[min, max]` (an integer when asked).
 * @throws LarderError INVALID_CONFIG naming the option, its value and the accepted range.
 * @example
 * checkNumberOption('bodyLimit', 1e99, { min: 1, max: 1024 ** 3, integer: true }) // throws
 */
export function checkNumberOption(
  name: string,
  value: number | undefined,
  range: { min: number; max: number; integer?: boolean },
): void {
  if (value === undefined) return
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= range.min &&
    value <= range.max &&
    (!range.integer || Number.isInteger(value))
  if (!ok) {
    throw new LarderError(
      'INVALID_CONFIG',
      `option ${name} is ${String(value)}; it must be ${range.integer ? 'a whole number' : 'a number'} from ${range.min} to ${range.max}`,
      { component: 'server' },
    )
  }
}

/**
 * Settles with `work`, or rejects with BACKEND_UNAVAILABLE once `ms` have passed (the work
 * goes on in the background; its late outcome is ignored). `0` means no deadline.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  if (ms <= 0) return work
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new LarderError(
            'BACKEND_UNAVAILABLE',
            `${what} did not finish within ${ms} ms (a store is slow or not answering)`,
            { component: 'server', hint: 'retry later; the server log has the details' },
          ),
        ),
      ms,
    )
  })
  work.catch(() => undefined)
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}

const CLIENT_ERRORS: Record<string, [status: number, reason: string, message: string]> = {
  HPE_HEADER_OVERFLOW: [
    431,
    'Request Header Fields Too Large',
    'the request line and headers are larger than the server accepts (16 KiB): send entities in the JSON body, not the URL',
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [
    408,
    'Request Timeout',
    'the request was not received in time (options headersTimeoutMs and bodyTimeoutMs)',
  ],
}

/**
 * Answers an HTTP-level client error (Node's `clientError`) with Larder's error body; a
 * malformed request (bad Content-Length, request line, chunking) is a 400 naming the parser's
 * reason.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy()
    return
  }
  const known = CLIENT_ERRORS[err.code ?? '']
  const [status, reason, message] = known ?? [
    400,
    'Bad Request',
    `malformed HTTP request (${(err as { reason?: string }).reason ?? err.code ?? 'parse error'})`,
  ]
  const body = JSON.stringify({ error: { code: 'INVALID_INPUT', message } })
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}
