// `pnpm emulator kafka|bigquery|snowflake|redshift --port N` from the repo root.
import { buildThenRun } from './build-then-run.mjs'

buildThenRun('@larder/emulators', 'tooling/emulators/dist/cli.js', process.argv.slice(2))
