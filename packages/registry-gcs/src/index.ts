/**
 * @larder/registry-gcs: a Larder registry kept in Google Cloud Storage, shared by every
 * machine that applies, materializes, ingests or serves.
 * @packageDocumentation
 */
export {
  type GcsRegistryOptions,
  GcsRegistryStore,
  gcsRegistry,
  parseGcsUrl,
  registryStore,
} from './gcs-registry.js'
