/**
 * `larder materialize-incremental END`: materializes each online view from where it was last
 * materialized up to END.
 */
import type { Command } from 'commander'
import type { CommandContext } from '../context.js'
import { splitList } from '../options.js'
import { materializeSummary } from '../output.js'
import { ProgressPrinter } from '../progress.js'

/** Adds `materialize-incremental` to `program`. */
export function registerMaterializeIncremental(program: Command, ctx: CommandContext): void {
  program
    .command('materialize-incremental')
    .description('materialize each online view from where it was last materialized up to END')
    .argument('<end>', "ISO-8601 time or 'now'")
    .option('--views <names>', 'comma-separated views (default: every online view)')
    .action(async (end: string, opts: { views?: string }) => {
      const views = splitList(opts.views, '--views')
      await ctx.withStore(async (store) => {
        const progress = new ProgressPrinter()
        const results = await store.materializeIncremental(end, {
          onProgress: progress.update,
          ...(views ? { views } : {}),
        })
        ctx.io.out(materializeSummary(results, true))
      })
    })
}
