/** `larder apply`: registers the repo's definitions and creates their online tables. */
import type { Command } from 'commander'
import type { CommandContext } from '../context.js'

/** Adds `apply` to `program`. */
export function registerApply(program: Command, ctx: CommandContext): void {
  program
    .command('apply')
    .description('register the repo definitions and create their online tables')
    .option('--skip-source-validation', 'do not check views against their sources')
    .action(async (opts: { skipSourceValidation?: boolean }) => {
      await ctx.withStore(async (store) => {
        const result = await store.apply({ skipSourceValidation: !!opts.skipSourceValidation })
        for (const w of result.warnings) ctx.io.err(`warning: ${w}`)
        ctx.io.out(result.text)
        if (result.changes.length > 0)
          ctx.io.out(`Registry version ${result.version} written to ${store.registry.path}`)
      })
    })
}
