/**
 * The `larder` CLI as a library: `run(argv)` and `initRepo(dir)`.
 * @packageDocumentation
 */
export { buildProgram, run, type Io } from './cli.js'
export { initRepo, type InitOptions } from './commands/init.js'
export { installRepoResolution } from './hooks.js'
