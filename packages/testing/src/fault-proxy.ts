/**
 * A TCP proxy for fault-injection tests: it sits between Larder and a real server (Redis,
 * PostgreSQL...) on a loopback port and, on command, passes traffic, holds it (a hung
 * server: connections stay open, nothing is forwarded either way until released) or resets
 * it (every open connection is reset and new ones are reset on accept, as a crashed or
 * firewalled server looks). `hold-replies` forwards requests but holds the answers: with a
 * `reset` after it, the server has run the commands and the client never saw the replies.
 */
import net from 'node:net'

/** What the proxy does with traffic. */
export type FaultMode = 'pass' | 'hold' | 'hold-replies' | 'reset'

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The real server, e.g. `redis://127.0.0.1:6379` or `{ host, port }`. */
  target: string | { host: string; port: number }
  /** Initial mode. @default 'pass' */
  mode?: FaultMode
}

/** A running proxy. */
export interface FaultProxy {
  /** The loopback port it listens on. */
  readonly port: number
  /** `target`'s URL with host and port replaced by the proxy's (for URL targets). */
  readonly url: string
  /** The current mode. */
  readonly mode: FaultMode
  /** Connections accepted so far. */
  readonly connections: number
  /**
   * Switches mode. `reset` resets every open connection at once; `pass` after `hold`
   * forwards what was held, in order.
   */
  setMode(mode: FaultMode): void
  /** Stops listening and destroys every connection. */
  close(): Promise<void>
}

interface Pair {
  client: net.Socket
  upstream: net.Socket
  /** Bytes held while in `hold`, per direction. */
  toUpstream: Buffer[]
  toClient: Buffer[]
}

function parseTarget(target: FaultProxyOptions['target']): {
  host: string
  port: number
  url: URL | undefined
} {
  if (typeof target !== 'string') return { ...target, url: undefined }
  const url = new URL(target)
  return { host: url.hostname || '127.0.0.1', port: Number(url.port), url }
}

/**
 * Starts a fault proxy on 127.0.0.1 (ephemeral port) in front of `target`.
 * @example
 * const proxy = await startFaultProxy({ target: 'redis://127.0.0.1:6379' })
 * const store = redisOnlineStore({ url: proxy.url })
 * proxy.setMode('hold') // Redis "hangs"
 * proxy.setMode('reset') // Redis "crashes"
 * await proxy.close()
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = parseTarget(options.target)
  let mode: FaultMode = options.mode ?? 'pass'
  let accepted = 0
  const pairs = new Set<Pair>()

  const reset = (pair: Pair) => {
    pairs.delete(pair)
    pair.client.resetAndDestroy()
    pair.upstream.destroy()
  }
  const flush = (pair: Pair) => {
    for (const chunk of pair.toUpstream.splice(0)) pair.upstream.write(chunk)
    for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk)
  }

  const server = net.createServer((client) => {
    accepted++
    if (mode === 'reset') {
      client.resetAndDestroy()
      return
    }
    const upstream = net.connect({ host: target.host, port: target.port })
    const pair: Pair = { client, upstream, toUpstream: [], toClient: [] }
    pairs.add(pair)
    client.on('data', (chunk: Buffer) => {
      if ((mode === 'pass' || mode === 'hold-replies') && pair.toUpstream.length === 0)
        upstream.write(chunk)
      else pair.toUpstream.push(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (mode === 'pass' && pair.toClient.length === 0) client.write(chunk)
      else pair.toClient.push(chunk)
    })
    const end = () => {
      if (!pairs.delete(pair)) return
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end)
    upstream.on('close', end)
    client.on('error', end)
    upstream.on('error', end)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as net.AddressInfo).port
  let url = `tcp://127.0.0.1:${port}`
  if (target.url) {
    const u = new URL(target.url.toString())
    u.hostname = '127.0.0.1'
    u.port = String(port)
    url = u.toString().replace(/\/$/, '')
  }

  return {
    port,
    url,
    get mode() {
      return mode
    },
    get connections() {
      return accepted
    },
    setMode(next: FaultMode) {
      mode = next
      if (next === 'reset') for (const pair of [...pairs]) reset(pair)
      if (next === 'pass') for (const pair of pairs) flush(pair)
    },
    async close() {
      for (const pair of [...pairs]) reset(pair)
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
