// Builds the package before readme.test.ts runs the README examples in child processes (they
// import '@larder/formats'), so they never run a stale build.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export default function setup(): void {
  const build = spawnSync('pnpm', ['exec', 'tsc', '-p', 'tsconfig.build.json'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
  })
  if (build.status !== 0)
    throw new Error(`[larder] [formats] test build failed: ${build.stdout}${build.stderr}`)
}
