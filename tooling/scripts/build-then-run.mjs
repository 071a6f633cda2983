// Shared by the root `pnpm larder|quickstart|emulator|bench` scripts: build the package (and
// what it depends on) quietly through turbo's cache, then run its entry point with the
// remaining arguments. Build output is shown only when the build fails.
import { spawn, spawnSync } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/**
 * @param {string} filter turbo filter of the package to build, e.g. `larder`
 * @param {string} entry path of the built entry point, relative to the repo root
 * @param {string[]} args arguments for the entry point
 */
export function buildThenRun(filter, entry, args) {
  const build = spawnSync(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', `--filter=${filter}...`, '--output-logs=errors-only'],
    { cwd: root, encoding: 'utf8', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } },
  )
  if (build.status !== 0) {
    process.stderr.write(build.stdout + build.stderr)
    process.stderr.write(`[larder] build of ${filter} failed; see above\n`)
    process.exit(build.status ?? 1)
  }
  const child = spawn(process.execPath, [resolve(root, entry), ...args], {
    stdio: 'inherit',
    // The caller's working directory, so relative paths in arguments mean what the user meant.
    cwd: process.env.INIT_CWD ?? process.cwd(),
  })
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}
