/** `pnpm emulator schema-registry [--port N]`: serves a Schema Registry stand-in until killed. */
import { serveFromCli } from '../warehouse/cli.js'
import { startSchemaRegistryEmulator } from './server.js'

/** Entry point of `pnpm emulator schema-registry`. */
export async function runSchemaRegistryEmulatorCli(argv: string[]): Promise<void> {
  await serveFromCli(argv, ({ port }) => startSchemaRegistryEmulator({ port }))
}
