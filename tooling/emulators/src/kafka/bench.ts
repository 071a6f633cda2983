/**
 * Throughput benchmark: kafkajs produces N messages in batches to a fresh test broker, then one
 * consumer reads them all back. Not a test; run with `pnpm emulator kafka --bench`.
 */
import { startKafkaTestBroker } from './index.js'

/** Options of {@link runKafkaThroughputBench}. */
export interface KafkaBenchOptions {
  /** Messages to push through. Default 100 000. */
  messages?: number
  /** Messages per producer.send call. Default 1 000. */
  batchSize?: number
  /** Partitions of the topic. Default 4. */
  partitions?: number
  /** Bytes per message value. Default 100. */
  valueBytes?: number
  /** Compress producer batches with gzip. Default false. */
  gzip?: boolean
}

/** Figures of one benchmark run. */
export interface KafkaBenchResult {
  messages: number
  produceMs: number
  consumeMs: number
  totalMs: number
  /** messages / (produce + consume) seconds */
  messagesPerSecond: number
  produceMessagesPerSecond: number
  consumeMessagesPerSecond: number
}

/** Produces then consumes `messages` messages through kafkajs and a fresh broker. */
export async function runKafkaThroughputBench(
  options: KafkaBenchOptions = {},
): Promise<KafkaBenchResult> {
  const total = options.messages ?? 100_000
  const batchSize = options.batchSize ?? 1_000
  const partitions = options.partitions ?? 4
  const value = Buffer.alloc(options.valueBytes ?? 100, 'x')
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1'
  const { Kafka, logLevel, CompressionTypes } = await import('kafkajs')

  const broker = await startKafkaTestBroker({ partitions })
  try {
    await broker.createTopic('bench')
    const kafka = new Kafka({
      brokers: broker.brokers,
      clientId: 'bench',
      logLevel: logLevel.ERROR,
    })
    const producer = kafka.producer()
    await producer.connect()
    const t0 = performance.now()
    for (let sent = 0; sent < total; sent += batchSize) {
      const n = Math.min(batchSize, total - sent)
      const messages = Array.from({ length: n }, (_, i) => ({ key: `k${sent + i}`, value }))
      await producer.send({
        topic: 'bench',
        messages,
        ...(options.gzip ? { compression: CompressionTypes.GZIP } : {}),
      })
    }
    const t1 = performance.now()
    await producer.disconnect()

    const consumer = kafka.consumer({ groupId: 'bench', maxWaitTimeInMs: 100 })
    await consumer.connect()
    await consumer.subscribe({ topic: 'bench', fromBeginning: true })
    const t2 = performance.now()
    let received = 0
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            received += batch.messages.length
            if (received >= total) resolve()
          },
        })
        .catch(reject)
    })
    const t3 = performance.now()
    await consumer.disconnect()

    const produceMs = t1 - t0
    const consumeMs = t3 - t2
    return {
      messages: total,
      produceMs,
      consumeMs,
      totalMs: produceMs + consumeMs,
      messagesPerSecond: Math.round(total / ((produceMs + consumeMs) / 1000)),
      produceMessagesPerSecond: Math.round(total / (produceMs / 1000)),
      consumeMessagesPerSecond: Math.round(total / (consumeMs / 1000)),
    }
  } finally {
    await broker.close()
  }
}
