/**
 * @larder/dynamodb: the online store on Amazon DynamoDB.
 * @packageDocumentation
 */
export { decoderFor, encoderFor } from './codec.js'
export {
  CREATED_TS,
  DynamodbOnlineStore,
  type DynamodbOnlineStoreOptions,
  type DynamodbWriteMode,
  dynamodbOnlineStore,
  ENTITY_ID,
  EVENT_TS,
} from './dynamodb-online-store.js'
export type { RetryOptions } from './retry.js'
