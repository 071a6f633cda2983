/**
 * `pnpm emulator s3 [--port N] [--bucket NAME ...]` serves the S3 stand-in until SIGINT/SIGTERM.
 */
import { startS3Emulator } from './index.js'

/** Entry point of `pnpm emulator s3`. */
export async function runS3EmulatorCli(argv: string[]): Promise<void> {
  const buckets: string[] = []
  let port = 0
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1]
    if (argv[i] === '--bucket' && value) buckets.push(value)
    if (argv[i] === '--port') {
      port = Number(value)
      if (!Number.isInteger(port) || port < 0) {
        throw new Error(`--port needs a non-negative integer, got ${value ?? 'nothing'}`)
      }
    }
  }
  const s3 = await startS3Emulator({ port, buckets })
  process.stdout.write(`listening on 127.0.0.1:${s3.port}\n`)
  const stop = () => {
    void s3.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
