/**
 * What Larder needs from the Node.js that runs it, and how a feature repo's imports are
 * resolved wherever the repo lies on disk.
 *
 * Repo files (`larder.config.ts`, definitions) are plain TypeScript run by Node's type
 * stripping, so they need Node 24. Their imports resolve in this order:
 * 1. `@larder/core` always resolves to the core that loads the repo, so repo, backends and
 *    the caller share one copy (one set of definitions, one error family).
 * 2. Any other import resolves the way Node resolves it from the importing file: the repo's
 *    own `node_modules` (its own dependencies) come first.
 * 3. A bare package the repo cannot find is looked up from each base registered with
 *    {@link installRepoResolution} (the CLI registers itself: its project's packages, or the
 *    workspace inside the monorepo), then from this core's own location, then from the
 *    current folder's project. So a repo anywhere on disk works without an install of its own.
 * 4. An extensionless relative import (`./features`) finds its `.ts` file.
 */
import * as nodeModule from 'node:module'
import { pathToFileURL } from 'node:url'
import { LarderError } from './errors.js'

/** The oldest Node.js major version Larder runs on. */
export const MIN_NODE_MAJOR = 24

/**
 * The one-line message for a Node.js older than {@link MIN_NODE_MAJOR}, or `undefined` when
 * `version` is new enough.
 * @param version a `process.versions.node` string. @default the running Node's
 * @example
 * unsupportedNodeMessage('20.20.2') // 'Larder needs Node.js 24 or newer (found 20.20.2)'
 */
export function unsupportedNodeMessage(version = process.versions.node): string | undefined {
  const major = Number(version.replace(/^v/, '').split('.')[0])
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return undefined
  return `Larder needs Node.js ${MIN_NODE_MAJOR} or newer (found ${version.replace(/^v/, '')})`
}

/**
 * Throws when the running Node.js is too old for Larder.
 * @throws LarderError UNSUPPORTED with {@link unsupportedNodeMessage} as its first words.
 */
export function assertSupportedNode(): void {
  const message = unsupportedNodeMessage()
  if (message) {
    throw new LarderError('UNSUPPORTED', message, {
      hint: 'install Node.js 24 LTS (https://nodejs.org) and run again',
    })
  }
}

type ResolveContext = { parentURL?: string | undefined; conditions?: readonly string[] }
type ResolveResult = { url: string; format?: string | null; shortCircuit?: boolean }
type NextResolve = (specifier: string, context?: ResolveContext) => ResolveResult
type RegisterHooks = (hooks: {
  resolve: (specifier: string, context: ResolveContext, next: NextResolve) => ResolveResult
}) => unknown

const SELF = import.meta.url
const bases: string[] = []
let installed = false

const isBare = (specifier: string) =>
  !/^(\.{1,2}\/|\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(specifier) && !specifier.startsWith('#')

const isCore = (specifier: string) =>
  specifier === '@larder/core' || specifier.startsWith('@larder/core/')

/** The package name of a bare specifier: `@scope/name/sub` -> `@scope/name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier)
}

/**
 * Installs the resolution of feature-repo imports described in this module's documentation
 * (once per process; later calls only add bases). `FeatureStore.open` calls it; an app that
 * ships packages of its own (the CLI) passes its own module URL so that repos find them.
 * @param options.from module or folder URLs (`file:` URLs; a folder ends with `/`) to
 *   resolve bare packages from when the repo does not have them, tried in order.
 * @throws LarderError UNSUPPORTED on a Node.js without module hooks (older than 24).
 */
export function installRepoResolution(options: { from?: readonly string[] } = {}): void {
  for (const base of options.from ?? []) if (!bases.includes(base)) bases.push(base)
  if (installed) return
  assertSupportedNode()
  const registerHooks = (nodeModule as { registerHooks?: RegisterHooks }).registerHooks
  if (!registerHooks) assertSupportedNode()
  installed = true
  registerHooks?.({
    resolve(specifier, context, nextResolve) {
      if (isCore(specifier)) {
        try {
          return nextResolve(specifier, { ...context, parentURL: SELF })
        } catch {
          // not resolvable as a self-reference (e.g. run from sources): resolve normally
        }
      }
      try {
        return nextResolve(specifier, context)
      } catch (err) {
        const parent = context.parentURL ?? ''
        if (isBare(specifier) && !parent.includes('/node_modules/')) {
          const cwd = pathToFileURL(`${process.cwd()}/`).href
          for (const base of [...bases, SELF, cwd]) {
            try {
              return nextResolve(specifier, { ...context, parentURL: base })
            } catch {
              // try the next base
            }
          }
        } else if (
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
