/**
 * `larder get-historical-features`: builds a training set with a point-in-time join and writes
 * it to a Parquet or CSV file.
 */
import { type EntityInput, LarderError } from '@larder/core'
import type { Command } from 'commander'
import type { CommandContext } from '../context.js'
import { importOptional } from '../optional.js'
import { splitList } from '../options.js'

/** Adds `get-historical-features` to `program`. */
export function registerGetHistoricalFeatures(program: Command, ctx: CommandContext): void {
  program
    .command('get-historical-features')
    .description('build a training set with a point-in-time join and write it to a file')
    .option('--entity-df <file>', 'entity rows with timestamps (Parquet or CSV)')
    .option(
      '--entity-sql <query>',
      'entity rows as a SQL query run by the offline store (warehouse stores)',
    )
    .option(
      '--entity-table <name>',
      "entity rows as a table of the offline store's database, e.g. dataset.labels",
    )
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
        entityDf?: string
        entitySql?: string
        entityTable?: string
        features?: string
        featureService?: string
        fullFeatureNames?: boolean
        entityTimestampColumn?: string
        output: string
      }) => {
        const entityDf = entityInput(opts, ctx)
        await ctx.withStore(async (store) => {
          const features = splitList(opts.features, '--features')
          const job = await store.getHistoricalFeatures({
            entityDf,
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

/**
 * The entity table of exactly one of `--entity-df`, `--entity-sql`, `--entity-table`. Whether
 * the offline store accepts SQL or table names is checked by core, which names the store.
 * @throws LarderError INVALID_INPUT when none or several are given.
 */
function entityInput(
  opts: { entityDf?: string; entitySql?: string; entityTable?: string },
  ctx: CommandContext,
): EntityInput {
  const given = [
    ['--entity-df', opts.entityDf],
    ['--entity-sql', opts.entitySql],
    ['--entity-table', opts.entityTable],
  ].filter(([, v]) => v !== undefined)
  if (given.length !== 1) {
    throw new LarderError(
      'INVALID_INPUT',
      given.length === 0
        ? 'get-historical-features needs the entity rows'
        : `give only one of ${given.map(([o]) => o).join(', ')}`,
      {
        hint: 'pass --entity-df FILE, --entity-sql QUERY or --entity-table NAME',
      },
    )
  }
  if (opts.entitySql !== undefined) return { sql: opts.entitySql }
  if (opts.entityTable !== undefined) return { table: opts.entityTable }
  return { path: ctx.abs(opts.entityDf as string) }
}
