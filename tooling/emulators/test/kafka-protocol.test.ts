// Wire-level behaviour of the test broker on raw sockets: version negotiation, errors for
// unsupported requests, malformed frames, lifecycle.

import type { Socket } from 'node:net'
import { connect } from 'node:net'
import { freePort, isPortOpen } from '@larder/testing'
import { Kafka, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KafkaTestBroker } from '../src/kafka/index.js'
import { SUPPORTED_APIS, startKafkaTestBroker } from '../src/kafka/index.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

let broker: KafkaTestBroker

beforeAll(async () => {
  broker = await startKafkaTestBroker()
})

afterAll(async () => {
  await broker.close()
})

/** A raw client: sends frames, reads back whole response frames. */
class RawClient {
  private buf = Buffer.alloc(0)
  private waiting: ((frame: Buffer) => void) | undefined
  readonly closed: Promise<void>

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk])
      this.deliver()
    })
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()))
    socket.on('error', () => {})
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => resolve(new RawClient(socket)))
      socket.once('error', reject)
    })
  }

  private deliver(): void {
    if (!this.waiting || this.buf.length < 4) return
    const size = this.buf.readInt32BE(0)
    if (this.buf.length < 4 + size) return
    const frame = this.buf.subarray(4, 4 + size)
    this.buf = this.buf.subarray(4 + size)
    const w = this.waiting
    this.waiting = undefined
    w(frame)
  }

  /** Sends one request (header v1) and resolves with the response frame (correlation id first). */
  request(apiKey: number, apiVersion: number, correlationId: number, body = Buffer.alloc(0)) {
    const clientId = Buffer.from('raw')
    const header = Buffer.alloc(10 + clientId.length)
    header.writeInt16BE(apiKey, 0)
    header.writeInt16BE(apiVersion, 2)
    header.writeInt32BE(correlationId, 4)
    header.writeInt16BE(clientId.length, 8)
    clientId.copy(header, 10)
    const size = Buffer.alloc(4)
    size.writeInt32BE(header.length + body.length)
    const response = new Promise<Buffer>((resolve) => {
      this.waiting = resolve
      this.deliver()
    })
    this.socket.write(Buffer.concat([size, header, body]))
    return response
  }

  close(): void {
    this.socket.destroy()
  }
}

function parseApiVersions(frame: Buffer) {
  let pos = 4
  const errorCode = frame.readInt16BE(pos)
  pos += 2
  const n = frame.readInt32BE(pos)
  pos += 4
  const apis = new Map<number, [number, number]>()
  for (let i = 0; i < n; i++) {
    apis.set(frame.readInt16BE(pos), [frame.readInt16BE(pos + 2), frame.readInt16BE(pos + 4)])
    pos += 6
  }
  return { errorCode, apis, rest: frame.length - pos }
}

describe('version negotiation', () => {
  it('ApiVersions v0-v2 list every implemented API; v3 gets UNSUPPORTED_VERSION in v0 form', async () => {
    const c = await RawClient.open(broker.port)
    for (const version of [0, 1, 2]) {
      const frame = await c.request(18, version, 100 + version)
      expect(frame.readInt32BE(0)).toBe(100 + version)
      const { errorCode, apis, rest } = parseApiVersions(frame)
      expect(errorCode).toBe(0)
      expect(apis.get(0)).toEqual([3, 7]) // Produce
      expect(apis.get(1)).toEqual([4, 11]) // Fetch
      expect(apis.size).toBe(Object.keys(SUPPORTED_APIS).length)
      expect(rest).toBe(version === 0 ? 0 : 4) // throttle_time_ms from v1
    }
    const frame = await c.request(18, 3, 7)
    const { errorCode, apis } = parseApiVersions(frame)
    expect(errorCode).toBe(35)
    expect(apis.get(18)).toEqual([0, 2])
    c.close()
  })

  it('answers an unknown API key and an unsupported version with UNSUPPORTED_VERSION', async () => {
    const c = await RawClient.open(broker.port)
    const unknown = await c.request(999, 0, 41)
    expect(unknown.readInt32BE(0)).toBe(41)
    expect(unknown.readInt16BE(4)).toBe(35)
    const oldProduce = await c.request(0, 0, 42) // message-set produce is not implemented
    expect(oldProduce.readInt32BE(0)).toBe(42)
    expect(oldProduce.readInt16BE(4)).toBe(35)
    const transactions = await c.request(22, 0, 43) // InitProducerId is not implemented
    expect(transactions.readInt16BE(4)).toBe(35)
    // The connection is still usable afterwards.
    const ok = await c.request(18, 2, 44)
    expect(parseApiVersions(ok).errorCode).toBe(0)
    c.close()
  })
})

