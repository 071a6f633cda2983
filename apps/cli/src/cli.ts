/**
 * The `larder` command: `larder [-c REPO_DIR] COMMAND`. Exit code 0 on success, non-zero with
 * a one-line reason on failure. Each command lives in its own file under `commands/`.
 */
import { Command, CommanderError } from 'commander'
import { COMMANDS } from './commands/index.js'
import { createContext, defaultIo, type Io } from './context.js'
import { errorLine } from './output.js'

export type { Io } from './context.js'

/** Builds the command tree. */
export function buildProgram(io: Io = defaultIo): Command {
  const program = new Command('larder')
    .description('Larder: a feature store for Node and TypeScript')
    .option('-c, --chdir <repo>', 'the feature repo folder', '.')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()

  const ctx = createContext(io, () => program.opts<{ chdir: string }>().chdir)
  for (const register of COMMANDS) register(program, ctx)
  return program
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves to the exit code.
 */
export async function run(argv: string[], io: Io = defaultIo): Promise<number> {
  const program = buildProgram(io)
  try {
    await program.parseAsync(argv, { from: 'user' })
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.exitCode === 0
      )
        return 0
      if (err.code === 'larder.list') io.err(err.message)
      return err.exitCode || 2
    }
    io.err(errorLine(err))
    if (process.env.LARDER_DEBUG && err instanceof Error && err.stack) io.err(err.stack)
    return 1
  }
}
