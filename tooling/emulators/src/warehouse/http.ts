import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'

/** A parsed request handed to an emulator's router. */
export interface EmulatorRequest {
  method: string
  /** Path without the query string. */
  path: string
  query: URLSearchParams
  headers: IncomingMessage['headers']
  /** Raw body, gunzipped when the client sent `Content-Encoding: gzip`. */
  body: Buffer
}

/** What a router answers: a status, a JSON-able body or raw text, optional headers. */
export interface EmulatorResponse {
  status: number
  json?: unknown
  text?: string
  headers?: Record<string, string>
}

/** A started loopback HTTP server. */
export interface LoopbackServer {
  url: string
  port: number
  close(): Promise<void>
}

/** Error carrying an HTTP response: routers throw it to answer with an error body. */
export class HttpError extends Error {
  constructor(readonly response: EmulatorResponse) {
    super(`HTTP ${response.status}`)
    this.name = 'HttpError'
  }
}

/**
 * Serves `handler` on 127.0.0.1 (never another interface). Port 0 picks a free port.
 * A handler that throws a non-`HttpError` answers 500 with `onUnexpected`'s body.
 */
export async function startLoopbackServer(
  port: number,
  handler: (req: EmulatorRequest) => Promise<EmulatorResponse>,
  onUnexpected: (err: unknown) => EmulatorResponse,
): Promise<LoopbackServer> {
  const server = createServer((req, res) => {
    void handle(req, res)
  })
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let response: EmulatorResponse
    try {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      let body = Buffer.concat(chunks)
      if (req.headers['content-encoding'] === 'gzip' && body.length > 0) body = gunzipSync(body)
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      response = await handler({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
      })
    } catch (err) {
      response = err instanceof HttpError ? err.response : onUnexpected(err)
    }
    const headers: Record<string, string> = { ...response.headers }
    let payload: string | undefined
    if (response.json !== undefined) {
      payload = JSON.stringify(response.json)
      headers['content-type'] ??= 'application/json; charset=UTF-8'
    } else if (response.text !== undefined) {
      payload = response.text
      headers['content-type'] ??= 'text/plain; charset=UTF-8'
    }
    res.writeHead(response.status, headers)
    res.end(payload)
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const actual = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Parses a JSON request body, answering 400 through `badRequest` when it is not JSON. */
export function parseJsonBody<T>(body: Buffer, badRequest: (message: string) => never): T {
  if (body.length === 0) return {} as T
  try {
    return JSON.parse(body.toString('utf8')) as T
  } catch {
    return badRequest('request body is not valid JSON')
  }
}

/** Reads `--port N` from CLI arguments (default 0). */
export function portFromArgv(argv: readonly string[]): number {
  const i = argv.indexOf('--port')
  if (i < 0) return 0
  const port = Number(argv[i + 1])
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port needs a port number, got ${argv[i + 1] ?? 'nothing'}`)
  }
  return port
}
