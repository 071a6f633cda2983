import { Socket } from 'node:net'

/** Records every outbound TCP connection made in this process until `restore()` is called. */
export interface ConnectionRecorder {
  /** Hosts connected to (or attempted), in order. */
  readonly hosts: string[]
  /** Hosts that are not loopback (127.0.0.1, ::1, localhost). */
  nonLoopback(): string[]
  restore(): void
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1'])

/**
 * Wraps `net.Socket#connect` to record the host of every outbound TCP connection (HTTP clients,
 * fetch and drivers all go through it), so tests can prove the clients only reached loopback.
 * Unix sockets and IPC paths are ignored.
 */
export function recordOutboundConnections(): ConnectionRecorder {
  const original = Socket.prototype.connect
  const hosts: string[] = []
  Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
    const first = args[0]
    if (Array.isArray(first)) {
      const o = first[0] as { host?: string; path?: string } | undefined
      if (o && !o.path) hosts.push(o.host ?? 'localhost')
    } else if (typeof first === 'object' && first !== null) {
      const o = first as { host?: string; path?: string }
      if (!o.path) hosts.push(o.host ?? 'localhost')
    } else if (typeof first === 'number') {
      hosts.push(typeof args[1] === 'string' ? args[1] : 'localhost')
    }
    return (original as (...a: unknown[]) => Socket).apply(this, args)
  } as typeof original
  return {
    hosts,
    nonLoopback: () => hosts.filter((h) => !LOOPBACK.has(h)),
    restore: () => {
      Socket.prototype.connect = original
    },
  }
}
