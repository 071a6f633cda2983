/**
 * `pnpm emulator s3|gcs [--port N] [--bucket NAME ...]` serves an object-store stand-in
 * until SIGINT/SIGTERM.
 */

/** Entry point of the object-store stand-ins' commands. */
export async function runBucketsEmulatorCli(
  argv: string[],
  start: (o: {
    port: number
    buckets: string[]
  }) => Promise<{ port: number; close(): Promise<void> }>,
): Promise<void> {
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
  const server = await start({ port, buckets })
  process.stdout.write(`listening on 127.0.0.1:${server.port}\n`)
  const stop = () => {
    void server.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
