/** `larder materialize START END`: copies the latest values in a window to the online store. */
import type { Command } from 'commander'
import type { CommandContext } from '../context.js'
import { splitList } from '../options.js'
import { materializeSummary } from '../output.js'
import { ProgressPrinter } from '../progress.js'

/** Adds `materialize` to `program`. */
export function registerMaterialize(program: Command, ctx: CommandContext): void {
  program
    .command('materialize')
    .description('copy the latest values with START <= event time <= END to the online store')
    .argument('<start>', "ISO-8601 time or 'now'")
    .argument('<end>', "ISO-8601 time or 'now'")
    .option('--views <names>', 'comma-separated views (default: every online view)')
    .action(async (start: string, end: string, opts: { views?: string }) => {
      const views = splitList(opts.views, '--views')
      await ctx.withStore(async (store) => {
        const progress = new ProgressPrinter()
        const results = await store.materialize(start, end, {
          onProgress: progress.update,
          ...(views ? { views } : {}),
        })
        ctx.io.out(materializeSummary(results))
      })
    })
}
