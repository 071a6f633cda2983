/**
 * @larder/kafka: `kafkaSource()` (a Kafka topic feeding stream feature views), its source
 * kind, and the consumer `larder ingest` runs (kafkajs by default, or any KafkaJS-compatible
 * client given to `kafkaConnector({ client })`).
 * @packageDocumentation
 */
export type * from './client.js'
export * from './kafka-consumer.js'
export * from './kafka-source.js'
