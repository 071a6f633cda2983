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
const { quietKafkajsTimerWarning } = await import('./warnings.js')
quietKafkajsTimerWarning()
const { installRepoResolution } = await import('./hooks.js')
installRepoResolution()
const { run } = await import('./cli.js')
process.exitCode = await run(process.argv.slice(2))
