/**
 * @larder/registry-s3: a Larder registry kept in S3, shared by every machine that applies,
 * materializes, ingests or serves.
 * @packageDocumentation
 */
export {
  parseS3Url,
  registryStore,
  type S3ClientLike,
  type S3RegistryOptions,
  S3RegistryStore,
  s3Registry,
} from './s3-registry.js'
