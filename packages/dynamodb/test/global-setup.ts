// Builds the package before the tests: readme.test.ts runs a file that imports
// '@larder/dynamodb' (dist/) in a child process, so it never runs a stale build.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export default function setup(): void {
  const build = spawnSync('pnpm', ['exec', 'tsc', '-p', 'tsconfig.build.json'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    encoding: 'utf8',
  })
  if (build.status !== 0)
    throw new Error(`[larder] [dynamodb] test build failed: ${build.stdout}${build.stderr}`)
}
