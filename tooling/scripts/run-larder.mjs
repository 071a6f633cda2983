// `pnpm larder ...` and `pnpm quickstart` from the repo root.
import { buildThenRun } from './build-then-run.mjs'

const args = process.argv.slice(2)
if (args[0] === '--quickstart') buildThenRun('larder', 'apps/cli/dist/quickstart.js', args.slice(1))
else buildThenRun('larder', 'apps/cli/dist/bin.js', args)
