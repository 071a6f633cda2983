/**
 * `pnpm emulator <name> --port N`: starts one test stand-in and serves until killed.
 * Each emulator registers itself in the table below.
 */
const emulators: Record<string, (argv: string[]) => Promise<void>> = {}
emulators.kafka = (a) => import('./kafka/cli.js').then((m) => m.runKafkaEmulatorCli(a))
emulators.redshift = (a) => import('./redshift/cli.js').then((m) => m.runRedshiftEmulatorCli(a))
emulators.bigquery = (a) => import('./bigquery/cli.js').then((m) => m.runBigQueryEmulatorCli(a))
emulators.snowflake = (a) => import('./snowflake/cli.js').then((m) => m.runSnowflakeEmulatorCli(a))
emulators.s3 = async (a) => {
  const [{ runBucketsEmulatorCli }, { startS3Emulator }] = await Promise.all([
    import('./buckets-cli.js'),
    import('./s3/index.js'),
  ])
  await runBucketsEmulatorCli(a, startS3Emulator)
}
emulators.gcs = async (a) => {
  const [{ runBucketsEmulatorCli }, { startGcsEmulator }] = await Promise.all([
    import('./buckets-cli.js'),
    import('./gcs/index.js'),
  ])
  await runBucketsEmulatorCli(a, startGcsEmulator)
}
emulators['schema-registry'] = (a) =>
  import('./schema-registry/cli.js').then((m) => m.runSchemaRegistryEmulatorCli(a))

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2)
  const run = name ? emulators[name] : undefined
  if (!run) {
    const known = Object.keys(emulators).join('|') || '(none yet)'
    process.stderr.write(`usage: pnpm emulator ${known} [--port N]\n`)
    process.exit(2)
  }
  await run(rest)
}

await main()
