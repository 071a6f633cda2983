/**
 * Module resolution for feature repos anywhere on disk (see `installRepoResolution` in
 * @larder/core): a repo's imports resolve from the repo's own dependencies first, then from
 * the project this CLI is installed in (inside the monorepo: the workspace packages the CLI
 * has as dev dependencies), so `@larder/*` backends come from the user's project.
 */
import { installRepoResolution as installCoreResolution } from '@larder/core'

/** Installs the hooks once per process, with this CLI's location as a resolution base. */
export function installRepoResolution(): void {
  installCoreResolution({ from: [import.meta.url] })
}
