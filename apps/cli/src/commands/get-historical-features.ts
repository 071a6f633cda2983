/**
 * `larder get-historical-features`: builds a training set with a point-in-time join and writes
 * it to a Parquet or CSV file.
 */
import type { Command } from 'commander'
import type { CommandContext } from '../context.js'
import { importOptional } from '../optional.js'
import { splitList } from '../options.js'

/** Adds `get-historical-features` to `program`. */
export function registerGetHistoricalFeatures(program: Command, ctx: CommandContext): void {
  program
    .command('get-historical-features')
    .description('build a training set with a point-in-time join and write it to a file')
    .requiredOption('--entity-df <file>', 'entity rows with timestamps (Parquet or CSV)')
    .option('--features <refs>', 'comma-separated view:feature references')
    .option('--feature-service <name>', 'a feature service instead of --features')
    .option('--full-feature-names', 'name columns view__feature')
    .option(
      '--entity-timestamp-column <name>',
      "the entity file's timestamp column (default: event_timestamp, or its only timestamp column)",
    )
    .requiredOption('--output <file>', 'where to write the result (.parquet or .csv)')
    .action(
      async (opts: {
        entityDf: string
        features?: string
        featureService?: string
        fullFeatureNames?: boolean
        entityTimestampColumn?: string
        output: string
      }) => {
        await ctx.withStore(async (store) => {
          const features = splitList(opts.features, '--features')
          const job = await store.getHistoricalFeatures({
            entityDf: { path: ctx.abs(opts.entityDf) },
            ...(features ? { features } : {}),
            ...(opts.featureService ? { featureService: opts.featureService } : {}),
            fullFeatureNames: !!opts.fullFeatureNames,
            ...(opts.entityTimestampColumn
              ? { entityTimestampColumn: opts.entityTimestampColumn }
              : {}),
          })
          const result = await job.toArrow()
          const output = ctx.abs(opts.output)
          const { writeTableFile } = await importOptional(
            () => import('@larder/file'),
            '@larder/file',
            'writing --output files',
          )
          await writeTableFile(result, output)
          ctx.io.out(
            `Wrote ${result.numRows.toLocaleString('en-US')} rows x ${result.numCols} columns to ${output}`,
          )
        })
      },
    )
}
