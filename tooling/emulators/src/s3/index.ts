/**
 * S3 stand-in (test-only, never shipped): the part of the S3 REST API a registry needs,
 * path-style, in memory, on loopback, for the unmodified `@aws-sdk/client-s3`: buckets
 * (CreateBucket, HeadBucket), objects (PutObject, GetObject, HeadObject, DeleteObject,
 * ListObjectsV2) and S3's conditional writes: `If-None-Match: *` (create only) and
 * `If-Match: <etag>` (replace only that version), answered 412 PreconditionFailed as S3
 * does. Requests are handled one at a time, so a conditional write is atomic. Signatures are
 * not checked (any credentials work). See README.md for the rules and what is left out.
 */
import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** Options for {@link startS3Emulator}. */
export interface S3EmulatorOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number
  /** Buckets that exist from the start. */
  buckets?: string[]
}

/** A running stand-in. */
export interface S3Emulator {
  /** `http://127.0.0.1:<port>`: pass as `endpoint` with `forcePathStyle: true`. */
  endpoint: string
  port: number
  /** Requests served, by operation name (for tests that count calls). */
  readonly calls: Record<string, number>
  /** Makes the next `n` requests fail with 503 SlowDown (fault tests). */
  failNext(n: number): void
  close(): Promise<void>
}

interface StoredObject {
  body: Buffer
  etag: string
  contentType: string
  lastModified: Date
}

function xmlEscape(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  )
}

