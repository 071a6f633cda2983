/**
 * The `larder` CLI as a library: `run(argv)` and `initRepo(dir)`.
 * @packageDocumentation
 */
export { buildProgram, type Io, run } from './cli.js'
export { type InitOptions, initRepo } from './commands/init.js'
export { installRepoResolution } from './hooks.js'
