/**
 * A test stand-in Kafka broker for kafkajs 2.x: single node, in memory, on 127.0.0.1.
 * See README.md in this folder for the implemented API keys and versions.
 */
import { KafkaBrokerCore } from './broker.js'
import type { DecodedRecord } from './records.js'

export { SUPPORTED_APIS } from './broker.js'
export type { DecodedRecord } from './records.js'

/** Options of {@link startKafkaTestBroker}. */
export interface KafkaTestBrokerOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number
  /** Partitions of topics created without an explicit count. Default 1. */
  partitions?: number
  /**
   * Create unknown topics when a Metadata request allows it (kafkajs producers do by default).
   * Default false, like a locked-down test cluster: produce to a missing topic fails.
   */
  autoCreateTopics?: boolean
  /**
   * How long a new consumer group waits for more members before its first generation
   * (Kafka's group.initial.rebalance.delay.ms). Default 0.
   */
  groupInitialRebalanceDelayMs?: number
}

/** A running test broker. */
export interface KafkaTestBroker {
  /** Bootstrap list for kafkajs: `['127.0.0.1:PORT']`. */
  readonly brokers: string[]
  /** The bound port. */
  readonly port: number
  /** Creates a topic with `partitions` (default: the broker's default); rejects if it exists. */
  createTopic(name: string, partitions?: number): Promise<void>
  /** Deletes a topic; resolves false when there was none. */
  deleteTopic(name: string): Promise<boolean>
  /** Decoded records of one partition (for assertions). */
  readRecords(topic: string, partition: number): DecodedRecord[]
  /** Existing topic names. */
  topicNames(): string[]
  /** Closes every connection and the listener. Idempotent. */
  close(): Promise<void>
}

/**
 * Starts a Kafka test broker on 127.0.0.1.
 *
 * @example
 * const broker = await startKafkaTestBroker({ partitions: 3 })
 * await broker.createTopic('events')
 * const kafka = new Kafka({ brokers: broker.brokers })
 * // ... produce and consume with kafkajs ...
 * await broker.close()
 */
export async function startKafkaTestBroker(
  options: KafkaTestBrokerOptions = {},
): Promise<KafkaTestBroker> {
  const partitions = options.partitions ?? 1
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new Error(
      `startKafkaTestBroker: partitions must be a positive integer, got ${partitions}`,
    )
  }
  const port = options.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`startKafkaTestBroker: invalid port ${port}`)
  }
  const core = new KafkaBrokerCore({
    defaultPartitions: partitions,
    autoCreateTopics: options.autoCreateTopics ?? false,
    groupInitialRebalanceDelayMs: options.groupInitialRebalanceDelayMs ?? 0,
  })
  const bound = await core.listen(port)
  return {
    brokers: [`127.0.0.1:${bound}`],
    port: bound,
    createTopic: async (name, n) => core.createTopic(name, n ?? partitions),
    deleteTopic: async (name) => core.deleteTopic(name),
    readRecords: (topic, partition) => core.readRecords(topic, partition),
    topicNames: () => core.topicNames(),
    close: () => core.close(),
  }
}
