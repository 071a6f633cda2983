// Consumer groups against the test broker with the real kafkajs client: partition split,
// rebalancing when a member joins, and committed offsets surviving a consumer restart.

import type { Consumer, ConsumerConfig, PartitionAssigner } from 'kafkajs'
import { AssignerProtocol, Kafka, logLevel, PartitionAssigners } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KafkaTestBroker } from '../src/kafka/index.js'
import { startKafkaTestBroker } from '../src/kafka/index.js'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

let broker: KafkaTestBroker
let kafka: Kafka
const cleanups: (() => Promise<void>)[] = []

beforeAll(async () => {
  broker = await startKafkaTestBroker({ partitions: 1 })
  kafka = new Kafka({
    brokers: broker.brokers,
    clientId: 'groups-test',
    logLevel: logLevel.NOTHING,
  })
})

afterAll(async () => {
  for (const c of cleanups.reverse()) await c()
  await broker.close()
})

/** Java-style RangeAssigner: each member gets a contiguous range of every topic's partitions. */
const RangeAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'range',
  version: 0,
  async assign({ members, topics }) {
    const ids = members.map((m) => m.memberId).sort()
    const byMember = new Map<string, Record<string, number[]>>(ids.map((id) => [id, {}]))
    for (const topic of topics) {
      const partitions = cluster
        .findTopicPartitionMetadata(topic)
        .map((p) => p.partitionId)
        .sort((a, b) => a - b)
      const per = Math.floor(partitions.length / ids.length)
      const extra = partitions.length % ids.length
      let start = 0
      ids.forEach((id, i) => {
        const n = per + (i < extra ? 1 : 0)
        byMember.get(id)![topic] = partitions.slice(start, start + n)
        start += n
      })
    }
    return ids.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: byMember.get(memberId)!,
        userData: Buffer.alloc(0),
      }),
    }))
  },
  protocol({ topics }) {
    return {
      name: 'range',
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 0,
        topics,
        userData: Buffer.alloc(0),
      }),
    }
  },
})

const fastGroup: Partial<ConsumerConfig> = {
  sessionTimeout: 4000,
  rebalanceTimeout: 4000,
  heartbeatInterval: 150,
  maxWaitTimeInMs: 100,
}

interface Seen {
  consumer: string
  partition: number
  offset: string
  value: string
}

/** A running consumer that records what it sees and its latest assignment. */
async function startConsumer(
  name: string,
  groupId: string,
  topic: string,
  seen: Seen[],
  extra: Partial<ConsumerConfig> = {},
  beforeMessage?: () => Promise<void>,
): Promise<{ consumer: Consumer; assignment: () => number[] }> {
  const consumer = kafka.consumer({ groupId, ...fastGroup, ...extra })
  let assigned: number[] = []
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b)
  })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      await beforeMessage?.()
      seen.push({ consumer: name, partition, offset: message.offset, value: String(message.value) })
    },
  })
  let stopped = false
  cleanups.push(async () => {
    if (!stopped) await consumer.disconnect()
  })
  const originalDisconnect = consumer.disconnect.bind(consumer)
  consumer.disconnect = async () => {
    stopped = true
    await originalDisconnect()
  }
  return { consumer, assignment: () => assigned }
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** True when the assignments are non-empty, disjoint and cover 0..partitions-1. */
function isSplit(assignments: number[][], partitions: number): boolean {
  const all = assignments.flat().sort((a, b) => a - b)
  return (
    assignments.every((a) => a.length > 0) &&
    all.length === partitions &&
    all.every((p, i) => p === i)
  )
}

async function produceRange(topic: string, from: number, to: number): Promise<void> {
  const producer = kafka.producer()
  await producer.connect()
  const messages = []
  for (let i = from; i < to; i++) messages.push({ key: `k${i}`, value: `m${i}` })
  await producer.send({ topic, messages })
  await producer.disconnect()
}

async function allCommitted(groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
    const latest = await admin.fetchTopicOffsets(topic)
    return latest.every(
      (l) => committed?.partitions.find((c) => c.partition === l.partition)?.offset === l.offset,
    )
  } finally {
    await admin.disconnect()
  }
}

