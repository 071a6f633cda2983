/**
 * @larder/server: the HTTP feature server (Feast-compatible JSON API) and a small client.
 * @packageDocumentation
 */
export {
  type FeatureServerClient,
  type FeatureServerClientOptions,
  FeatureServerError,
  featureServerClient,
  type OnlineFeaturesQuery,
  type PushTarget,
} from './client.js'
export {
  type ErrorBody,
  HttpError,
  type ServerErrorCode,
  type ServerOnlyErrorCode,
  scrubMessage,
  statusOfCode,
} from './errors.js'
export { jsonReplacer, parseRequestJson } from './json.js'
export { checkNumberOption } from './limits.js'
export { ServerMetrics } from './metrics.js'
export {
  checkServerOptions,
  createFeatureServer,
  type FeatureServer,
  type FeatureServerOptions,
  type FeatureServerTls,
  type StartFeatureServerOptions,
  startFeatureServer,
} from './server.js'
