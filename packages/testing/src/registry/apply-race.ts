/**
 * Two machines applying at once against one shared registry: two processes each plan a repo
 * with a different view against the same registry store, then both apply at the same moment.
 * Exactly one must win; the other must get REGISTRY_CONFLICT; the registry must hold the
 * winner's view and nothing of the loser's.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** What one worker reported. */
export interface ApplyOutcome {
  ok: boolean
  version?: number
  code?: string
  message?: string
}

/** Options of {@link registryApplyRace}. */
export interface RegistryApplyRaceOptions {
  /** URL of the module exporting the store factory (`import.meta.resolve('@larder/registry-s3')`). */
  moduleUrl: string
  /** The factory's export name (`s3Registry`). */
  factory: string
  /** The factory's JSON-serializable argument (a URL string or options). */
  arg: unknown
  /** The registry's project (each race its own). */
  project: string
}

/**
 * Runs the race and resolves with both outcomes, in the order of views `view_a`, `view_b`.
 * @example
 * const [a, b] = await registryApplyRace({ moduleUrl, factory: 'postgresRegistry', arg: url, project })
 * expect([a, b].filter((o) => o.ok)).toHaveLength(1)
 */
export async function registryApplyRace(
  options: RegistryApplyRaceOptions,
): Promise<ApplyOutcome[]> {
  const worker = fileURLToPath(new URL('./apply-race-worker.js', import.meta.url))
  const start = (view: string) => {
    const child = spawn(
      process.execPath,
      [
        worker,
        options.moduleUrl,
        options.factory,
        JSON.stringify(options.arg),
        view,
        options.project,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    )
    const lines: string[] = []
    let notify: (() => void) | undefined
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      lines.push(...chunk.split('\n').filter(Boolean))
      notify?.()
    })
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)))
    const waitFor = (n: number) =>
      Promise.race([
        new Promise<void>((resolve) => {
          notify = () => {
            if (lines.length >= n) resolve()
          }
          notify()
        }),
        exited.then((code) => {
          if (lines.length < n) throw new Error(`apply-race worker ${view} exited with ${code}`)
        }),
      ])
    return { child, lines, waitFor, exited }
  }
  const a = start('view_a')
  const b = start('view_b')
  await Promise.all([a.waitFor(1), b.waitFor(1)])
  a.child.stdin.write('go\n')
  b.child.stdin.write('go\n')
  await Promise.all([a.waitFor(2), b.waitFor(2), a.exited, b.exited])
  return [a, b].map((w) => JSON.parse(w.lines[1] ?? '{}') as ApplyOutcome)
}
