/** `larder get-online-features`: reads online features and prints the feature server's JSON. */
import { LarderError } from '@larder/core'
import type { Command } from 'commander'
import type { CommandContext } from '../context.js'
import { parseJsonOption, splitList } from '../options.js'

/** Adds `get-online-features` to `program`. */
export function registerGetOnlineFeatures(program: Command, ctx: CommandContext): void {
  program
    .command('get-online-features')
    .description("read online features and print the feature server's JSON")
    .requiredOption(
      '--entities <json>',
      'entity rows column-major, e.g. \'{"driver_id": [1001, 1002]}\'',
    )
    .option('--features <refs>', 'comma-separated view:feature references')
    .option('--feature-service <name>', 'a feature service instead of --features')
    .option('--full-feature-names', 'name outputs view__feature')
    .action(
      async (opts: {
        entities: string
        features?: string
        featureService?: string
        fullFeatureNames?: boolean
      }) => {
        const entities = parseJsonOption(opts.entities, '--entities')
        if (!entities || typeof entities !== 'object' || Array.isArray(entities)) {
          throw new LarderError(
            'INVALID_INPUT',
            '--entities must be a JSON object of columns, e.g. {"driver_id": [1001]}',
          )
        }
        await ctx.withStore(async (store) => {
          const features = splitList(opts.features, '--features')
          const response = await store.getOnlineFeatures({
            entities: entities as Record<string, unknown[]>,
            ...(features ? { features } : {}),
            ...(opts.featureService ? { featureService: opts.featureService } : {}),
            fullFeatureNames: !!opts.fullFeatureNames,
          })
          ctx.io.out(JSON.stringify(response.toJSON(), null, 2))
        })
      },
    )
}
