/**
 * `pnpm emulator redshift --port N [--postgres URL]`: serves the Redshift Data API emulator until
 * killed, printing `listening on 127.0.0.1:N` once ready.
 */
import { startRedshiftEmulator } from './index.js'

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name)
  if (i < 0) return undefined
  const value = argv[i + 1]
  if (value === undefined || value.startsWith('--')) {
    throw new Error(`[larder] [redshift-emulator] ${name} needs a value`)
  }
  return value
}

/**
 * CLI entry for the Redshift emulator.
 * @param argv arguments after `redshift`: `--port N`, `--postgres URL` (default `POSTGRES_URL`,
 * then the local server), `--page-rows N`.
 */
export async function runRedshiftEmulatorCli(argv: string[]): Promise<void> {
  const portText = option(argv, '--port') ?? '0'
  const port = Number(portText)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`[larder] [redshift-emulator] --port must be 0..65535, got ${portText}`)
  }
  const pageRowsText = option(argv, '--page-rows')
  const postgresUrl = option(argv, '--postgres') ?? process.env.POSTGRES_URL
  const emulator = await startRedshiftEmulator({
    port,
    ...(postgresUrl !== undefined && { postgresUrl }),
    ...(pageRowsText !== undefined && { pageRows: Number(pageRowsText) }),
  })
  process.stdout.write(`listening on 127.0.0.1:${emulator.port}\n`)
  const stop = () => {
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`[larder] [redshift-emulator] close failed: ${String(error)}\n`)
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
