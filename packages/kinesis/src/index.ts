/**
 * @larder/kinesis: `kinesisSource()` (an Amazon Kinesis data stream feeding stream feature
 * views), its source kind, and the consumer `larder ingest` runs (AWS SDK v3): checkpoints per
 * shard written after the writes, expired iterators re-got, throttling backed off, and
 * resharding read in order (a child shard only after its parents ended).
 * @packageDocumentation
 */
export * from './checkpoints.js'
export * from './kinesis-consumer.js'
export * from './kinesis-source.js'
