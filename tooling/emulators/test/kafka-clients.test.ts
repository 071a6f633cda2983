// Producer, consumer and admin flows of the real kafkajs client against the test broker.

import type { Consumer, KafkaMessage } from 'kafkajs'
import { CompressionTypes, Kafka, logLevel } from 'kafkajs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { KafkaTestBroker } from '../src/kafka/index.js'
import { startKafkaTestBroker } from '../src/kafka/index.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

let broker: KafkaTestBroker
let kafka: Kafka
const running: Consumer[] = []

beforeAll(async () => {
  broker = await startKafkaTestBroker({ partitions: 2 })
  kafka = new Kafka({
    brokers: broker.brokers,
    clientId: 'clients-test',
    logLevel: logLevel.NOTHING,
  })
})

afterEach(async () => {
  for (const c of running.splice(0)) await c.disconnect()
})

afterAll(async () => {
  await broker.close()
})

/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`), written from the algorithm description,
 * independent of kafkajs: the default partitioner sends a key to
 * `(murmur2(key) & 0x7fffffff) % numPartitions`.
 */
function murmur2(data: Buffer): number {
  const m = 0x5bd1e995
  const r = 24
  let h = 0x9747b28c ^ data.length
  const len4 = data.length & ~3
  for (let i = 0; i < len4; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    k = Math.imul(k, m)
    k ^= k >>> r
    k = Math.imul(k, m)
    h = Math.imul(h, m)
    h ^= k
  }
  const rest = data.length & 3
  if (rest === 3) h ^= data[len4 + 2]! << 16
  if (rest >= 2) h ^= data[len4 + 1]! << 8
  if (rest >= 1) {
    h ^= data[len4]!
    h = Math.imul(h, m)
  }
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h
}

const expectedPartition = (key: string, partitions: number) =>
  (murmur2(Buffer.from(key)) & 0x7fffffff) % partitions

interface Got {
  partition: number
  message: KafkaMessage
}

/** Runs a consumer until `count` messages arrived; returns them in arrival order. */
async function consume(
  topic: string,
  count: number,
  opts: { groupId?: string; fromBeginning?: boolean; onReady?: (c: Consumer) => void } = {},
): Promise<Got[]> {
  const consumer = kafka.consumer({
    groupId: opts.groupId ?? `g-${topic}-${Math.random()}`,
    maxWaitTimeInMs: 100,
    heartbeatInterval: 200,
  })
  running.push(consumer)
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: opts.fromBeginning ?? true })
  const got: Got[] = []
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${got.length}/${count} messages from ${topic}`)),
      15_000,
    )
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          got.push({ partition, message })
          if (got.length === count) {
            clearTimeout(timer)
            resolve()
          }
        },
      })
      .then(() => opts.onReady?.(consumer), reject)
  })
  return got
}

