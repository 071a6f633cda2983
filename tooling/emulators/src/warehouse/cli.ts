/**
 * Shared CLI plumbing of the DuckDB-backed emulators: `--port N` and `--database FILE`, the
 * `listening on 127.0.0.1:N` line, and a clean shutdown on SIGINT/SIGTERM.
 */
import { portFromArgv } from './http.js'

/** Value of `--name VALUE` in `argv`, or undefined. */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name)
  if (i < 0) return undefined
  const value = argv[i + 1]
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`)
  return value
}

/**
 * Starts an emulator from CLI arguments, prints `listening on 127.0.0.1:N` and serves until
 * SIGINT/SIGTERM.
 */
export async function serveFromCli(
  argv: readonly string[],
  start: (options: {
    port: number
    database?: string
  }) => Promise<{ port: number; close(): Promise<void> }>,
): Promise<void> {
  const database = flagValue(argv, '--database')
  const emulator = await start({ port: portFromArgv(argv), ...(database ? { database } : {}) })
  process.stdout.write(`listening on 127.0.0.1:${emulator.port}\n`)
  const stop = (): void => {
    emulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`close failed: ${String(err)}\n`)
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
