/**
 * What every command of the CLI shares: where it writes, which repo it works on, and how it
 * opens (and always closes) the repo's store.
 */
import { isAbsolute, resolve } from 'node:path'
import { FeatureStore } from '@larder/core'

/** Where the CLI writes; tests capture it. */
export interface Io {
  out: (text: string) => void
  err: (text: string) => void
}

/** Writes to the process's stdout and stderr, one line per call. */
export const defaultIo: Io = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
}

/** Handed to each command's `register` function. */
export interface CommandContext {
  /** Where the command writes its output. */
  io: Io
  /** The folder relative paths on the command line resolve against (pnpm's INIT_CWD first). */
  cwd(): string
  /** `path` made absolute against {@link CommandContext.cwd}. */
  abs(path: string): string
  /** The repo folder given by `-c` (default: the current folder). */
  repoDir(): string
  /** Opens the repo's store, runs `fn` with it and closes the store, also on failure. */
  withStore<T>(fn: (store: FeatureStore) => Promise<T>): Promise<T>
}

/**
 * Builds the context of a run; `repoOption` reads the `-c` option once the arguments are
 * parsed.
 */
export function createContext(io: Io, repoOption: () => string): CommandContext {
  const cwd = () => process.env.INIT_CWD ?? process.cwd()
  const repoDir = () => resolve(cwd(), repoOption())
  return {
    io,
    cwd,
    abs: (path) => (isAbsolute(path) ? path : resolve(cwd(), path)),
    repoDir,
    async withStore(fn) {
      const store = await FeatureStore.open(repoDir())
      try {
        return await fn(store)
      } finally {
        await store.close()
      }
    },
  }
}