describe.each([
  { assigner: 'round-robin', partitionAssigners: [PartitionAssigners.roundRobin] },
  { assigner: 'range', partitionAssigners: [RangeAssigner] },
])('consumer group with the $assigner assignor', ({ assigner, partitionAssigners }) => {
  it('splits partitions between two members, then rebalances to three without loss or duplicates', async () => {
    const topic = `split-${assigner}`
    const groupId = `group-${assigner}`
    await broker.createTopic(topic, 6)
    const seen: Seen[] = []
    const a = await startConsumer('a', groupId, topic, seen, { partitionAssigners })
    const b = await startConsumer('b', groupId, topic, seen, { partitionAssigners })
    await waitFor('two-way split', () => isSplit([a.assignment(), b.assignment()], 6))

    await produceRange(topic, 0, 600)
    await waitFor('600 messages', () => seen.length >= 600)
    await waitFor('commits of the first 600', () => allCommitted(groupId, topic))
    for (const s of seen) {
      const owner = s.consumer === 'a' ? a.assignment() : b.assignment()
      expect(owner).toContain(s.partition)
    }

    const c = await startConsumer('c', groupId, topic, seen, { partitionAssigners })
    await waitFor('three-way split', () =>
      isSplit([a.assignment(), b.assignment(), c.assignment()], 6),
    )
    expect(c.assignment().length).toBe(2)

    await produceRange(topic, 600, 1200)
    await waitFor('1200 messages', () => seen.length >= 1200)
    await waitFor('commits of all 1200', () => allCommitted(groupId, topic))
    // Give a straggling duplicate a moment to show up before counting.
    await new Promise((r) => setTimeout(r, 300))

    const counts = new Map<string, number>()
    for (const s of seen) counts.set(s.value, (counts.get(s.value) ?? 0) + 1)
    expect(counts.size).toBe(1200)
    expect([...counts.values()].every((n) => n === 1)).toBe(true)
    const second = seen.filter((s) => Number(s.value.slice(1)) >= 600)
    const owners = { a: a.assignment(), b: b.assignment(), c: c.assignment() }
    for (const s of second) expect(owners[s.consumer as 'a' | 'b' | 'c']).toContain(s.partition)
    expect(new Set(second.map((s) => s.consumer)).size).toBe(3)

    // The broker reports the group and the chosen protocol.
    const admin = kafka.admin()
    await admin.connect()
    const { groups } = await admin.describeGroups([groupId])
    expect(groups[0]?.state).toBe('Stable')
    expect(groups[0]?.protocol).toBe(assigner === 'range' ? 'range' : 'RoundRobinAssigner')
    expect(groups[0]?.members.length).toBe(3)
    await admin.disconnect()

    await Promise.all([a.consumer.disconnect(), b.consumer.disconnect(), c.consumer.disconnect()])
  }, 40_000)
})

it('a leaving member hands its partitions to the others', async () => {
  const topic = 'leave-topic'
  const groupId = 'leave-group'
  await broker.createTopic(topic, 4)
  const seen: Seen[] = []
  const a = await startConsumer('a', groupId, topic, seen)
  const b = await startConsumer('b', groupId, topic, seen)
  await waitFor('two-way split', () => isSplit([a.assignment(), b.assignment()], 4))
  await b.consumer.disconnect()
  await waitFor('a owns all partitions', () => isSplit([a.assignment()], 4))
  await produceRange(topic, 0, 100)
  await waitFor('100 messages', () => seen.length >= 100)
  expect(new Set(seen.map((s) => s.consumer))).toEqual(new Set(['a']))
  await a.consumer.disconnect()
}, 30_000)

it('committed offsets survive a consumer restart', async () => {
  const topic = 'restart-topic'
  const groupId = 'restart-group'
  await broker.createTopic(topic, 3)
  await produceRange(topic, 0, 90)

  const first: Seen[] = []
  const one = await startConsumer('one', groupId, topic, first)
  await waitFor('first 90', () => first.length >= 90)
  await waitFor('commits', () => allCommitted(groupId, topic))
  await one.consumer.disconnect()

  await produceRange(topic, 90, 150)
  const second: Seen[] = []
  const two = await startConsumer('two', groupId, topic, second)
  await waitFor('next 60', () => second.length >= 60)
  await new Promise((r) => setTimeout(r, 300))
  expect(second.map((s) => s.value).sort()).toEqual(
    Array.from({ length: 60 }, (_, i) => `m${90 + i}`).sort(),
  )
  await two.consumer.disconnect()

  // The group's offsets are visible to the admin client after everyone left.
  const admin = kafka.admin()
  await admin.connect()
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] })
  const total = offsets!.partitions.reduce((n, p) => n + Number(p.offset), 0)
  expect(total).toBe(150)
  await admin.disconnect()
}, 30_000)

