// Builds the package before the tests that run it in a child process (wal.test.ts imports
// dist/ there, readme.test.ts imports '@larder/sqlite'), so they never run a stale build.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export default function setup(): void {
  const build = spawnSync('pnpm', ['exec', 'tsc', '-p', 'tsconfig.build.json'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
  })
  if (build.status !== 0)
    throw new Error(`[larder] [kinesis] test build failed: ${build.stdout}${build.stderr}`)
}
