/** `pnpm emulator bigquery [--port N] [--database FILE] [--project ID]`: serves until killed. */
import { flagValue, serveFromCli } from '../warehouse/cli.js'
import { startBigQueryEmulator } from './server.js'

/** Entry point of `pnpm emulator bigquery`. */
export async function runBigQueryEmulatorCli(argv: string[]): Promise<void> {
  const projectId = flagValue(argv, '--project')
  await serveFromCli(argv, (options) =>
    startBigQueryEmulator({ ...options, ...(projectId ? { projectId } : {}) }),
  )
}
