/**
 * `pnpm emulator kafka [--port N] [--partitions N] [--auto-create-topics]` serves a test broker
 * until SIGINT/SIGTERM; `pnpm emulator kafka --bench [--messages N] [--gzip]` runs the
 * throughput benchmark instead.
 */
import { startKafkaTestBroker } from './index.js'

function intFlag(argv: string[], name: string): number | undefined {
  const i = argv.indexOf(name)
  if (i < 0) return undefined
  const raw = argv[i + 1]
  const n = Number(raw)
  if (raw === undefined || !Number.isInteger(n) || n < 0) {
    throw new Error(`${name} needs a non-negative integer, got ${raw ?? 'nothing'}`)
  }
  return n
}

/** Entry point of `pnpm emulator kafka`. */
export async function runKafkaEmulatorCli(argv: string[]): Promise<void> {
  if (argv.includes('--bench')) {
    const { runKafkaThroughputBench } = await import('./bench.js')
    const r = await runKafkaThroughputBench({
      messages: intFlag(argv, '--messages') ?? 100_000,
      gzip: argv.includes('--gzip'),
    })
    process.stdout.write(
      `kafka throughput: ${r.messages} messages in ${(r.totalMs / 1000).toFixed(2)} s ` +
        `= ${r.messagesPerSecond} messages/s ` +
        `(produce ${r.produceMessagesPerSecond}/s, consume ${r.consumeMessagesPerSecond}/s)\n`,
    )
    return
  }
  const broker = await startKafkaTestBroker({
    port: intFlag(argv, '--port') ?? 0,
    partitions: intFlag(argv, '--partitions') ?? 1,
    autoCreateTopics: argv.includes('--auto-create-topics'),
  })
  process.stdout.write(`listening on 127.0.0.1:${broker.port}\n`)
  const stop = () => {
    broker.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
