/**
 * `larder registry-copy FROM TO [--overwrite]`: moves a registry between stores (a file path,
 * `s3://`, `gs://` or `postgres://`), e.g. from the local file to a shared one.
 */
import {
  copyRegistry,
  FileRegistryStore,
  type RegistryStore,
  resolveRegistryStore,
} from '@larder/core'
import type { Command } from 'commander'
import type { CommandContext } from '../context.js'

/** Adds `registry-copy` to `program`. */
export function registerRegistryCopy(program: Command, ctx: CommandContext): void {
  program
    .command('registry-copy')
    .description(
      'copy a registry from one place to another (file path, s3://, gs:// or postgres:// URL)',
    )
    .argument('<from>', 'where the registry is now')
    .argument('<to>', 'where to copy it (must be empty unless --overwrite)')
    .option('--overwrite', 'replace a registry already at the destination')
    .option('--project <name>', "the project's row in a PostgreSQL registry table")
    .action(async (from: string, to: string, opts: { overwrite?: boolean; project?: string }) => {
      const open = async (setting: string): Promise<RegistryStore> => {
        const store = await resolveRegistryStore(
          setting,
          ctx.cwd(),
          (p) => new FileRegistryStore(p),
        )
        if (opts.project) store.configure?.({ project: opts.project })
        return store
      }
      const source = await open(from)
      const target = await open(to)
      try {
        const data = await copyRegistry(source, target, { overwrite: opts.overwrite ?? false })
        ctx.io.out(
          `Copied registry of project '${data.project}' (version ${data.version}) from ${source.location} to ${target.location}`,
        )
      } finally {
        await Promise.allSettled([source.close?.(), target.close?.()])
      }
    })
}