describe('malformed input', () => {
  it('closes only the offending connection and keeps serving', async () => {
    const good = await RawClient.open(broker.port)

    // A body that claims a huge topic array.
    const bad = await RawClient.open(broker.port)
    const body = Buffer.alloc(4)
    body.writeInt32BE(0x7ffffff0)
    void bad.request(3, 1, 1, body)
    await bad.closed

    // A negative frame size.
    const negative = await RawClient.open(broker.port)
    negative.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xfe, 1, 2, 3]))
    await negative.closed

    // A frame too short to hold a request header.
    const short = await RawClient.open(broker.port)
    short.socket.write(Buffer.from([0, 0, 0, 9, 0, 3, 0, 1, 0, 0, 0, 1, 0x7f]))
    await short.closed

    // The earlier connection and new clients still work.
    expect(parseApiVersions(await good.request(18, 2, 5)).errorCode).toBe(0)
    good.close()
    const kafka = new Kafka({ brokers: broker.brokers, logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: 'after-garbage' }] })
    expect(await admin.listTopics()).toContain('after-garbage')
    await admin.disconnect()
  })
})

describe('lifecycle', () => {
  it('starts fast on a requested port, advertises it, and closes every socket', async () => {
    const port = await freePort()
    const started = performance.now()
    const b = await startKafkaTestBroker({ port, partitions: 3 })
    expect(performance.now() - started).toBeLessThan(500)
    expect(b.port).toBe(port)
    expect(b.brokers).toEqual([`127.0.0.1:${port}`])
    await b.createTopic('three')
    await expect(b.createTopic('three')).rejects.toThrow(/already exists/)
    await expect(b.createTopic('bad name!')).rejects.toThrow(/invalid topic name/)

    const kafka = new Kafka({ brokers: b.brokers, logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    const { topics } = await admin.fetchTopicMetadata({ topics: ['three'] })
    expect(topics[0]?.partitions.length).toBe(3)
    await admin.disconnect()

    const idle = await RawClient.open(port)
    await b.close()
    await idle.closed
    expect(await isPortOpen(port)).toBe(false)
    await b.close() // idempotent
  })

  it('auto-creates topics on metadata requests only when asked to', async () => {
    const b = await startKafkaTestBroker({ autoCreateTopics: true, partitions: 2 })
    const kafka = new Kafka({ brokers: b.brokers, logLevel: logLevel.NOTHING })
    const producer = kafka.producer({ retry: { retries: 3, initialRetryTime: 20 } })
    await producer.connect()
    await producer.send({ topic: 'made-on-demand', messages: [{ value: 'x' }] })
    await producer.disconnect()
    expect(b.topicNames()).toEqual(['made-on-demand'])
    expect(
      b.readRecords('made-on-demand', 0).length + b.readRecords('made-on-demand', 1).length,
    ).toBe(1)
    // kafkajs admin metadata requests do not allow auto-creation.
    const admin = kafka.admin()
    await admin.connect()
    await expect(admin.fetchTopicMetadata({ topics: ['not-created'] })).rejects.toThrow()
    await admin.disconnect()
    expect(b.topicNames()).not.toContain('not-created')
    await b.close()
  })

  it('rejects a port that is taken with a clear error', async () => {
    await expect(startKafkaTestBroker({ port: broker.port })).rejects.toThrow(
      /cannot listen on 127\.0\.0\.1:\d+/,
    )
  })
})
