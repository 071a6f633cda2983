export {
  type SchemaInput,
  type SchemaReference,
  type SchemaRegistryEmulator,
  type SchemaRegistryEmulatorOptions,
  type SchemaType,
  type ServedRequest,
  startSchemaRegistryEmulator,
} from './server.js'