describe('produce and consume', () => {
  it('keeps per-partition order and routes keys like the Java partitioner', async () => {
    const topic = 'ordering'
    const partitions = 5
    await broker.createTopic(topic, partitions)
    const producer = kafka.producer()
    await producer.connect()
    const keys = Array.from({ length: 40 }, (_, i) => `user-${i}`)
    // 10 rounds, each a separate request, so per-key order spans many batches.
    for (let round = 0; round < 10; round++) {
      await producer.send({
        topic,
        messages: keys.map((key) => ({ key, value: `${key}:${round}` })),
      })
    }
    await producer.disconnect()

    const got = await consume(topic, 400)
    for (const { partition, message } of got) {
      expect(partition).toBe(expectedPartition(String(message.key), partitions))
    }
    // Offsets per partition arrive strictly increasing and without gaps.
    const byPartition = new Map<number, Got[]>()
    for (const g of got) byPartition.set(g.partition, [...(byPartition.get(g.partition) ?? []), g])
    for (const list of byPartition.values()) {
      expect(list.map((g) => g.message.offset)).toEqual(list.map((_, i) => String(i)))
    }
    // Per key, rounds arrive in production order.
    for (const key of keys) {
      const rounds = got
        .filter((g) => String(g.message.key) === key)
        .map((g) => Number(String(g.message.value).split(':')[1]))
      expect(rounds).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    }
  })

  it('round-trips gzip batches with keys, headers and timestamps', async () => {
    const topic = 'gzip'
    await broker.createTopic(topic, 1)
    const producer = kafka.producer()
    await producer.connect()
    const base = 1_700_000_000_000
    const messages = Array.from({ length: 50 }, (_, i) => ({
      key: `key-${i}`,
      value: `value-${i} `.repeat(20),
      timestamp: String(base + i * 1000),
      headers: { 'trace-id': `t${i}`, multi: [`a${i}`, `b${i}`] },
    }))
    await producer.send({ topic, compression: CompressionTypes.GZIP, messages })
    await producer.send({
      topic,
      messages: [{ key: null, value: 'plain', timestamp: String(base) }],
    })
    await producer.disconnect()

    // The broker stored the producer's gzip batch as sent.
    const stored = broker.readRecords(topic, 0)
    expect(stored.length).toBe(51)

    const got = await consume(topic, 51)
    got.slice(0, 50).forEach(({ message }, i) => {
      expect(String(message.key)).toBe(`key-${i}`)
      expect(String(message.value)).toBe(`value-${i} `.repeat(20))
      expect(message.timestamp).toBe(String(base + i * 1000))
      expect(String(message.headers?.['trace-id'])).toBe(`t${i}`)
      expect(((message.headers?.multi ?? []) as Buffer[]).map(String)).toEqual([`a${i}`, `b${i}`])
    })
    expect(got[50]?.message.key).toBeNull()
    expect(String(got[50]?.message.value)).toBe('plain')
  })

  it('acks 0, 1 and -1 all store the messages', async () => {
    const topic = 'acks'
    await broker.createTopic(topic, 1)
    const producer = kafka.producer()
    await producer.connect()
    const r1 = await producer.send({ topic, acks: 1, messages: [{ value: 'one' }] })
    const rAll = await producer.send({ topic, acks: -1, messages: [{ value: 'all' }] })
    await producer.send({ topic, acks: 0, messages: [{ value: 'none' }] })
    expect(r1[0]?.baseOffset).toBe('0')
    expect(rAll[0]?.baseOffset).toBe('1')
    await producer.disconnect()
    const got = await consume(topic, 3)
    expect(got.map((g) => String(g.message.value))).toEqual(['one', 'all', 'none'])
  })

  it('fromBeginning false only sees new messages; true sees everything', async () => {
    const topic = 'from-beginning'
    await broker.createTopic(topic, 1)
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic, messages: [{ value: 'old-1' }, { value: 'old-2' }] })

    let resolveReady: () => void = () => {}
    const ready = new Promise<void>((r) => {
      resolveReady = r
    })
    const latest = consume(topic, 1, { fromBeginning: false, onReady: () => resolveReady() })
    await ready
    // Give the consumer time to join and resolve its starting offset (latest) before producing.
    await new Promise((r) => setTimeout(r, 500))
    await producer.send({ topic, messages: [{ value: 'new' }] })
    expect((await latest).map((g) => String(g.message.value))).toEqual(['new'])

    const all = await consume(topic, 3, { fromBeginning: true })
    expect(all.map((g) => String(g.message.value))).toEqual(['old-1', 'old-2', 'new'])
    await producer.disconnect()
  })

  it('seek moves a running consumer', async () => {
    const topic = 'seek'
    await broker.createTopic(topic, 1)
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({
      topic,
      messages: Array.from({ length: 10 }, (_, i) => ({ value: `s${i}` })),
    })
    await producer.disconnect()

    const consumer = kafka.consumer({ groupId: 'seek-group', maxWaitTimeInMs: 100 })
    running.push(consumer)
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    const values: string[] = []
    let seeked = false
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          values.push(String(message.value))
          if (message.offset === '9' && !seeked) {
            seeked = true
            consumer.seek({ topic, partition: 0, offset: '7' })
          } else if (seeked && message.offset === '9') {
            resolve()
          }
        },
      })
    })
    expect(values).toEqual([
      's0',
      's1',
      's2',
      's3',
      's4',
      's5',
      's6',
      's7',
      's8',
      's9',
      's7',
      's8',
      's9',
    ])
  })

  it('a long-polling fetch is answered as soon as a message arrives', async () => {
    const topic = 'long-poll'
    await broker.createTopic(topic, 1)
    const consumer = kafka.consumer({ groupId: 'long-poll', maxWaitTimeInMs: 4000 })
    running.push(consumer)
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    let joined: () => void = () => {}
    const isJoined = new Promise<void>((r) => {
      joined = r
    })
    consumer.on(consumer.events.GROUP_JOIN, () => joined())
    let arrived: (at: number) => void = () => {}
    const arrival = new Promise<number>((r) => {
      arrived = r
    })
    await consumer.run({ eachMessage: async () => arrived(performance.now()) })
    await isJoined
    // Let the consumer settle into a Fetch that waits up to 4 s for data.
    await new Promise((r) => setTimeout(r, 300))
    const producer = kafka.producer()
    await producer.connect()
    const sentAt = performance.now()
    await producer.send({ topic, messages: [{ value: 'ping' }] })
    const latency = (await arrival) - sentAt
    await producer.disconnect()
    expect(latency).toBeLessThan(1500)
  })

  it('a producer to a missing topic fails (no auto-creation by default)', async () => {
    const producer = kafka.producer({ retry: { retries: 1, initialRetryTime: 50 } })
    await producer.connect()
    await expect(
      producer.send({ topic: 'does-not-exist', messages: [{ value: 'x' }] }),
    ).rejects.toThrow()
    await producer.disconnect()
    expect(broker.topicNames()).not.toContain('does-not-exist')
  })
})

