/**
 * JSON schemas of the request bodies. Unknown fields are refused (`additionalProperties:
 * false`) so a misspelt option (`full_feature_name`) is an error, not silently ignored.
 * Value types inside `entities` and `df` are checked later against the registry (they
 * depend on the view), so the schemas only require lists there.
 */

const columns = {
  type: 'object',
  additionalProperties: { type: 'array' },
} as const

const time = { type: 'string', minLength: 1 } as const

const viewNames = { type: 'array', items: { type: 'string', minLength: 1 } } as const

/** POST /get-online-features */
export const getOnlineFeaturesBody = {
  type: 'object',
  additionalProperties: false,
  required: ['entities'],
  properties: {
    entities: columns,
    features: { type: 'array', items: { type: 'string' } },
    feature_service: { type: 'string', minLength: 1 },
    full_feature_names: { type: 'boolean' },
  },
} as const

/** POST /push */
export const pushBody = {
  type: 'object',
  additionalProperties: false,
  required: ['push_source_name', 'df'],
  properties: {
    push_source_name: { type: 'string', minLength: 1 },
    df: columns,
    to: { type: 'string', enum: ['online', 'offline', 'online_and_offline'] },
  },
} as const

/** POST /write-to-online-store */
export const writeToOnlineStoreBody = {
  type: 'object',
  additionalProperties: false,
  required: ['feature_view_name', 'df'],
  properties: {
    feature_view_name: { type: 'string', minLength: 1 },
    df: columns,
  },
} as const

/** POST /materialize */
export const materializeBody = {
  type: 'object',
  additionalProperties: false,
  required: ['start_ts', 'end_ts'],
  properties: { start_ts: time, end_ts: time, feature_views: viewNames },
} as const

/** POST /materialize-incremental */
export const materializeIncrementalBody = {
  type: 'object',
  additionalProperties: false,
  required: ['end_ts'],
  properties: { end_ts: time, feature_views: viewNames },
} as const

/** Body of /get-online-features as the handler sees it. */
export interface GetOnlineFeaturesBody {
  entities: Record<string, unknown[]>
  features?: string[]
  feature_service?: string
  full_feature_names?: boolean
}

/** Body of /push. */
export interface PushBody {
  push_source_name: string
  df: Record<string, unknown[]>
  to?: 'online' | 'offline' | 'online_and_offline'
}

/** Body of /write-to-online-store. */
export interface WriteToOnlineStoreBody {
  feature_view_name: string
  df: Record<string, unknown[]>
}

/** Body of /materialize. */
export interface MaterializeBody {
  start_ts: string
  end_ts: string
  feature_views?: string[]
}

/** Body of /materialize-incremental. */
export interface MaterializeIncrementalBody {
  end_ts: string
  feature_views?: string[]
}
