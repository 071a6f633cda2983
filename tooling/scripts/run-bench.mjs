// `pnpm bench [name] [--scale N]` from the repo root.
import { buildThenRun } from './build-then-run.mjs'

buildThenRun('@larder/bench', 'tooling/bench/dist/cli.js', process.argv.slice(2))
