/**
 * Service finders for tests that need a real server (Redis, PostgreSQL).
 *
 * Order: the service's env var, then its default local port, then start it if the binary
 * is installed, else report it unavailable with a loud reason. When
 * `LARDER_REQUIRE_SERVICES=1` (CI), an unavailable service is an error, never a skip.
 * Only loopback addresses are ever probed.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A service a test can use. */
export interface AvailableService {
  available: true
  /** Connection URL, e.g. `redis://127.0.0.1:6379`. */
  url: string
  /** Where it came from: `env`, `local` (already running) or `started` (by this finder). */
  origin: 'env' | 'local' | 'started'
  /** Stops the service if this finder started it; no-op otherwise. */
  stop(): Promise<void>
}

/** A service that could not be found or started. */
export interface UnavailableService {
  available: false
  /** Why, and how to provide it. */
  reason: string
}

export type FoundService = AvailableService | UnavailableService

/** True when CI asked that every service-backed test run (`LARDER_REQUIRE_SERVICES=1`). */
export function servicesRequired(): boolean {
  const v = process.env.LARDER_REQUIRE_SERVICES
  return v === '1' || v === 'true'
}

/** Resolves true when something accepts TCP connections on `host:port` within `timeoutMs`. */
export function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Asks the OS for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0
}

function unavailable(name: string, reason: string): UnavailableService {
  const message = `[larder] [testing] ${name} is not available: ${reason}`
  if (servicesRequired()) {
    throw new Error(`${message} (LARDER_REQUIRE_SERVICES=1 forbids skipping)`)
  }
  // Loud on purpose: a skipped service test must never pass unnoticed.
  console.warn(`\n*** SKIPPING ${name} TESTS *** ${message}\n`)
  return { available: false, reason: message }
}

function assertLoopback(name: string, url: string): void {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
  if (!(host === 'localhost' || host === '::1' || host.startsWith('127.'))) {
    throw new Error(
      `[larder] [testing] ${name} URL ${url} is not a loopback address; tests only reach loopback`,
    )
  }
}

const noop = async () => {}

/**
 * Finds a Redis server: `REDIS_URL`, then 127.0.0.1:6379, then starts `redis-server` on a
 * free port (in-memory, no persistence).
 */
export async function findRedis(): Promise<FoundService> {
  const env = process.env.REDIS_URL
  if (env) {
    assertLoopback('Redis', env)
    return { available: true, url: env, origin: 'env', stop: noop }
  }
  if (await isPortOpen(6379)) {
    return { available: true, url: 'redis://127.0.0.1:6379', origin: 'local', stop: noop }
  }
  if (!hasBinary('redis-server')) {
    return unavailable(
      'Redis',
      'set REDIS_URL, run redis-server on 127.0.0.1:6379, or install redis-server (apt-get install redis-server)',
    )
  }
  const port = await freePort()
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  for (let i = 0; i < 50; i++) {
    if (await isPortOpen(port)) {
      return {
        available: true,
        url: `redis://127.0.0.1:${port}`,
        origin: 'started',
        stop: async () => {
          child.kill('SIGTERM')
        },
      }
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGKILL')
  return unavailable('Redis', `redis-server did not start on port ${port} within 5 s`)
}

/**
 * Finds a PostgreSQL server: `POSTGRES_URL` (or `DATABASE_URL`), then 127.0.0.1:5432 (trust
 * auth, database `postgres`), then starts a throwaway cluster with `initdb` + `postgres` if
 * the binaries are installed.
 */
export async function findPostgres(): Promise<FoundService> {
  const env = process.env.POSTGRES_URL ?? process.env.DATABASE_URL
  if (env) {
    assertLoopback('PostgreSQL', env)
    return { available: true, url: env, origin: 'env', stop: noop }
  }
  if (await isPortOpen(5432)) {
    return {
      available: true,
      url: 'postgres://postgres@127.0.0.1:5432/postgres',
      origin: 'local',
      stop: noop,
    }
  }
  const binDir = spawnSync('sh', ['-c', 'ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1'], {
    encoding: 'utf8',
  }).stdout.trim()
  if (!binDir) {
    return unavailable(
      'PostgreSQL',
      'set POSTGRES_URL, run PostgreSQL on 127.0.0.1:5432, or install it (apt-get install postgresql)',
    )
  }
  const dir = mkdtempSync(join(tmpdir(), 'larder-pg-'))
  const asPostgres = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : []
  spawnSync('chown', ['postgres', dir])
  const init = spawnSync(
    asPostgres[0] ?? `${binDir}/initdb`,
    [
      ...asPostgres.slice(1),
      ...(asPostgres.length ? [`${binDir}/initdb`] : []),
      '-D',
      dir,
      '-A',
      'trust',
      '-U',
      'postgres',
    ],
    { stdio: 'ignore' },
  )
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    return unavailable('PostgreSQL', `initdb failed in ${dir}`)
  }
  const port = await freePort()
  const args = ['-D', dir, '-p', String(port), '-k', dir, '-h', '127.0.0.1']
  const child = asPostgres.length
    ? spawn(asPostgres[0]!, [...asPostgres.slice(1), `${binDir}/postgres`, ...args], {
        stdio: 'ignore',
      })
    : spawn(`${binDir}/postgres`, args, { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    if (await isPortOpen(port)) {
      return {
        available: true,
        url: `postgres://postgres@127.0.0.1:${port}/postgres`,
        origin: 'started',
        stop: async () => {
          child.kill('SIGINT')
          await new Promise((r) => setTimeout(r, 500))
          rmSync(dir, { recursive: true, force: true })
        },
      }
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  child.kill('SIGKILL')
  return unavailable('PostgreSQL', `postgres did not start on port ${port} within 10 s`)
}
