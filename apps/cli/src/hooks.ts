/**
 * Module resolution for feature repos anywhere on disk: `@larder/*` imports in repo files
 * resolve to the packages this CLI ships with (so a repo needs no install of its own, and
 * repo and CLI share one `@larder/core`), and extensionless relative imports (`./features`)
 * find their `.ts` file.
 */
import { registerHooks } from 'node:module'

let installed = false

/** Installs the hooks once per process. */
export function installRepoResolution(): void {
  if (installed) return
  installed = true
  const self = import.meta.url
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier.startsWith('@larder/')) {
        try {
          return nextResolve(specifier, { ...context, parentURL: self })
        } catch {
          return nextResolve(specifier, context)
        }
      }
      try {
        return nextResolve(specifier, context)
      } catch (err) {
        if (
          (specifier.startsWith('./') || specifier.startsWith('../')) &&
          !/\.[cm]?[jt]s$/.test(specifier)
        ) {
          for (const suffix of ['.ts', '/index.ts']) {
            try {
              return nextResolve(specifier + suffix, context)
            } catch {
              // try the next form
            }
          }
        }
        throw err
      }
    },
  })
}
