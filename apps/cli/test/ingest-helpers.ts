// What the CLI ingest tests share: running `larder` and `larder ingest` as child processes
// (without blocking this process, where the stream stand-ins live), waiting, and the events
// they send (keys, permuted event times with repeats) with the winner per key.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url))

/** Every child started by {@link startIngest}: kill the survivors in afterAll. */
export const children: ChildProcess[] = []

/** Runs the CLI without blocking this process (the broker lives in its event loop). */
export function larder(
  dir: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '-c', dir, ...args], {
      stdio: 'pipe',
      ...(env ? { env } : {}),
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

export interface Ingest {
  child: ChildProcess
  out: () => string
  err: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export function startIngest(dir: string, args: string[] = [], env?: NodeJS.ProcessEnv): Ingest {
  const child = spawn(process.execPath, [BIN, '-c', dir, 'ingest', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(env ? { env } : {}),
  })
  children.push(child)
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => {
    out += d
  })
  child.stderr!.on('data', (d) => {
    err += d
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  )
  return { child, out: () => out, err: () => err, exited }
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 20_000) {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

export interface Event {
  driver_id: number
  event_timestamp: string
  created: string
  trips: number
  city: string
}

/** `count` events over `keys` keys, event times shuffled (out of order), some equal. */
export function events(from: number, count: number, keys: number): Event[] {
  const out: Event[] = []
  for (let i = from; i < from + count; i++) {
    const minute = (i * 7919) % 600 // permuted, with repeats per key: equal event times
    out.push({
      driver_id: 1000 + (i % keys),
      event_timestamp: new Date(Date.UTC(2026, 0, 1) + minute * 60_000).toISOString(),
      created: new Date(Date.UTC(2026, 0, 2) + i * 1000).toISOString(),
      trips: i,
      city: `city-${i}`,
    })
  }
  return out
}

/** The winner per key among events (greatest event time, then greatest created). */
export function latest(list: Event[], key: number, atOrBefore?: string) {
  let best: Event | undefined
  for (const e of list) {
    if (e.driver_id !== key) continue
    if (atOrBefore !== undefined && e.event_timestamp > atOrBefore) continue
    if (
      !best ||
      e.event_timestamp > best.event_timestamp ||
      (e.event_timestamp === best.event_timestamp && e.created > best.created)
    )
      best = e
  }
  return best
}
