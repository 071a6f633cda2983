/** `larder registry-dump`: prints the registry as JSON. */
import type { Command } from 'commander'
import type { CommandContext } from '../context.js'

/** Adds `registry-dump` to `program`. */
export function registerRegistryDump(program: Command, ctx: CommandContext): void {
  program
    .command('registry-dump')
    .description('print the registry as JSON')
    .action(async () => {
      await ctx.withStore(async (store) => {
        ctx.io.out(JSON.stringify(await store.registryDump(), null, 2))
      })
    })
}
