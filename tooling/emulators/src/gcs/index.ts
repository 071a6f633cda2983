/**
 * Google Cloud Storage stand-in (test-only, never shipped): the part of the GCS JSON API a
 * registry needs, in memory, on loopback, for the unmodified `@google-cloud/storage` client
 * (`new Storage({ apiEndpoint })`, which sends no credentials to a custom endpoint): object
 * metadata, media download, multipart and media uploads, delete, and GCS's generation
 * preconditions (`ifGenerationMatch`, `0` meaning "does not exist yet"), answered 412 as GCS
 * does. Requests are handled one at a time, so a conditional write is atomic. See README.md.
 */
import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** Options for {@link startGcsEmulator}. */
export interface GcsEmulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number
  /** Buckets that exist from the start. */
  buckets?: string[]
}

/** A running stand-in. */
export interface GcsEmulator {
  /** `http://127.0.0.1:<port>`: pass as `apiEndpoint` to `new Storage(...)`. */
  apiEndpoint: string
  port: number
  /** Requests served, by operation (for tests that count calls). */
  readonly calls: Record<string, number>
  close(): Promise<void>
}

interface StoredObject {
  body: Buffer
  generation: bigint
  metageneration: number
  contentType: string
  updated: Date
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC32C (Castagnoli) as GCS reports it: base64 of the 4 big-endian bytes. */
export function crc32cBase64(data: Buffer): string {
  let crc = 0xffffffff
  for (const byte of data) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8)
  const out = Buffer.alloc(4)
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0)
  return out.toString('base64')
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' })
  res.end(text)
}

function sendError(
  res: http.ServerResponse,
  status: number,
  reason: string,
  message: string,
): void {
  sendJson(res, status, {
    error: { code: status, message, errors: [{ message, domain: 'global', reason }] },
  })
}

/** Splits a `multipart/related` body into its parts (headers and content). */
function multipartParts(body: Buffer, contentType: string): { headers: string; content: Buffer }[] {
  const m = /boundary="?([^";]+)"?/i.exec(contentType)
  if (!m || m[1] === undefined) throw new Error('multipart body without a boundary')
  const delimiter = Buffer.from(`--${m[1]}`)
  const parts: { headers: string; content: Buffer }[] = []
  let at = body.indexOf(delimiter)
  while (at >= 0) {
    const start = at + delimiter.length
    if (body.subarray(start, start + 2).toString() === '--') break
    const next = body.indexOf(delimiter, start)
    if (next < 0) break
    let part = body.subarray(start, next)
    if (part.subarray(0, 2).toString() === '\r\n') part = part.subarray(2)
    if (part.subarray(-2).toString() === '\r\n') part = part.subarray(0, -2)
    const split = part.indexOf('\r\n\r\n')
    parts.push({
      headers: split < 0 ? '' : part.subarray(0, split).toString('latin1'),
      content: split < 0 ? part : part.subarray(split + 4),
    })
    at = next
  }
  return parts
}

/**
 * Starts the GCS stand-in on 127.0.0.1.
 * @example
 * const gcs = await startGcsEmulator({ buckets: ['larder'] })
 * const storage = new Storage({ apiEndpoint: gcs.apiEndpoint, projectId: 'test' })
 */