/** Starts a third member after everyone left and collects what it receives within `ms`. */
async function redeliveredAfterRestart(groupId: string, topic: string, ms = 4000): Promise<Seen[]> {
  const again: Seen[] = []
  const c = await startConsumer('c', groupId, topic, again)
  await waitFor('c joins', () => c.assignment().length > 0)
  await new Promise((r) => setTimeout(r, ms))
  await c.consumer.disconnect()
  return again
}

// Kafka accepts a commit of the current generation while a rebalance is being prepared; the
// broker once refused it, so the first member's commits were lost when a second one joined and
// a later member received up to all 3,000 messages again (#24).
it('commits made while a second member joins are kept: nothing is consumed twice', async () => {
  const topic = 'commit-during-join'
  const groupId = 'commit-during-join-group'
  await broker.createTopic(topic, 3)
  await produceRange(topic, 0, 3000)
  const seen: Seen[] = []
  // kafkajs' own group timings (3 s heartbeats): a member learns of a rebalance late and
  // commits its batch meanwhile, as in production.
  const kafkajsDefaults = {
    sessionTimeout: 30_000,
    rebalanceTimeout: 60_000,
    heartbeatInterval: 3000,
  }
  const admin = kafka.admin()
  await admin.connect()
  cleanups.push(() => admin.disconnect())
  let b: ReturnType<typeof startConsumer> | undefined
  let gate: Promise<void> | undefined
  // a's first message: b joins, and a finishes its batch (and commits it) while the group
  // is PreparingRebalance.
  const a = await startConsumer('a', groupId, topic, seen, kafkajsDefaults, () => {
    gate ??= (async () => {
      // kafkajs' run() resolves once b has joined, which needs a to rejoin: do not wait for it
      b = startConsumer('b', groupId, topic, seen, kafkajsDefaults)
      await waitFor('a rebalance being prepared', async () => {
        const { groups } = await admin.describeGroups([groupId])
        return groups[0]?.state === 'PreparingRebalance'
      })
    })()
    return gate
  })
  await waitFor('3000 messages', () => new Set(seen.map((s) => s.value)).size >= 3000)
  await Promise.all([a.consumer.disconnect(), (await b)?.consumer.disconnect()])
  const twice = seen.length - new Set(seen.map((s) => s.value)).size
  expect(twice).toBe(0)
  expect(await redeliveredAfterRestart(groupId, topic)).toEqual([])
}, 40_000)

it('commits made while another member leaves are kept: nothing is consumed twice', async () => {
  const topic = 'commit-during-leave'
  const groupId = 'commit-during-leave-group'
  await broker.createTopic(topic, 2)
  const seen: Seen[] = []
  const kafkajsDefaults = {
    sessionTimeout: 30_000,
    rebalanceTimeout: 60_000,
    heartbeatInterval: 3000,
  }
  const admin = kafka.admin()
  await admin.connect()
  cleanups.push(() => admin.disconnect())
  let gate: Promise<void> | undefined
  let bLeft: Promise<void> | undefined
  let armed = false
  const b = startConsumer('b', groupId, topic, seen, kafkajsDefaults)
  // a's first message after the split: b leaves, and a finishes its batch (and commits it)
  // while the group is PreparingRebalance.
  const a = await startConsumer('a', groupId, topic, seen, kafkajsDefaults, () => {
    if (!armed) return Promise.resolve()
    gate ??= (async () => {
      bLeft = (await b).consumer.disconnect()
      await waitFor('a rebalance being prepared', async () => {
        const { groups } = await admin.describeGroups([groupId])
        return groups[0]?.state === 'PreparingRebalance'
      })
    })()
    return gate
  })
  await waitFor('two-way split', async () => isSplit([a.assignment(), (await b).assignment()], 2))
  armed = true
  await produceRange(topic, 0, 3000)
  await waitFor('3000 messages', () => new Set(seen.map((s) => s.value)).size >= 3000)
  await bLeft
  await a.consumer.disconnect()
  const twice = seen.length - new Set(seen.map((s) => s.value)).size
  expect(twice).toBe(0)
  expect(await redeliveredAfterRestart(groupId, topic)).toEqual([])
}, 40_000)
