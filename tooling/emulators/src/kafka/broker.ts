/**
 * A single-node, in-memory Kafka broker speaking the classic (non-flexible) wire protocol well
 * enough for kafkajs 2.x. Test-only: no persistence, replication, transactions, ACLs or SASL.
 *
 * Requests on one connection are handled strictly one after another (a long-polling Fetch or a
 * JoinGroup waiting for a rebalance holds back that connection's later requests), which is the
 * ordering guarantee a real broker gives and clients rely on.
 */

import type { AddressInfo, Server, Socket } from 'node:net'
import { createServer } from 'node:net'
import type { GroupProtocol } from './groups.js'
import { GroupCoordinator } from './groups.js'
import type { Topic } from './log.js'
import { PartitionLog, validTopicName } from './log.js'
import { ApiKey, ErrorCode, MalformedRequestError, Reader, Writer } from './protocol.js'
import type { DecodedRecord } from './records.js'
import { decodeBatch, splitBatches } from './records.js'

/** Inclusive [min, max] version range of every API this broker implements. */
export const SUPPORTED_APIS: Readonly<Record<number, readonly [number, number]>> = {
  [ApiKey.Produce]: [3, 7],
  [ApiKey.Fetch]: [4, 11],
  [ApiKey.ListOffsets]: [1, 5],
  [ApiKey.Metadata]: [0, 8],
  [ApiKey.OffsetCommit]: [0, 7],
  [ApiKey.OffsetFetch]: [1, 5],
  [ApiKey.FindCoordinator]: [0, 2],
  [ApiKey.JoinGroup]: [0, 5],
  [ApiKey.Heartbeat]: [0, 3],
  [ApiKey.LeaveGroup]: [0, 3],
  [ApiKey.SyncGroup]: [0, 3],
  [ApiKey.DescribeGroups]: [0, 2],
  [ApiKey.ListGroups]: [0, 2],
  [ApiKey.ApiVersions]: [0, 2],
  [ApiKey.CreateTopics]: [0, 4],
  [ApiKey.DeleteTopics]: [0, 3],
}

const NODE_ID = 0
const HOST = '127.0.0.1'
const CLUSTER_ID = 'larder-kafka-test-broker'
/** Like Kafka's socket.request.max.bytes. */
const MAX_FRAME_BYTES = 100 * 1024 * 1024
const FETCH_SESSION_ID_NOT_FOUND = 70

/** Options of {@link KafkaBrokerCore}. */
export interface BrokerCoreOptions {
  /** Partitions of topics created without an explicit count (CreateTopics -1, auto-create). */
  defaultPartitions: number
  /** Create unknown topics on Metadata requests that allow it. */
  autoCreateTopics: boolean
  /** Delay before the first generation of a new group (Kafka's group.initial.rebalance.delay.ms). */
  groupInitialRebalanceDelayMs: number
}

interface RequestHeader {
  apiKey: number
  apiVersion: number
  correlationId: number
  clientId: string | null
}

interface Connection {
  socket: Socket
  queue: { header: RequestHeader; body: Reader }[]
  busy: boolean
  closed: boolean
  /** Wakes this connection's waiting Fetch, if any, so it can finish early on close. */
  cancelWait: (() => void) | undefined
}

/** The broker: a TCP server plus topics and groups. */
export class KafkaBrokerCore {
  private readonly server: Server
  private readonly connections = new Set<Connection>()
  private readonly topics = new Map<string, Topic>()
  private readonly groups: GroupCoordinator
  private readonly fetchWaiters = new Set<() => void>()
  private closed = false
  port = 0