export async function startGcsEmulator(options: GcsEmulatorOptions = {}): Promise<GcsEmulator> {
  const buckets = new Map<string, Map<string, StoredObject>>()
  for (const b of options.buckets ?? []) buckets.set(b, new Map())
  const calls: Record<string, number> = {}
  const count = (op: string) => {
    calls[op] = (calls[op] ?? 0) + 1
  }
  let clock = BigInt(Date.now()) * 1000n

  const metadata = (bucket: string, name: string, o: StoredObject) => ({
    kind: 'storage#object',
    id: `${bucket}/${name}/${o.generation}`,
    name,
    bucket,
    generation: String(o.generation),
    metageneration: String(o.metageneration),
    contentType: o.contentType,
    size: String(o.body.length),
    md5Hash: createHash('md5').update(o.body).digest('base64'),
    crc32c: crc32cBase64(o.body),
    updated: o.updated.toISOString(),
    timeCreated: o.updated.toISOString(),
  })

  const preconditionFails = (url: URL, existing: StoredObject | undefined): boolean => {
    const want = url.searchParams.get('ifGenerationMatch')
    if (want === null) return false
    if (want === '0') return existing !== undefined
    return existing === undefined || existing.generation !== BigInt(want)
  }

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const method = req.method ?? 'GET'
    const raw = await readBody(req)
    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname)
    if (upload) {
      count('upload')
      const bucket = buckets.get(decodeURIComponent(upload[1] ?? ''))
      if (!bucket) return sendError(res, 404, 'notFound', 'The specified bucket does not exist.')
      const type = String(req.headers['content-type'] ?? '')
      let name = url.searchParams.get('name') ?? undefined
      let body = raw
      let contentType = type
      if (url.searchParams.get('uploadType') === 'multipart') {
        const parts = multipartParts(raw, type)
        const meta = JSON.parse(parts[0]?.content.toString('utf8') ?? '{}') as {
          name?: string
          contentType?: string
        }
        name = meta.name ?? name
        body = parts[1]?.content ?? Buffer.alloc(0)
        contentType =
          meta.contentType ?? /content-type:\s*([^\r\n]+)/i.exec(parts[1]?.headers ?? '')?.[1] ?? ''
      } else if (url.searchParams.get('uploadType') !== 'media') {
        return sendError(
          res,
          501,
          'notImplemented',
          'only uploadType=multipart and media are implemented here',
        )
      }
      if (!name) return sendError(res, 400, 'required', 'Required: object name')
      const existing = bucket.get(name)
      if (preconditionFails(url, existing)) {
        return sendError(
          res,
          412,
          'conditionNotMet',
          'At least one of the pre-conditions you specified did not hold.',
        )
      }
      clock += 1n
      const now = BigInt(Date.now()) * 1000n
      const generation = now > clock ? now : clock
      clock = generation
      const o: StoredObject = {
        body,
        generation,
        metageneration: 1,
        contentType: contentType || 'application/octet-stream',
        updated: new Date(),
      }
      bucket.set(name, o)
      return sendJson(res, 200, metadata(upload[1] ?? '', name, o))
    }
    const object = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname)
    if (object) {
      const bucketName = decodeURIComponent(object[1] ?? '')
      const name = decodeURIComponent(object[2] ?? '')
      const bucket = buckets.get(bucketName)
      if (!bucket) return sendError(res, 404, 'notFound', 'The specified bucket does not exist.')
      const current = bucket.get(name)
      const wanted = url.searchParams.get('generation')
      const o =
        wanted !== null && current && current.generation !== BigInt(wanted) ? undefined : current
      if (method === 'DELETE') {
        count('delete')
        if (!o) return sendError(res, 404, 'notFound', `No such object: ${bucketName}/${name}`)
        if (preconditionFails(url, o)) {
          return sendError(
            res,
            412,
            'conditionNotMet',
            'At least one of the pre-conditions you specified did not hold.',
          )
        }
        bucket.delete(name)
        res.writeHead(204)
        res.end()
        return
      }
      if (method !== 'GET')
        return sendError(res, 405, 'methodNotAllowed', `${method} is not allowed here`)
      if (!o) return sendError(res, 404, 'notFound', `No such object: ${bucketName}/${name}`)
      if (preconditionFails(url, o)) {
        return sendError(
          res,
          412,
          'conditionNotMet',
          'At least one of the pre-conditions you specified did not hold.',
        )
      }
      if (url.searchParams.get('alt') === 'media') {
        count('download')
        res.writeHead(200, {
          'content-type': o.contentType,
          'content-length': o.body.length,
          'x-goog-generation': String(o.generation),
          'x-goog-metageneration': String(o.metageneration),
          'x-goog-hash': `crc32c=${crc32cBase64(o.body)},md5=${createHash('md5').update(o.body).digest('base64')}`,
          'x-goog-stored-content-length': String(o.body.length),
          'x-goog-stored-content-encoding': 'identity',
        })
        res.end(o.body)
        return
      }
      count('metadata')
      return sendJson(res, 200, metadata(bucketName, name, o))
    }
    const bucketPath = /^\/storage\/v1\/b\/([^/]+)$/.exec(url.pathname)
    if (bucketPath && method === 'GET') {
      count('bucket')
      const bucketName = decodeURIComponent(bucketPath[1] ?? '')
      if (!buckets.has(bucketName))
        return sendError(res, 404, 'notFound', 'The specified bucket does not exist.')
      return sendJson(res, 200, { kind: 'storage#bucket', id: bucketName, name: bucketName })
    }
    sendError(res, 501, 'notImplemented', `${method} ${url.pathname} is not implemented here`)
  }

  let queue: Promise<void> = Promise.resolve()
  const server = http.createServer((req, res) => {
    queue = queue.then(() =>
      handle(req, res).catch((err) => {
        if (!res.headersSent) sendError(res, 500, 'backendError', String(err))
        else res.destroy()
      }),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    apiEndpoint: `http://127.0.0.1:${port}`,
    port,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
