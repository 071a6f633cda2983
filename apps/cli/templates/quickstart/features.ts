// The driver example, as in Feast's quickstart: hourly driver statistics, a push source for
// fresh values, an on-demand view computed at request time, and a feature service.
import {
  entity,
  featureService,
  featureView,
  onDemandFeatureView,
  pushSource,
  requestSource,
  t,
} from '@larder/core'
import { fileSource } from '@larder/file'

export const driver = entity({
  name: 'driver',
  joinKeys: ['driver_id'],
  valueType: t.int64,
  description: 'A driver of the ride-hailing service',
})

export const driverStatsSource = fileSource({
  name: 'driver_hourly_stats_source',
  path: 'data/driver_stats.parquet',
  timestampField: 'event_timestamp',
  createdTimestampColumn: 'created',
})

export const driverStats = featureView({
  name: 'driver_hourly_stats',
  entities: [driver],
  ttl: { days: 1 },
  schema: { conv_rate: t.float32, acc_rate: t.float32, avg_daily_trips: t.int64 },
  source: driverStatsSource,
  online: true,
  tags: { team: 'driver_performance' },
})

// Rows pushed with `larder`'s API or `POST /push` land in this view (online and/or offline).
export const driverStatsPush = pushSource({
  name: 'driver_stats_push_source',
  batchSource: driverStatsSource,
})

export const driverStatsFresh = featureView({
  name: 'driver_hourly_stats_fresh',
  entities: [driver],
  ttl: { days: 1 },
  schema: { conv_rate: t.float32, acc_rate: t.float32, avg_daily_trips: t.int64 },
  source: driverStatsPush,
})

// Values that only exist at request time.
export const valsToAdd = requestSource({
  name: 'vals_to_add',
  schema: { val_to_add: t.int64, val_to_add_2: t.int64 },
})

export const transformedConvRate = onDemandFeatureView({
  name: 'transformed_conv_rate',
  sources: [driverStats, valsToAdd],
  schema: { conv_rate_plus_val1: t.float64, conv_rate_plus_val2: t.float64 },
  transform: (c) => ({
    conv_rate_plus_val1: c.conv_rate.map((v, i) =>
      v === null ? null : v + Number(c.val_to_add[i] ?? 0),
    ),
    conv_rate_plus_val2: c.conv_rate.map((v, i) =>
      v === null ? null : v + Number(c.val_to_add_2[i] ?? 0),
    ),
  }),
})

export const driverActivity = featureService({
  name: 'driver_activity',
  features: [driverStats.select('conv_rate', 'avg_daily_trips'), transformedConvRate],
})