  constructor(private readonly options: BrokerCoreOptions) {
    this.groups = new GroupCoordinator({
      initialRebalanceDelayMs: options.groupInitialRebalanceDelayMs,
      minSessionTimeoutMs: 100,
      maxSessionTimeoutMs: 30 * 60 * 1000,
    })
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket))
  }

  /** Binds 127.0.0.1:`port` (0 = any free port). */
  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) =>
        reject(new Error(`kafka test broker: cannot listen on ${HOST}:${port}: ${err.message}`))
      this.server.once('error', onError)
      this.server.listen({ port, host: HOST }, () => {
        this.server.off('error', onError)
        this.port = (this.server.address() as AddressInfo).port
        resolve(this.port)
      })
    })
  }

  /** Closes the listener and every connection, and stops all timers. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    this.groups.close()
    for (const wake of [...this.fetchWaiters]) wake()
    for (const c of this.connections) {
      c.closed = true
      c.socket.destroy()
    }
    this.connections.clear()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  /** Creates a topic; throws when it exists or the name or partition count is invalid. */
  createTopic(name: string, partitions = this.options.defaultPartitions): void {
    const code = this.tryCreateTopic(name, partitions)
    if (code === ErrorCode.TOPIC_ALREADY_EXISTS) throw new Error(`topic "${name}" already exists`)
    if (code === ErrorCode.INVALID_TOPIC_EXCEPTION) throw new Error(`invalid topic name "${name}"`)
    if (code !== ErrorCode.NONE)
      throw new Error(`invalid partition count ${partitions} for "${name}"`)
  }

  /** Deletes a topic (and the committed offsets on it); false when it does not exist. */
  deleteTopic(name: string): boolean {
    if (!this.topics.delete(name)) return false
    this.groups.forgetTopic(name)
    this.wakeFetches()
    return true
  }

  /** Decoded records of one partition, for assertions in tests. */
  readRecords(topic: string, partition: number): DecodedRecord[] {
    const log = this.topics.get(topic)?.partitions[partition]
    if (!log) throw new Error(`unknown topic or partition ${topic}/${partition}`)
    return log.allBatches().flatMap((b) => decodeBatch(b))
  }

  /** Names of the existing topics. */
  topicNames(): string[] {
    return [...this.topics.keys()]
  }

  private tryCreateTopic(name: string, partitions: number): number {
    if (!validTopicName(name)) return ErrorCode.INVALID_TOPIC_EXCEPTION
    if (this.topics.has(name)) return ErrorCode.TOPIC_ALREADY_EXISTS
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > 10_000) {
      return ErrorCode.INVALID_PARTITIONS
    }
    this.topics.set(name, {
      name,
      partitions: Array.from({ length: partitions }, () => new PartitionLog()),
    })
    return ErrorCode.NONE
  }

  private wakeFetches(): void {
    for (const wake of [...this.fetchWaiters]) wake()
  }

  // ---------------------------------------------------------------- connections and framing

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy()
      return
    }
    const conn: Connection = {
      socket,
      queue: [],
      busy: false,
      closed: false,
      cancelWait: undefined,
    }
    this.connections.add(conn)
    let pending: Buffer | null = null
    socket.on('data', (chunk: Buffer) => {
      let buf = pending ? Buffer.concat([pending, chunk]) : chunk
      pending = null
      while (buf.length >= 4) {
        const size = buf.readInt32BE(0)
        if (size < 8 || size > MAX_FRAME_BYTES) {
          this.drop(conn)
          return
        }
        if (buf.length < 4 + size) break
        const frame = buf.subarray(4, 4 + size)
        buf = buf.subarray(4 + size)
        try {
          const body = new Reader(frame)
          const header: RequestHeader = {
            apiKey: body.int16(),
            apiVersion: body.int16(),
            correlationId: body.int32(),
            clientId: body.nullableString(),
          }
          conn.queue.push({ header, body })
        } catch {
          this.drop(conn)
          return
        }
      }
      if (buf.length > 0) pending = Buffer.from(buf)
      this.pump(conn)
    })
    socket.on('error', () => this.drop(conn))
    socket.on('close', () => this.drop(conn))
  }

  private drop(conn: Connection): void {
    if (!conn.closed) {
      conn.closed = true
      conn.socket.destroy()
    }
    conn.queue.length = 0
    conn.cancelWait?.()
    this.connections.delete(conn)
  }

  private pump(conn: Connection): void {
    if (conn.busy || conn.closed) return
    const next = conn.queue.shift()
    if (!next) return
    conn.busy = true
    this.handle(conn, next.header, next.body).then(
      (body) => {
        conn.busy = false
        if (conn.closed) return
        if (body) {
          const frame = Buffer.allocUnsafe(8 + body.length)
          frame.writeInt32BE(4 + body.length, 0)
          frame.writeInt32BE(next.header.correlationId, 4)
          body.copy(frame, 8)
          conn.socket.write(frame)
        }
        this.pump(conn)
      },
      () => {
        // Undecodable request (or a bug in a handler): close only this connection.
        conn.busy = false
        this.drop(conn)
      },
    )
  }

  /** Returns the response body (without the correlation id), or null when none is due. */
  private async handle(conn: Connection, h: RequestHeader, r: Reader): Promise<Buffer | null> {
    const range = SUPPORTED_APIS[h.apiKey]
    if (!range || h.apiVersion < range[0] || h.apiVersion > range[1]) {
      if (h.apiKey === ApiKey.ApiVersions) {
        // KIP-511: answer an unknown ApiVersions version in v0 format so the client can retry.
        return this.apiVersionsBody(0, ErrorCode.UNSUPPORTED_VERSION)
      }
      // No schema to answer in: a bare error code, the one thing every response starts with
      // once the version-dependent throttle time is left out.
      return new Writer(2).int16(ErrorCode.UNSUPPORTED_VERSION).finish()
    }
    const v = h.apiVersion
    const clientId = h.clientId ?? ''
    let body: Buffer | null
    switch (h.apiKey) {
      case ApiKey.ApiVersions:
        body = this.apiVersionsBody(v, ErrorCode.NONE)
        break
      case ApiKey.Metadata:
        body = this.metadata(r, v)
        break
      case ApiKey.Produce:
        body = this.produce(r, v)
        break
      case ApiKey.Fetch:
        body = await this.fetch(r, v, conn)
        break
      case ApiKey.ListOffsets:
        body = this.listOffsets(r, v)
        break
      case ApiKey.CreateTopics:
        body = this.createTopics(r, v)
        break
      case ApiKey.DeleteTopics:
        body = this.deleteTopics(r, v)
        break
      case ApiKey.FindCoordinator:
        body = this.findCoordinator(r, v)
        break
      case ApiKey.JoinGroup:
        body = await this.joinGroup(r, v, clientId, conn)
        break
      case ApiKey.SyncGroup:
        body = await this.syncGroup(r, v)
        break
      case ApiKey.Heartbeat:
        body = this.heartbeat(r, v)
        break
      case ApiKey.LeaveGroup:
        body = this.leaveGroup(r, v)
        break
      case ApiKey.OffsetCommit:
        body = this.offsetCommit(r, v)
        break
      case ApiKey.OffsetFetch:
        body = this.offsetFetch(r, v)
        break
      case ApiKey.DescribeGroups:
        body = this.describeGroups(r, v)
        break
      case ApiKey.ListGroups:
        body = this.listGroups(v)
        break
      default:
        throw new MalformedRequestError(`no handler for api key ${h.apiKey}`)
    }
    return body
  }

  // ---------------------------------------------------------------- APIs

  private apiVersionsBody(v: number, errorCode: number): Buffer {
    const w = new Writer().int16(errorCode)
    w.array(Object.entries(SUPPORTED_APIS), (w, [key, [min, max]]) => {
      w.int16(Number(key)).int16(min).int16(max)
    })
    if (v >= 1) w.int32(0)
    return w.finish()
  }

  private metadata(r: Reader, v: number): Buffer {
    const requested = v === 0 ? r.array((r) => r.string()) : r.nullableArray((r) => r.string())
    const allowAutoCreate = v >= 4 ? r.bool() : true
    if (v >= 8) {
      r.bool() // include_cluster_authorized_operations
      r.bool() // include_topic_authorized_operations
    }
    // v0: an empty list means all topics; v1+: null means all topics.
    const all = requested === null || (v === 0 && requested.length === 0)
    const names = all ? [...this.topics.keys()] : requested
    const w = new Writer()
    if (v >= 3) w.int32(0)
    w.array([NODE_ID], (w) => {
      w.int32(NODE_ID).string(HOST).int32(this.port)
      if (v >= 1) w.string(null)
    })
    if (v >= 2) w.string(CLUSTER_ID)
    if (v >= 1) w.int32(NODE_ID)
    w.array(names, (w, name) => {
      let topic = this.topics.get(name)
      let errorCode: number = ErrorCode.NONE
      if (!topic && this.options.autoCreateTopics && allowAutoCreate) {
        errorCode = this.tryCreateTopic(name, this.options.defaultPartitions)
        topic = this.topics.get(name)
      }
      if (!topic && errorCode === ErrorCode.NONE) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
      w.int16(errorCode).string(name)
      if (v >= 1) w.bool(false)
      w.array(topic ? topic.partitions.map((_, i) => i) : [], (w, i) => {
        w.int16(ErrorCode.NONE).int32(i).int32(NODE_ID)
        if (v >= 7) w.int32(0)
        w.array([NODE_ID], (w, n) => w.int32(n))
        w.array([NODE_ID], (w, n) => w.int32(n))
        if (v >= 5) w.array([], () => {})
      })
      if (v >= 8) w.int32(-2147483648)
    })
    if (v >= 8) w.int32(-2147483648)
    return w.finish()
  }

  private produce(r: Reader, v: number): Buffer | null {
    r.nullableString() // transactional_id: transactions are not supported, batches are taken as-is
    const acks = r.int16()
    r.int32() // timeout_ms: nothing to wait for on a single in-memory broker
    const topics = r.array((r) => ({
      name: r.string(),
      partitions: r.array((r) => ({ index: r.int32(), records: r.nullableBytes() })),
    }))
    const results = topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        const result = { index: p.index, errorCode: ErrorCode.NONE as number, baseOffset: -1 }
        const log = this.topics.get(t.name)?.partitions[p.index]
        if (acks !== 0 && acks !== 1 && acks !== -1)
          result.errorCode = ErrorCode.INVALID_REQUIRED_ACKS
        else if (!log) result.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        else if (!p.records) result.errorCode = ErrorCode.CORRUPT_MESSAGE
        else {
          const split = splitBatches(p.records)
          if (split.ok) result.baseOffset = log.append(split.batches)
          else result.errorCode = split.errorCode
        }
        return result
      }),
    }))
    this.wakeFetches()
    if (acks === 0) return null
    const w = new Writer()
    w.array(results, (w, t) => {
      w.string(t.name)
      w.array(t.partitions, (w, p) => {
        w.int32(p.index).int16(p.errorCode).int64(p.baseOffset).int64(-1)
        if (v >= 5) w.int64(0)
      })
    })
    w.int32(0)
    return w.finish()
  }

  private async fetch(r: Reader, v: number, conn: Connection): Promise<Buffer> {
    r.int32() // replica_id
    const maxWaitMs = r.int32()
    const minBytes = r.int32()
    const maxBytes = v >= 3 ? r.int32() : 0x7fffffff
    r.int8() // isolation_level: there are no transactions, so everything is committed
    let sessionId = 0
    if (v >= 7) {
      sessionId = r.int32()
      r.int32() // session_epoch
    }
    const topics = r.array((r) => ({
      name: r.string(),
      partitions: r.array((r) => {
        const index = r.int32()
        if (v >= 9) r.int32() // current_leader_epoch
        const offset = r.int64()
        if (v >= 5) r.int64() // log_start_offset
        return { index, offset, maxBytes: r.int32() }
      }),
    }))
    if (v >= 7) r.array((r) => [r.string(), r.array((r) => r.int32())])
    if (v >= 11) r.nullableString() // rack_id

    if (v >= 7 && sessionId !== 0) {
      // Fetch sessions are not implemented; we never hand out a session id.
      return new Writer().int32(0).int16(FETCH_SESSION_ID_NOT_FOUND).int32(0).int32(0).finish()
    }

    const build = () => {
      let total = 0
      let anyError = false
      const out = topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => {
          const log = this.topics.get(t.name)?.partitions[p.index]
          const res = {
            index: p.index,
            errorCode: ErrorCode.NONE as number,
            hwm: -1,
            batches: [] as Buffer[],
          }
          if (!log) {
            res.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            anyError = true
            return res
          }
          res.hwm = log.highWatermark
          const offset = Number(p.offset)
          if (offset < log.logStartOffset || offset > log.highWatermark) {
            res.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE
            anyError = true
            return res
          }
          const budget = Math.min(p.maxBytes, maxBytes - total)
          res.batches = log.read(offset, Math.max(budget, 0), total === 0)
          for (const b of res.batches) total += b.length
          return res
        }),
      }))
      return { out, total, anyError }
    }

    let result = build()
    if (result.total < minBytes && maxWaitMs > 0 && !result.anyError && !this.closed) {
      await new Promise<void>((resolve) => {
        const finish = () => {
          clearTimeout(timer)
          this.fetchWaiters.delete(wake)
          conn.cancelWait = undefined
          resolve()
        }
        const wake = () => {
          if (this.closed || conn.closed) return finish()
          result = build()
          if (result.total >= minBytes || result.anyError) finish()
        }
        const timer = setTimeout(finish, maxWaitMs)
        this.fetchWaiters.add(wake)
        conn.cancelWait = finish
      })
      result = build()
    }

    const w = new Writer(256 + result.total)
    w.int32(0)
    if (v >= 7) w.int16(ErrorCode.NONE).int32(0)
    w.array(result.out, (w, t) => {
      w.string(t.name)
      w.array(t.partitions, (w, p) => {
        w.int32(p.index).int16(p.errorCode).int64(p.hwm)
        w.int64(p.hwm) // last_stable_offset
        if (v >= 5) w.int64(p.errorCode === ErrorCode.NONE ? 0 : -1) // log_start_offset
        w.array([], () => {}) // aborted_transactions
        if (v >= 11) w.int32(-1) // preferred_read_replica
        let size = 0
        for (const b of p.batches) size += b.length
        w.int32(size)
        for (const b of p.batches) w.raw(b)
      })
    })
    return w.finish()
  }

  private listOffsets(r: Reader, v: number): Buffer {
    r.int32() // replica_id
    if (v >= 2) r.int8() // isolation_level
    const topics = r.array((r) => ({
      name: r.string(),
      partitions: r.array((r) => {
        const index = r.int32()
        if (v >= 4) r.int32() // current_leader_epoch
        return { index, timestamp: r.int64() }
      }),
    }))
    const w = new Writer()
    if (v >= 2) w.int32(0)
    w.array(topics, (w, t) => {
      w.string(t.name)
      w.array(t.partitions, (w, p) => {
        const log = this.topics.get(t.name)?.partitions[p.index]
        let errorCode: number = ErrorCode.NONE
        let timestamp = -1n
        let offset = -1n
        if (!log) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        else if (p.timestamp === -1n) offset = BigInt(log.highWatermark)
        else if (p.timestamp === -2n) offset = BigInt(log.logStartOffset)
        else {
          const found = log.offsetForTimestamp(p.timestamp)
          if (found) {
            offset = BigInt(found.offset)
            timestamp = found.timestamp
          }
        }
        w.int32(p.index).int16(errorCode).int64(timestamp).int64(offset)
        if (v >= 4) w.int32(errorCode === ErrorCode.NONE ? 0 : -1)
      })
    })
    return w.finish()
  }

  private createTopics(r: Reader, v: number): Buffer {
    const topics = r.array((r) => ({
      name: r.string(),
      numPartitions: r.int32(),
      replicationFactor: r.int16(),
      assignments: r.array((r) => ({ index: r.int32(), brokers: r.array((r) => r.int32()) })),
      configs: r.array((r) => ({ name: r.string(), value: r.nullableString() })),
    }))
    r.int32() // timeout_ms
    const validateOnly = v >= 1 ? r.bool() : false
    const results = topics.map((t) => {
      let errorCode: number = ErrorCode.NONE
      let message: string | null = null
      const partitions =
        t.assignments.length > 0
          ? t.assignments.length
          : t.numPartitions === -1
            ? this.options.defaultPartitions
            : t.numPartitions
      if (t.replicationFactor > 1 || t.replicationFactor === 0 || t.replicationFactor < -1) {
        errorCode = ErrorCode.INVALID_REPLICATION_FACTOR
        message = `replication factor ${t.replicationFactor}: this test broker is a single node`
      } else if (t.assignments.some((a) => a.brokers.some((b) => b !== NODE_ID))) {
        errorCode = ErrorCode.INVALID_REPLICATION_FACTOR
        message = `replica assignment names brokers other than ${NODE_ID}`
      } else if (validateOnly) {
        if (!validTopicName(t.name)) errorCode = ErrorCode.INVALID_TOPIC_EXCEPTION
        else if (this.topics.has(t.name)) errorCode = ErrorCode.TOPIC_ALREADY_EXISTS
        else if (partitions < 1) errorCode = ErrorCode.INVALID_PARTITIONS
      } else {
        errorCode = this.tryCreateTopic(t.name, partitions)
      }
      if (errorCode === ErrorCode.TOPIC_ALREADY_EXISTS)
        message = `Topic '${t.name}' already exists.`
      else if (errorCode === ErrorCode.INVALID_PARTITIONS)
        message = `invalid partition count ${partitions}`
      else if (errorCode === ErrorCode.INVALID_TOPIC_EXCEPTION)
        message = `invalid topic name '${t.name}'`
      return { name: t.name, errorCode, message }
    })
    const w = new Writer()
    if (v >= 2) w.int32(0)
    w.array(results, (w, t) => {
      w.string(t.name).int16(t.errorCode)
      if (v >= 1) w.string(t.message)
    })
    return w.finish()
  }

  private deleteTopics(r: Reader, v: number): Buffer {
    const names = r.array((r) => r.string())
    r.int32() // timeout_ms
    const w = new Writer()
    if (v >= 1) w.int32(0)
    w.array(names, (w, name) => {
      const ok = this.deleteTopic(name)
      w.string(name).int16(ok ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    })
    return w.finish()
  }

  private findCoordinator(r: Reader, v: number): Buffer {
    r.string() // key: this broker coordinates every group
    const keyType = v >= 1 ? r.int8() : 0
    const errorCode = keyType === 0 || keyType === 1 ? ErrorCode.NONE : ErrorCode.INVALID_REQUEST
    const w = new Writer()
    if (v >= 1) w.int32(0)
    w.int16(errorCode)
    if (v >= 1) w.string(errorCode === ErrorCode.NONE ? null : `unknown key type ${keyType}`)
    return w.int32(NODE_ID).string(HOST).int32(this.port).finish()
  }

  private async joinGroup(
    r: Reader,
    v: number,
    clientId: string,
    conn: Connection,
  ): Promise<Buffer> {
    const groupId = r.string()
    const sessionTimeoutMs = r.int32()
    const rebalanceTimeoutMs = v >= 1 ? r.int32() : sessionTimeoutMs
    const memberId = r.string()
    if (v >= 5) r.nullableString() // group_instance_id: static membership is not implemented
    const protocolType = r.string()
    const protocols: GroupProtocol[] = r.array((r) => ({ name: r.string(), metadata: r.bytes() }))
    const res = await this.groups.join({
      groupId,
      memberId,
      clientId,
      clientHost: `/${conn.socket.remoteAddress ?? HOST}`,
      sessionTimeoutMs,
      rebalanceTimeoutMs,
      protocolType,
      protocols: protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
      requireKnownMemberId: v >= 4,
    })
    const w = new Writer()
    if (v >= 2) w.int32(0)
    w.int16(res.errorCode).int32(res.generationId).string(res.protocolName)
    w.string(res.leaderId).string(res.memberId)
    w.array(res.members, (w, m) => {
      w.string(m.memberId)
      if (v >= 5) w.string(null)
      w.bytes(m.metadata)
    })
    return w.finish()
  }

  private async syncGroup(r: Reader, v: number): Promise<Buffer> {
    const groupId = r.string()
    const generationId = r.int32()
    const memberId = r.string()
    if (v >= 3) r.nullableString() // group_instance_id
    const assignments = r.array((r) => ({
      memberId: r.string(),
      assignment: Buffer.from(r.bytes()),
    }))
    const res = await this.groups.sync(groupId, generationId, memberId, assignments)
    const w = new Writer()
    if (v >= 1) w.int32(0)
    return w.int16(res.errorCode).bytes(res.assignment).finish()
  }

  private heartbeat(r: Reader, v: number): Buffer {
    const groupId = r.string()
    const generationId = r.int32()
    const memberId = r.string()
    if (v >= 3) r.nullableString() // group_instance_id
    const w = new Writer(8)
    if (v >= 1) w.int32(0)
    return w.int16(this.groups.heartbeat(groupId, generationId, memberId)).finish()
  }

  private leaveGroup(r: Reader, v: number): Buffer {
    const groupId = r.string()
    const w = new Writer()
    if (v >= 1) w.int32(0)
    if (v < 3) {
      return w.int16(this.groups.leave(groupId, r.string())).finish()
    }
    const members = r.array((r) => ({ memberId: r.string(), instanceId: r.nullableString() }))
    const results = members.map((m) => ({
      ...m,
      errorCode: this.groups.leave(groupId, m.memberId),
    }))
    w.int16(ErrorCode.NONE)
    w.array(results, (w, m) => {
      w.string(m.memberId).string(m.instanceId).int16(m.errorCode)
    })
    return w.finish()
  }

  private offsetCommit(r: Reader, v: number): Buffer {
    const groupId = r.string()
    const generationId = v >= 1 ? r.int32() : -1
    const memberId = v >= 1 ? r.string() : ''
    if (v >= 7) r.nullableString() // group_instance_id
    if (v >= 2 && v <= 4) r.int64() // retention_time_ms: offsets never expire here
    const topics = r.array((r) => ({
      name: r.string(),
      partitions: r.array((r) => {
        const index = r.int32()
        const offset = r.int64()
        if (v >= 6) r.int32() // committed_leader_epoch
        if (v === 1) r.int64() // commit_timestamp
        return { index, offset, metadata: r.nullableString() }
      }),
    }))
    const groupError = this.groups.checkCommit(groupId, generationId, memberId)
    const w = new Writer()
    if (v >= 3) w.int32(0)
    w.array(topics, (w, t) => {
      w.string(t.name)
      w.array(t.partitions, (w, p) => {
        let errorCode = groupError
        if (errorCode === ErrorCode.NONE) {
          if (!this.topics.get(t.name)?.partitions[p.index]) {
            errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
          } else {
            this.groups.commit(groupId, t.name, p.index, p.offset, p.metadata)
          }
        }
        w.int32(p.index).int16(errorCode)
      })
    })
    return w.finish()
  }

  private offsetFetch(r: Reader, v: number): Buffer {
    const groupId = r.string()
    const requested =
      v >= 2
        ? r.nullableArray((r) => ({ name: r.string(), partitions: r.array((r) => r.int32()) }))
        : r.array((r) => ({ name: r.string(), partitions: r.array((r) => r.int32()) }))
    let topics: { name: string; partitions: number[] }[]
    if (requested === null) {
      const byTopic = new Map<string, number[]>()
      for (const c of this.groups.allCommitted(groupId)) {
        const list = byTopic.get(c.topic) ?? []
        list.push(c.partition)
        byTopic.set(c.topic, list)
      }
      topics = [...byTopic].map(([name, partitions]) => ({ name, partitions }))
    } else {
      topics = requested
    }
    const w = new Writer()
    if (v >= 3) w.int32(0)
    w.array(topics, (w, t) => {
      w.string(t.name)
      w.array(t.partitions, (w, index) => {
        const c = this.groups.committed(groupId, t.name, index)
        w.int32(index).int64(c ? c.offset : -1n)
        if (v >= 5) w.int32(-1) // committed_leader_epoch
        w.string(c ? c.metadata : '').int16(ErrorCode.NONE)
      })
    })
    if (v >= 2) w.int16(ErrorCode.NONE)
    return w.finish()
  }

  private describeGroups(r: Reader, v: number): Buffer {
    const ids = r.array((r) => r.string())
    const w = new Writer()
    if (v >= 1) w.int32(0)
    w.array(ids, (w, id) => {
      const d = this.groups.describe(id)
      w.int16(ErrorCode.NONE).string(id).string(d.state).string(d.protocolType).string(d.protocol)
      w.array(d.members, (w, m) => {
        w.string(m.memberId).string(m.clientId).string(m.clientHost)
        w.bytes(m.metadata).bytes(m.assignment)
      })
    })
    return w.finish()
  }

  private listGroups(v: number): Buffer {
    const w = new Writer()
    if (v >= 1) w.int32(0)
    w.int16(ErrorCode.NONE)
    w.array(this.groups.list(), (w, g) => {
      w.string(g.groupId).string(g.protocolType)
    })
    return w.finish()
  }
}
