/**
 * `pnpm bench [name...] [--scale N] [--runs N]`: runs benchmarks (each in its own process, so
 * peak memory is its own), prints a table per benchmark with ratios to the raw baseline, and
 * appends one JSON line per result to bench-results/results.jsonl.
 */
import { spawn } from 'node:child_process'
import { appendFileSync, mkdirSync, readdirSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { markdownTable, summarize } from './report.js'
import type { BenchResult } from './types.js'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '../../..')

function available(): string[] {
  return readdirSync(join(here, 'benchmarks'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3))
    .sort()
}

function runOne(
  name: string,
  scale: string | undefined,
  runs: string | undefined,
): Promise<BenchResult[]> {
  return new Promise((resolveRun, reject) => {
    const args = [
      join(here, 'run-one.js'),
      name,
      ...(scale ? ['--scale', scale] : []),
      ...(runs ? ['--runs', runs] : []),
    ]
    const child = spawn(process.execPath, ['--expose-gc', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c
    })
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`benchmark ${name} exited with code ${code}`))
      try {
        resolveRun(JSON.parse(out.trim().split('\n').at(-1) ?? '[]') as BenchResult[])
      } catch (err) {
        reject(err)
      }
    })
  })
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { scale: { type: 'string' }, runs: { type: 'string' }, list: { type: 'boolean' } },
  })
  const all = available()
  if (values.list) {
    process.stdout.write(`${all.join('\n')}\n`)
    return
  }
  const unknown = positionals.filter((p) => !all.includes(p))
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown benchmark(s): ${unknown.join(', ')}; available: ${all.join(', ')}\n`,
    )
    process.exit(2)
  }
  const names = positionals.length ? positionals : all
  mkdirSync(join(repoRoot, 'bench-results'), { recursive: true })
  const machine = `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`
  let failed = 0
  for (const name of names) {
    process.stderr.write(`\n### ${name} (${machine})\n`)
    try {
      const results = await runOne(name, values.scale, values.runs)
      process.stdout.write(`\n### ${name}\n\n${markdownTable(summarize(results))}\n`)
      const at = new Date().toISOString()
      for (const r of results) {
        appendFileSync(
          join(repoRoot, 'bench-results', 'results.jsonl'),
          `${JSON.stringify({ at, benchmark: name, scale: values.scale ?? 'default', machine, ...r })}\n`,
        )
      }
    } catch (err) {
      failed++
      process.stderr.write(`benchmark ${name} failed: ${(err as Error).message}\n`)
    }
  }
  if (failed > 0) process.exitCode = 1
}

await main()