describe('admin', () => {
  it('creates, describes, lists offsets of and deletes topics', async () => {
    const admin = kafka.admin()
    await admin.connect()
    expect(
      await admin.createTopics({
        topics: [
          { topic: 'admin-a', numPartitions: 4 },
          { topic: 'admin-b' }, // broker default: 2
        ],
      }),
    ).toBe(true)
    // Creating an existing topic is not an error for kafkajs: it reports false.
    expect(await admin.createTopics({ topics: [{ topic: 'admin-a', numPartitions: 4 }] })).toBe(
      false,
    )
    await expect(
      admin.createTopics({
        topics: [{ topic: 'admin-c', numPartitions: 1, replicationFactor: 3 }],
      }),
    ).rejects.toThrow()

    const { topics } = await admin.fetchTopicMetadata({ topics: ['admin-a', 'admin-b'] })
    const sorted = [...topics].sort((x, y) => x.name.localeCompare(y.name))
    expect(sorted.map((t) => [t.name, t.partitions.length])).toEqual([
      ['admin-a', 4],
      ['admin-b', 2],
    ])
    for (const p of sorted[0]!.partitions) {
      expect(p.leader).toBe(0)
      expect(p.replicas).toEqual([0])
      expect(p.isr).toEqual([0])
    }
    expect(await admin.listTopics()).toEqual(expect.arrayContaining(['admin-a', 'admin-b']))
    const cluster = await admin.describeCluster()
    expect(cluster.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: broker.port }])
    expect(cluster.controller).toBe(0)

    const producer = kafka.producer()
    await producer.connect()
    await producer.send({
      topic: 'admin-a',
      messages: [
        { partition: 1, value: 'x', timestamp: '1000' },
        { partition: 1, value: 'y', timestamp: '2000' },
        { partition: 3, value: 'z', timestamp: '3000' },
      ],
    })
    await producer.disconnect()
    const offsets = await admin.fetchTopicOffsets('admin-a')
    expect(offsets.sort((a, b) => a.partition - b.partition)).toEqual([
      { partition: 0, offset: '0', high: '0', low: '0' },
      { partition: 1, offset: '2', high: '2', low: '0' },
      { partition: 2, offset: '0', high: '0', low: '0' },
      { partition: 3, offset: '1', high: '1', low: '0' },
    ])
    const byTime = await admin.fetchTopicOffsetsByTimestamp('admin-a', 1500)
    expect(byTime.find((o) => o.partition === 1)?.offset).toBe('1')

    await admin.deleteTopics({ topics: ['admin-a'] })
    expect(await admin.listTopics()).not.toContain('admin-a')
    await expect(admin.fetchTopicMetadata({ topics: ['admin-a'] })).rejects.toThrow(
      /does not host this topic-partition/,
    )
    await admin.disconnect()
  })

  it('sets and resets group offsets, and describes groups', async () => {
    const topic = 'admin-offsets'
    await broker.createTopic(topic, 1)
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({
      topic,
      messages: Array.from({ length: 5 }, (_, i) => ({ value: `o${i}` })),
    })
    await producer.disconnect()
    const admin = kafka.admin()
    await admin.connect()
    await admin.setOffsets({
      groupId: 'offsets-group',
      topic,
      partitions: [{ partition: 0, offset: '3' }],
    })
    const got = await consume(topic, 2, { groupId: 'offsets-group' })
    expect(got.map((g) => String(g.message.value))).toEqual(['o3', 'o4'])
    for (const c of running.splice(0)) await c.disconnect()
    await admin.resetOffsets({ groupId: 'offsets-group', topic, earliest: true })
    const [offsets] = await admin.fetchOffsets({ groupId: 'offsets-group', topics: [topic] })
    // kafkajs commits the sentinel -2 ("earliest"); a new member then starts from the beginning.
    expect(offsets?.partitions).toEqual([{ partition: 0, offset: '-2', metadata: null }])
    const again = await consume(topic, 5, { groupId: 'offsets-group' })
    expect(again.map((g) => String(g.message.value))).toEqual(['o0', 'o1', 'o2', 'o3', 'o4'])
    const { groups } = await admin.listGroups()
    expect(groups).toContainEqual({ groupId: 'offsets-group', protocolType: 'consumer' })
    await admin.disconnect()
    // admin.setOffsets runs a paused consumer for one fetch round: kafkajs's 5 s maxWaitTime.
  }, 20_000)

  it('refuses idempotent producers (no InitProducerId)', async () => {
    const producer = kafka.producer({
      idempotent: true,
      retry: { retries: 1, initialRetryTime: 10 },
    })
    await expect(producer.connect()).rejects.toThrow(/does not support/)
    await producer.disconnect()
  })
})
