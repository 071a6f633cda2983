/**
 * A benchmark subject's own process (see harness.ts): builds the subject named in
 * LARDER_BENCH_SUBJECT and answers `ping`, `run` and `close` over IPC.
 */
import type { RunResult, SubjectFactory, SubjectRunner } from './harness.js'

const spec = JSON.parse(process.env.LARDER_BENCH_SUBJECT ?? '{}') as {
  module: string
  factory: string
  args?: Record<string, unknown>
}
const log = (m: string) => process.stderr.write(`  [${spec.factory}] ${m}\n`)
const send = (m: unknown) =>
  new Promise<void>((resolve) => {
    process.send?.(m, () => resolve())
  })

let subject: SubjectRunner | undefined
let startup: Promise<SubjectRunner> | undefined

async function build(): Promise<SubjectRunner> {
  const mod = (await import(spec.module)) as { subjects?: Record<string, SubjectFactory> }
  const factory = mod.subjects?.[spec.factory]
  if (!factory) throw new Error(`${spec.module} exports no subject factory '${spec.factory}'`)
  return factory(spec.args ?? {}, log)
}

// The parent went away (killed, crashed): nothing more will be asked.
process.on('disconnect', () => process.exit(1))

process.on('message', (m: { type: string }) => {
  void (async () => {
    try {
      startup ??= build()
      subject ??= await startup
      if (m.type === 'ping') return await send({ type: 'ok' })
      if (m.type === 'run') {
        await subject.before?.()
        globalThis.gc?.()
        const t0 = performance.now()
        const out = (await subject.run()) as RunResult | undefined
        const ms = performance.now() - t0
        const check = await subject.check()
        await subject.after?.()
        return await send({ type: 'ran', ms, samplesMs: out?.samplesMs, check })
      }
      if (m.type === 'close') {
        await subject.close?.()
        await send({
          type: 'closed',
          maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
        })
        process.exit(0)
      }
    } catch (err) {
      await send({ type: 'error', error: `${spec.factory}: ${(err as Error).stack ?? err}` })
      process.exit(1)
    }
  })()
})
