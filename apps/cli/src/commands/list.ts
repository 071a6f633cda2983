/** `larder list WHAT`: lists registered objects as a table. */
import { type Command, CommanderError } from 'commander'
import type { CommandContext } from '../context.js'
import { table } from '../output.js'

/** Adds `list` to `program`. */
export function registerList(program: Command, ctx: CommandContext): void {
  program
    .command('list')
    .description('list registered objects')
    .argument('<what>', 'entities | views | services | sources | on-demand-views')
    .action(async (what: string) => {
      await ctx.withStore(async (store) => {
        switch (what) {
          case 'entities':
            ctx.io.out(
              table(
                (await store.listEntities()).map((e) => ({
                  name: e.name,
                  join_keys: e.joinKeys.join(','),
                  type: e.valueType,
                  description: e.description ?? '',
                })),
              ),
            )
            break
          case 'views':
          case 'feature-views':
            ctx.io.out(
              table(
                (await store.listFeatureViews()).map((v) => ({
                  name: v.name,
                  kind: v.kind,
                  entities: v.entities.join(','),
                  features: v.features.map((f) => f.name).join(','),
                  ttl_s: v.ttlSeconds,
                  online: v.online,
                })),
              ),
            )
            break
          case 'services':
          case 'feature-services':
            ctx.io.out(
              table(
                (await store.listFeatureServices()).map((s) => ({
                  name: s.name,
                  features: s.features
                    .map((p) => `${p.name ?? p.view}:${p.features?.join('|') ?? '*'}`)
                    .join(','),
                })),
              ),
            )
            break
          case 'sources':
          case 'data-sources':
            ctx.io.out(
              table(
                (await store.listDataSources()).map((s) => ({
                  name: s.name,
                  kind: s.kind,
                  timestamp: s.timestampField ?? '',
                })),
              ),
            )
            break
          case 'on-demand-views':
            ctx.io.out(
              table(
                (await store.listOnDemandFeatureViews()).map((v) => ({
                  name: v.name,
                  sources: v.sources.map((s) => s.view).join(','),
                  features: v.features.map((f) => f.name).join(','),
                })),
              ),
            )
            break
          default:
            throw new CommanderError(
              2,
              'larder.list',
              `error: cannot list '${what}': use entities, views, services, sources or on-demand-views`,
            )
        }
      })
    })
}
