/**
 * @larder/formats: the record formats of stream sources (`kafkaSource`, `kinesisSource`):
 * JSON, Avro and Protobuf, plain or framed for a Confluent Schema Registry. Each format
 * implements core's `StreamFormat`; the registry stores its `spec`, and `formatFromSpec`
 * rebuilds it.
 * @packageDocumentation
 */
export { type AvroFormatOptions, avroFormat } from './avro-format.js'
export {
  type ConfluentFrame,
  readConfluentHeader,
  readMessageIndexes,
} from './confluent-wire.js'
export { formatFromSpec } from './from-spec.js'
export { type JsonFormatOptions, jsonFormat } from './json-format.js'
export { type ProtobufFormatOptions, protobufFormat } from './protobuf-format.js'
export {
  type RegisteredSchema,
  type SchemaReference,
  SchemaRegistryClient,
} from './schema-registry.js'