function sendError(
  res: http.ServerResponse,
  status: number,
  code: string,
  message: string,
  resource: string,
): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><Resource>${xmlEscape(resource)}</Resource><RequestId>larder-s3-emulator</RequestId></Error>`
  res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': 'larder' })
  res.end(body)
}

/**
 * Decodes an `aws-chunked` body (what the SDK sends with a trailing checksum): hex size
 * lines, each followed by that many bytes; a 0-size chunk then trailers end it.
 */
function decodeAwsChunked(raw: Buffer): Buffer {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = raw.indexOf('\r\n', at)
    if (eol < 0) throw new Error('aws-chunked body: missing chunk size line')
    const size = Number.parseInt(raw.subarray(at, eol).toString('latin1').split(';')[0] ?? '', 16)
    if (!Number.isFinite(size) || size < 0) throw new Error('aws-chunked body: bad chunk size')
    at = eol + 2
    if (size === 0) return Buffer.concat(parts)
    parts.push(raw.subarray(at, at + size))
    at += size + 2
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** Strips the quotes of an ETag header value (`"abc"` and `abc` match the same object). */
function bareEtag(value: string): string {
  return value.trim().replace(/^W\//, '').replace(/^"|"$/g, '')
}

/**
 * Starts the S3 stand-in on 127.0.0.1.
 * @example
 * const s3 = await startS3Emulator({ buckets: ['registry'] })
 * const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1',
 *   credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
 */
export async function startS3Emulator(options: S3EmulatorOptions = {}): Promise<S3Emulator> {
  const buckets = new Map<string, Map<string, StoredObject>>()
  for (const b of options.buckets ?? []) buckets.set(b, new Map())
  const calls: Record<string, number> = {}
  let failures = 0
  const count = (op: string) => {
    calls[op] = (calls[op] ?? 0) + 1
  }

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const segments = url.pathname.split('/').slice(1)
    const bucketName = decodeURIComponent(segments[0] ?? '')
    const key = segments.slice(1).map(decodeURIComponent).join('/')
    const resource = url.pathname
    const method = req.method ?? 'GET'
    const raw = await readBody(req)
    if (failures > 0) {
      failures--
      count('Fault')
      sendError(res, 503, 'SlowDown', 'Please reduce your request rate.', resource)
      return
    }
    if (bucketName === '') {
      count('ListBuckets')
      sendError(res, 501, 'NotImplemented', 'ListBuckets is not implemented here', resource)
      return
    }
    const bucket = buckets.get(bucketName)
    if (key === '') {
      if (method === 'PUT') {
        count('CreateBucket')
        if (bucket) {
          sendError(
            res,
            409,
            'BucketAlreadyOwnedByYou',
            'Your previous request to create the named bucket succeeded and you already own it.',
            resource,
          )
          return
        }
        buckets.set(bucketName, new Map())
        res.writeHead(200, { location: `/${bucketName}` })
        res.end()
        return
      }
      if (!bucket) {
        sendError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', resource)
        return
      }
      if (method === 'HEAD') {
        count('HeadBucket')
        res.writeHead(200)
        res.end()
        return
      }
      if (method === 'GET' && url.searchParams.get('list-type') === '2') {
        count('ListObjectsV2')
        const prefix = url.searchParams.get('prefix') ?? ''
        const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix)).sort()
        const contents = keys
          .map((k) => {
            const o = bucket.get(k)!
            return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>&quot;${o.etag}&quot;</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`
          })
          .join('')
        res.writeHead(200, { 'content-type': 'application/xml' })
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlEscape(bucketName)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${keys.length}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`,
        )
        return
      }
      sendError(
        res,
        501,
        'NotImplemented',
        `${method} on a bucket is not implemented here`,
        resource,
      )
      return
    }
    if (!bucket) {
      sendError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', resource)
      return
    }
    const existing = bucket.get(key)
    const ifMatch = req.headers['if-match']
    const ifNoneMatch = req.headers['if-none-match']
    if (method === 'PUT') {
      count('PutObject')
      if (req.headers['x-amz-copy-source']) {
        sendError(res, 501, 'NotImplemented', 'CopyObject is not implemented here', resource)
        return
      }
      if (ifNoneMatch !== undefined) {
        if (ifNoneMatch.trim() !== '*') {
          sendError(res, 501, 'NotImplemented', 'If-None-Match on PutObject only takes *', resource)
          return
        }
        if (existing) {
          sendError(
            res,
            412,
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
            resource,
          )
          return
        }
      }
      if (ifMatch !== undefined) {
        if (!existing) {
          sendError(res, 404, 'NoSuchKey', 'The specified key does not exist.', resource)
          return
        }
        if (bareEtag(ifMatch) !== existing.etag) {
          sendError(
            res,
            412,
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
            resource,
          )
          return
        }
      }
      const chunked = String(req.headers['content-encoding'] ?? '').includes('aws-chunked')
      let body: Buffer
      try {
        body = chunked ? decodeAwsChunked(raw) : raw
      } catch (err) {
        sendError(res, 400, 'IncompleteBody', (err as Error).message, resource)
        return
      }
      const etag = createHash('md5').update(body).digest('hex')
      bucket.set(key, {
        body,
        etag,
        contentType: String(req.headers['content-type'] ?? 'application/octet-stream'),
        lastModified: new Date(),
      })
      res.writeHead(200, { etag: `"${etag}"` })
      res.end()
      return
    }
    if (method === 'GET' || method === 'HEAD') {
      count(method === 'GET' ? 'GetObject' : 'HeadObject')
      if (!existing) {
        if (method === 'HEAD') {
          res.writeHead(404)
          res.end()
        } else sendError(res, 404, 'NoSuchKey', 'The specified key does not exist.', resource)
        return
      }
      if (ifMatch !== undefined && bareEtag(ifMatch) !== existing.etag) {
        sendError(
          res,
          412,
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
          resource,
        )
        return
      }
      if (ifNoneMatch !== undefined && bareEtag(ifNoneMatch) === existing.etag) {
        res.writeHead(304, { etag: `"${existing.etag}"` })
        res.end()
        return
      }
      res.writeHead(200, {
        etag: `"${existing.etag}"`,
        'content-type': existing.contentType,
        'content-length': existing.body.length,
        'last-modified': existing.lastModified.toUTCString(),
      })
      res.end(method === 'GET' ? existing.body : undefined)
      return
    }
    if (method === 'DELETE') {
      count('DeleteObject')
      bucket.delete(key)
      res.writeHead(204)
      res.end()
      return
    }
    sendError(res, 405, 'MethodNotAllowed', `${method} is not allowed here`, resource)
  }

  // One request at a time: conditional writes are atomic, as S3 makes them.
  let queue: Promise<void> = Promise.resolve()
  const server = http.createServer((req, res) => {
    queue = queue.then(() =>
      handle(req, res).catch((err) => {
        if (!res.headersSent) sendError(res, 500, 'InternalError', String(err), req.url ?? '/')
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
    endpoint: `http://127.0.0.1:${port}`,
    port,
    calls,
    failNext(n: number) {
      failures = n
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
