/**
 * Runs one benchmark module in this process and prints its results as one JSON line.
 */
import { parseArgs } from 'node:util'
import type { Benchmark } from './types.js'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { scale: { type: 'string' }, runs: { type: 'string' } },
})
const name = positionals[0]
if (!name) throw new Error('usage: run-one NAME [--scale N] [--runs N]')
const mod = (await import(`./benchmarks/${name}.js`)) as { default: Benchmark }
const bench = mod.default
const scale = values.scale ? Number(values.scale) : bench.defaultScale
const runs = values.runs ? Number(values.runs) : 3
if (!(scale > 0) || !(runs > 0)) throw new Error('--scale and --runs must be positive numbers')
const results = await bench.run({
  scale,
  runs,
  log: (m) => process.stderr.write(`[${name}] ${m}\n`),
})
process.stdout.write(`${JSON.stringify(results)}\n`)
