/**
 * Node warnings of the CLI's processes. kafkajs 2.2.4 (Kafka sources) schedules one timer with
 * a negative delay per process, which Node 24 reports as a TimeoutNegativeWarning on stderr;
 * it is harmless (the timer fires at once, as before Node 24). Every other warning is printed
 * as Node prints it.
 */
export function quietKafkajsTimerWarning(): void {
  process.removeAllListeners('warning')
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning') return
    process.stderr.write(`(node:${process.pid}) ${warning.name}: ${warning.message}\n`)
  })
}
