/** `larder plan`: shows what apply would change in the registry. */
import type { Command } from 'commander'
import type { CommandContext } from '../context.js'

/** Adds `plan` to `program`. */
export function registerPlan(program: Command, ctx: CommandContext): void {
  program
    .command('plan')
    .description('show what apply would change in the registry')
    .option('--skip-source-validation', 'do not check views against their sources')
    .action(async (opts: { skipSourceValidation?: boolean }) => {
      await ctx.withStore(async (store) => {
        const plan = await store.plan({ skipSourceValidation: !!opts.skipSourceValidation })
        for (const w of plan.warnings) ctx.io.err(`warning: ${w}`)
        ctx.io.out(plan.text)
      })
    })
}
