/** `larder teardown`: removes the repo's online tables and its registry. */
import type { Command } from 'commander'
import type { CommandContext } from '../context.js'

/** Adds `teardown` to `program`. */
export function registerTeardown(program: Command, ctx: CommandContext): void {
  program
    .command('teardown')
    .description('remove the online tables and the registry of the repo')
    .action(async () => {
      await ctx.withStore(async (store) => {
        const { views, registryRemoved } = await store.teardown()
        ctx.io.out(
          registryRemoved
            ? `Removed ${views.length} view(s) from the online store and deleted ${store.registry.path}`
            : `Nothing to remove: there is no registry at ${store.registry.path} (nothing applied, or already torn down)`,
        )
      })
    })
}
