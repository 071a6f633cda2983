/**
 * @larder/redis: the Redis online store, in Feast's Redis layout.
 * @packageDocumentation
 */

export { decodeTimestamp, decodeValue, encodeTimestamp, encodeValue, ProtoWriter } from './codec.js'
export { featureFieldName, murmur3_32 } from './murmur3.js'
export {
  entityKeyLength,
  entityKeyPrefix,
  RedisOnlineStore,
  type RedisOnlineStoreOptions,
  redisOnlineStore,
} from './redis-online-store.js'
export { DROP_SCRIPT, WRITE_SCRIPT } from './scripts.js'
