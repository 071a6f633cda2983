/** `pnpm emulator snowflake [--port N] [--database FILE]`: serves until killed. */
import { serveFromCli } from '../warehouse/cli.js'
import { startSnowflakeEmulator } from './server.js'

/** Entry point of `pnpm emulator snowflake`. */
export async function runSnowflakeEmulatorCli(argv: string[]): Promise<void> {
  await serveFromCli(argv, startSnowflakeEmulator)
}
