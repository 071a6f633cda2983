/**
 * The part of a KafkaJS-style client this package uses, typed structurally: kafkajs 2.2's
 * `new Kafka(...)` fits, and so does any client offering the same KafkaJS API (for example
 * @confluentinc/kafka-javascript's `KafkaJS.Kafka`). Nothing here imports kafkajs' types.
 */

/** A record as a KafkaJS consumer delivers it. */
export interface KafkaMessageLike {
  key: Buffer | null
  value: Buffer | null
  /** Create time in epoch milliseconds, as a decimal string. */
  timestamp: string
  offset: string
  headers?: Record<string, Buffer | string | Array<Buffer | string> | undefined>
}

/** A fetched batch of one partition. */
export interface KafkaBatchLike {
  topic: string
  partition: number
  highWatermark: string
  messages: KafkaMessageLike[]
}

/** What `eachBatch` receives. */
export interface KafkaEachBatchPayloadLike {
  batch: KafkaBatchLike
  resolveOffset(offset: string): void
  heartbeat(): Promise<void>
  isRunning(): boolean
  isStale(): boolean
}

/** An instrumentation event (`consumer.group_join`, `consumer.crash`). */
export interface KafkaEventLike {
  // biome-ignore lint/suspicious/noExplicitAny: payloads differ per event, as in kafkajs
  payload: any
}

/** A consumer-group member. */
export interface KafkaConsumerLike {
  connect(): Promise<void>
  disconnect(): Promise<void>
  subscribe(subscription: { topics: string[]; fromBeginning?: boolean }): Promise<void>
  run(config: {
    autoCommit?: boolean
    eachBatchAutoResolve?: boolean
    partitionsConsumedConcurrently?: number
    eachBatch: (payload: KafkaEachBatchPayloadLike) => Promise<void>
  }): Promise<void>
  commitOffsets(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void>
  seek(target: { topic: string; partition: number; offset: string }): void
  readonly events: { GROUP_JOIN: 'consumer.group_join'; CRASH: 'consumer.crash' }
  on(
    event: 'consumer.group_join' | 'consumer.crash',
    listener: (event: KafkaEventLike) => void,
  ): unknown
}

/** A producer (dead letters). */
export interface KafkaProducerLike {
  connect(): Promise<void>
  disconnect(): Promise<void>
  send(record: {
    topic: string
    acks?: number
    messages: Array<{
      key: Buffer | null
      value: Buffer | null
      headers?: Record<string, Buffer | Buffer[]>
      timestamp?: string
    }>
  }): Promise<unknown>
}

/** The admin client (topic checks, offsets by time). */
export interface KafkaAdminLike {
  connect(): Promise<void>
  disconnect(): Promise<void>
  listTopics(): Promise<string[]>
  createTopics(options: {
    topics: Array<{ topic: string; numPartitions?: number }>
    waitForLeaders?: boolean
  }): Promise<boolean>
  fetchTopicOffsetsByTimestamp(
    topic: string,
    timestamp?: number,
  ): Promise<Array<{ partition: number; offset: string }>>
}

/** A KafkaJS-compatible client. */
export interface KafkaClientLike {
  consumer(config: {
    groupId: string
    sessionTimeout?: number
    heartbeatInterval?: number
    maxWaitTimeInMs?: number
    maxBytesPerPartition?: number
  }): KafkaConsumerLike
  producer(config?: { allowAutoTopicCreation?: boolean }): KafkaProducerLike
  admin(): KafkaAdminLike
}
