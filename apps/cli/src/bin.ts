#!/usr/bin/env node
/**
 * The `larder` executable. Checks the Node.js version before loading anything that needs
 * Node 24, so an older Node gets one clear line instead of a SyntaxError.
 */
const { unsupportedNodeMessage } = await import('@larder/core')
const tooOld = unsupportedNodeMessage()
if (tooOld) {
  process.stderr.write(`error: ${tooOld}: install Node.js 24 LTS and run again\n`)
  process.exit(1)
}
// kafkajs 2.2.4 (Kafka sources) schedules one timer with a negative delay per process, which
// Node 24 reports as a TimeoutNegativeWarning on stderr; it is harmless (the timer fires at
// once, as before Node 24). Every other warning is printed as Node prints it.
process.removeAllListeners('warning')
process.on('warning', (warning) => {
  if (warning.name === 'TimeoutNegativeWarning') return
  process.stderr.write(`(node:${process.pid}) ${warning.name}: ${warning.message}\n`)
})
const { installRepoResolution } = await import('./hooks.js')
installRepoResolution()
const { run } = await import('./cli.js')
process.exitCode = await run(process.argv.slice(2))
