#!/usr/bin/env node
/** The `larder` executable. */
import { installRepoResolution } from './hooks.js'

installRepoResolution()
const { run } = await import('./cli.js')
process.exitCode = await run(process.argv.slice(2))
