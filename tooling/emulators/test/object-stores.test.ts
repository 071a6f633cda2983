// The S3 and GCS stand-ins' own rules, beyond what the registry packages' suites drive
// through the official clients: checksums and the conditional-write answers.
import { describe, expect, it } from 'vitest'
import { crc32cBase64, startGcsEmulator, startS3Emulator } from '../src/index.js'

describe('gcs stand-in', () => {
  it('computes CRC32C as GCS does (known answer for "123456789": 0xE3069283)', () => {
    expect(Buffer.from(crc32cBase64(Buffer.from('123456789')), 'base64').toString('hex')).toBe(
      'e3069283',
    )
    expect(Buffer.from(crc32cBase64(Buffer.alloc(0)), 'base64').toString('hex')).toBe('00000000')
  })

  it('ifGenerationMatch=0 creates only; a stale generation is 412', async () => {
    const gcs = await startGcsEmulator({ buckets: ['b'] })
    const upload = (query: string, body: string) =>
      fetch(`${gcs.apiEndpoint}/upload/storage/v1/b/b/o?uploadType=media&name=o${query}`, {
        method: 'POST',
        body,
      })
    const first = await upload('&ifGenerationMatch=0', 'one')
    expect(first.status).toBe(200)
    const { generation } = (await first.json()) as { generation: string }
    expect((await upload('&ifGenerationMatch=0', 'two')).status).toBe(412)
    const second = await upload(`&ifGenerationMatch=${generation}`, 'two')
    expect(second.status).toBe(200)
    expect((await upload(`&ifGenerationMatch=${generation}`, 'three')).status).toBe(412)
    const media = await fetch(`${gcs.apiEndpoint}/storage/v1/b/b/o/o?alt=media`)
    expect(await media.text()).toBe('two')
    await gcs.close()
  })
})

describe('s3 stand-in', () => {
  it('If-None-Match: * creates only; If-Match needs the current ETag; 412 otherwise', async () => {
    const s3 = await startS3Emulator({ buckets: ['b'] })
    const put = (headers: Record<string, string>, body: string) =>
      fetch(`${s3.endpoint}/b/k`, { method: 'PUT', headers, body })
    const first = await put({ 'if-none-match': '*' }, 'one')
    expect(first.status).toBe(200)
    const etag = first.headers.get('etag') ?? ''
    expect((await put({ 'if-none-match': '*' }, 'two')).status).toBe(412)
    expect((await put({ 'if-match': etag }, 'two')).status).toBe(200)
    const stale = await put({ 'if-match': etag }, 'three')
    expect(stale.status).toBe(412)
    expect(await stale.text()).toContain('<Code>PreconditionFailed</Code>')
    expect(await (await fetch(`${s3.endpoint}/b/k`)).text()).toBe('two')
    expect((await fetch(`${s3.endpoint}/b/missing`)).status).toBe(404)
    await s3.close()
  })

  it('decodes aws-chunked bodies (the SDK with trailing checksums)', async () => {
    const s3 = await startS3Emulator({ buckets: ['b'] })
    const body = '5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n'
    const res = await fetch(`${s3.endpoint}/b/chunked`, {
      method: 'PUT',
      headers: { 'content-encoding': 'aws-chunked' },
      body,
    })
    expect(res.status).toBe(200)
    expect(await (await fetch(`${s3.endpoint}/b/chunked`)).text()).toBe('hello world')
    await s3.close()
  })
})
