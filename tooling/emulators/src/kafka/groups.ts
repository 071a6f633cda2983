/**
 * Consumer group coordinator: membership, generations, rebalances and committed offsets.
 *
 * A simplified rendering of Kafka's classic group protocol state machine:
 * Empty -> PreparingRebalance -> CompletingRebalance -> Stable, and back to PreparingRebalance
 * when a member joins, rejoins, leaves or times out. The broker never interprets assignments:
 * the leader computes them (range, round-robin, ...) and SyncGroup relays them.
 */
import { randomUUID } from 'node:crypto'
import { ErrorCode } from './protocol.js'

type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead'

/** A protocol (assignor) a member offers in JoinGroup. */
export interface GroupProtocol {
  name: string
  metadata: Buffer
}

/** What JoinGroup answers. */
export interface JoinResult {
  errorCode: number
  generationId: number
  protocolName: string
  leaderId: string
  memberId: string
  members: { memberId: string; metadata: Buffer }[]
}

/** What SyncGroup answers. */
export interface SyncResult {
  errorCode: number
  assignment: Buffer
}

interface Member {
  id: string
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocols: GroupProtocol[]
  assignment: Buffer
  joinWaiter: ((r: JoinResult) => void) | undefined
  syncWaiter: ((r: SyncResult) => void) | undefined
  lastSeen: number
}

interface CommittedOffset {
  offset: bigint
  metadata: string | null
}

interface Group {
  id: string
  state: GroupState
  generation: number
  protocolType: string | null
  protocol: string | null
  leaderId: string | null
  members: Map<string, Member>
  /** Member ids handed out with MEMBER_ID_REQUIRED, not yet joined; value: expiry timer. */
  pending: Map<string, NodeJS.Timeout>
  /** Keyed `topic\0partition`. */
  offsets: Map<string, CommittedOffset>
  rebalanceTimer: NodeJS.Timeout | undefined
  /** True while the initial-join delay of a previously empty group runs. */
  initialDelay: boolean
}

/** Parameters of JoinGroup. */
export interface JoinParams {
  groupId: string
  memberId: string
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocolType: string
  protocols: GroupProtocol[]
  /** JoinGroup v4+: a new member first gets MEMBER_ID_REQUIRED and its id, then rejoins. */
  requireKnownMemberId: boolean
}

/** Tunables of the coordinator. */
export interface CoordinatorOptions {
  /** How long a new (empty) group waits for more members before its first generation. */
  initialRebalanceDelayMs: number
  minSessionTimeoutMs: number
  maxSessionTimeoutMs: number
}

const EMPTY = Buffer.alloc(0)

/** The group coordinator of the test broker (one per broker). */
export class GroupCoordinator {
  private readonly groups = new Map<string, Group>()
  private readonly sweeper: NodeJS.Timeout
  private closed = false

  constructor(private readonly options: CoordinatorOptions) {
    this.sweeper = setInterval(() => this.expireSessions(), 100)
    this.sweeper.unref()
  }

  /**
   * Stops every timer and fails every waiting request. Groups become Dead (as Kafka's are
   * while a coordinator unloads them): later commits get COORDINATOR_NOT_AVAILABLE.
   */
  close(): void {
    this.closed = true
    clearInterval(this.sweeper)
    for (const g of this.groups.values()) {
      g.state = 'Dead'
      if (g.rebalanceTimer) clearTimeout(g.rebalanceTimer)
      for (const t of g.pending.values()) clearTimeout(t)
      for (const m of g.members.values()) {
        m.joinWaiter?.(joinError(ErrorCode.REBALANCE_IN_PROGRESS, m.id))
        m.syncWaiter?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY })
      }
    }
  }

  private group(id: string): Group {
    let g = this.groups.get(id)
    if (!g) {
      g = {
        id,
        state: 'Empty',
        generation: 0,
        protocolType: null,
        protocol: null,
        leaderId: null,
        members: new Map(),
        pending: new Map(),
        offsets: new Map(),
        rebalanceTimer: undefined,
        initialDelay: false,
      }
      this.groups.set(id, g)
    }
    return g
  }

  /** JoinGroup. Resolves when the rebalance completes (or immediately with an error). */
  join(p: JoinParams): Promise<JoinResult> {
    if (this.closed) return Promise.resolve(joinError(ErrorCode.REBALANCE_IN_PROGRESS, p.memberId))
    if (p.groupId === '') return Promise.resolve(joinError(ErrorCode.INVALID_GROUP_ID, p.memberId))
    if (
      p.sessionTimeoutMs < this.options.minSessionTimeoutMs ||
      p.sessionTimeoutMs > this.options.maxSessionTimeoutMs
    ) {
      return Promise.resolve(joinError(ErrorCode.INVALID_SESSION_TIMEOUT, p.memberId))
    }
    const g = this.group(p.groupId)
    if (p.protocolType === '' || p.protocols.length === 0 || !this.compatible(g, p)) {
      return Promise.resolve(joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, p.memberId))
    }

    let memberId = p.memberId
    if (memberId === '') {
      memberId = `${p.clientId}-${randomUUID()}`
      if (p.requireKnownMemberId) {
        const timer = setTimeout(() => {
          g.pending.delete(memberId)
          this.maybeCompleteJoin(g)
        }, p.sessionTimeoutMs)
        timer.unref()
        g.pending.set(memberId, timer)
        return Promise.resolve(joinError(ErrorCode.MEMBER_ID_REQUIRED, memberId))
      }
    } else if (g.pending.has(memberId)) {
      clearTimeout(g.pending.get(memberId))
      g.pending.delete(memberId)
    } else if (!g.members.has(memberId)) {
      return Promise.resolve(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId))
    }

    return new Promise<JoinResult>((resolve) => {
      let m = g.members.get(memberId)
      if (!m) {
        m = {
          id: memberId,
          clientId: p.clientId,
          clientHost: p.clientHost,
          sessionTimeoutMs: p.sessionTimeoutMs,
          rebalanceTimeoutMs: p.rebalanceTimeoutMs,
          protocols: p.protocols,
          assignment: EMPTY,
          joinWaiter: undefined,
          syncWaiter: undefined,
          lastSeen: Date.now(),
        }
        g.members.set(memberId, m)
        if (g.protocolType === null) g.protocolType = p.protocolType
      } else {
        m.protocols = p.protocols
        m.sessionTimeoutMs = p.sessionTimeoutMs
        m.rebalanceTimeoutMs = p.rebalanceTimeoutMs
        m.lastSeen = Date.now()
        // A second JoinGroup from the same member supersedes the first.
        m.joinWaiter?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId))
      }
      m.joinWaiter = resolve
      if (g.state === 'PreparingRebalance') this.maybeCompleteJoin(g)
      else this.prepareRebalance(g)
    })
  }

  private compatible(g: Group, p: JoinParams): boolean {
    const others = [...g.members.values()].filter((m) => m.id !== p.memberId)
    if (others.length === 0) return true
    if (g.protocolType !== null && g.protocolType !== p.protocolType) return false
    return p.protocols.some((proto) =>
      others.every((m) => m.protocols.some((x) => x.name === proto.name)),
    )
  }

  private prepareRebalance(g: Group): void {
    if (g.state === 'CompletingRebalance') {
      for (const m of g.members.values()) {
        const w = m.syncWaiter
        m.syncWaiter = undefined
        w?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY })
      }
    }
    const wasEmpty = g.state === 'Empty'
    g.state = 'PreparingRebalance'
    if (g.rebalanceTimer) clearTimeout(g.rebalanceTimer)
    if (wasEmpty && this.options.initialRebalanceDelayMs > 0) {
      g.initialDelay = true
      g.rebalanceTimer = setTimeout(() => {
        g.initialDelay = false
        g.rebalanceTimer = undefined
        this.armRebalanceTimeout(g)
        this.maybeCompleteJoin(g)
      }, this.options.initialRebalanceDelayMs)
      g.rebalanceTimer.unref()
      return
    }
    this.armRebalanceTimeout(g)
    this.maybeCompleteJoin(g)
  }

  /** Members that have not rejoined within the rebalance timeout are dropped. */
  private armRebalanceTimeout(g: Group): void {
    let timeout = 0
    for (const m of g.members.values()) timeout = Math.max(timeout, m.rebalanceTimeoutMs)
    g.rebalanceTimer = setTimeout(() => {
      g.rebalanceTimer = undefined
      this.completeJoin(g)
    }, timeout)
    g.rebalanceTimer.unref()
  }

  private maybeCompleteJoin(g: Group): void {
    if (g.state !== 'PreparingRebalance' || g.initialDelay) return
    if (g.pending.size > 0) return
    for (const m of g.members.values()) if (!m.joinWaiter) return
    this.completeJoin(g)
  }

  private completeJoin(g: Group): void {
    if (g.state !== 'PreparingRebalance') return
    if (g.rebalanceTimer) clearTimeout(g.rebalanceTimer)
    g.rebalanceTimer = undefined
    g.initialDelay = false
    for (const m of [...g.members.values()]) if (!m.joinWaiter) g.members.delete(m.id)
    g.generation++
    if (g.members.size === 0) {
      g.state = 'Empty'
      g.protocol = null
      g.protocolType = null
      g.leaderId = null
      return
    }
    const protocol = selectProtocol([...g.members.values()])
    g.protocol = protocol
    if (g.leaderId === null || !g.members.has(g.leaderId)) {
      g.leaderId = g.members.keys().next().value ?? null
    }
    g.state = 'CompletingRebalance'
    const leaderId = g.leaderId!
    const all = [...g.members.values()].map((m) => ({
      memberId: m.id,
      metadata: m.protocols.find((x) => x.name === protocol)?.metadata ?? EMPTY,
    }))
    const now = Date.now()
    for (const m of g.members.values()) {
      const w = m.joinWaiter
      m.joinWaiter = undefined
      m.lastSeen = now
      w?.({
        errorCode: ErrorCode.NONE,
        generationId: g.generation,
        protocolName: protocol,
        leaderId,
        memberId: m.id,
        members: m.id === leaderId ? all : [],
      })
    }
  }

  /** SyncGroup. Followers wait for the leader's assignment. */
  sync(
    groupId: string,
    generationId: number,
    memberId: string,
    assignments: { memberId: string; assignment: Buffer }[],
  ): Promise<SyncResult> {
    const fail = (errorCode: number) => Promise.resolve({ errorCode, assignment: EMPTY })
    const g = this.groups.get(groupId)
    const m = g?.members.get(memberId)
    if (!g || !m) return fail(ErrorCode.UNKNOWN_MEMBER_ID)
    m.lastSeen = Date.now()
    if (generationId !== g.generation) return fail(ErrorCode.ILLEGAL_GENERATION)
    if (g.state === 'PreparingRebalance') return fail(ErrorCode.REBALANCE_IN_PROGRESS)
    if (g.state === 'Stable') return Promise.resolve({ errorCode: 0, assignment: m.assignment })
    if (g.state !== 'CompletingRebalance') return fail(ErrorCode.UNKNOWN_MEMBER_ID)
    return new Promise<SyncResult>((resolve) => {
      m.syncWaiter = resolve
      if (memberId !== g.leaderId) return
      const byMember = new Map(assignments.map((a) => [a.memberId, a.assignment]))
      g.state = 'Stable'
      for (const member of g.members.values()) {
        member.assignment = byMember.get(member.id) ?? EMPTY
        const w = member.syncWaiter
        member.syncWaiter = undefined
        w?.({ errorCode: ErrorCode.NONE, assignment: member.assignment })
      }
    })
  }

  /** Heartbeat: tells members about a rebalance in progress. */
  heartbeat(groupId: string, generationId: number, memberId: string): number {
    const g = this.groups.get(groupId)
    const m = g?.members.get(memberId)
    if (!g || !m) return ErrorCode.UNKNOWN_MEMBER_ID
    m.lastSeen = Date.now()
    if (g.state === 'PreparingRebalance' || g.state === 'CompletingRebalance') {
      return ErrorCode.REBALANCE_IN_PROGRESS
    }
    if (generationId !== g.generation) return ErrorCode.ILLEGAL_GENERATION
    return ErrorCode.NONE
  }

  /** LeaveGroup for one member; returns its error code. */
  leave(groupId: string, memberId: string): number {
    const g = this.groups.get(groupId)
    if (!g) return ErrorCode.UNKNOWN_MEMBER_ID
    if (g.pending.has(memberId)) {
      clearTimeout(g.pending.get(memberId))
      g.pending.delete(memberId)
      this.maybeCompleteJoin(g)
      return ErrorCode.NONE
    }
    if (!g.members.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID
    this.removeMember(g, memberId)
    return ErrorCode.NONE
  }

  private removeMember(g: Group, memberId: string): void {
    const m = g.members.get(memberId)
    if (!m) return
    g.members.delete(memberId)
    m.joinWaiter?.(joinError(ErrorCode.UNKNOWN_MEMBER_ID, memberId))
    m.syncWaiter?.({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, assignment: EMPTY })
    if (g.state === 'PreparingRebalance') this.maybeCompleteJoin(g)
    else if (g.state === 'Stable' || g.state === 'CompletingRebalance') this.prepareRebalance(g)
  }

  private expireSessions(): void {
    const now = Date.now()
    for (const g of this.groups.values()) {
      for (const m of [...g.members.values()]) {
        if (m.joinWaiter || m.syncWaiter) continue
        if (now - m.lastSeen > m.sessionTimeoutMs) this.removeMember(g, m.id)
      }
    }
  }

  /**
   * Validates an OffsetCommit's group, member and generation; NONE when the commit may proceed.
   * The rules of Kafka's classic group coordinator (`validateOffsetCommit`, then the state
   * match of `doCommitOffsets`), in order:
   * - empty group id: INVALID_GROUP_ID;
   * - unknown group: a generation -1 commit creates it (Empty) and is stored, any other gets
   *   ILLEGAL_GENERATION (it comes from an older generation of a group that is gone);
   * - Dead group (the coordinator is shutting down): COORDINATOR_NOT_AVAILABLE;
   * - generation -1 on an Empty group (admin client or a consumer without group management):
   *   stored;
   * - a generation >= 0 or a member id: the member must belong to the group
   *   (UNKNOWN_MEMBER_ID) and the generation must be the current one (ILLEGAL_GENERATION);
   * - generation -1 without a member id on a non-empty group: UNKNOWN_MEMBER_ID;
   * - then by state: Stable and PreparingRebalance store the offsets (the member learns of the
   *   rebalance from its next heartbeat; the commit counts as one), CompletingRebalance answers
   *   REBALANCE_IN_PROGRESS (the member already has the new generation from JoinGroup).
   */
  checkCommit(groupId: string, generationId: number, memberId: string): number {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID
    const g = this.groups.get(groupId)
    if (!g) return generationId < 0 ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION
    if (g.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE
    if (generationId < 0 && g.state === 'Empty') return ErrorCode.NONE
    if (generationId >= 0 || memberId !== '') {
      const m = g.members.get(memberId)
      if (!m) return ErrorCode.UNKNOWN_MEMBER_ID
      if (generationId !== g.generation) return ErrorCode.ILLEGAL_GENERATION
      if (g.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS
      m.lastSeen = Date.now() // Stable or PreparingRebalance: the commit is a heartbeat too
      return ErrorCode.NONE
    }
    return ErrorCode.UNKNOWN_MEMBER_ID
  }

  /** Stores one committed offset. */
  commit(
    groupId: string,
    topic: string,
    partition: number,
    offset: bigint,
    metadata: string | null,
  ): void {
    this.group(groupId).offsets.set(`${topic}\0${partition}`, { offset, metadata })
  }

  /** The committed offset of one partition, or null. */
  committed(groupId: string, topic: string, partition: number): CommittedOffset | null {
    return this.groups.get(groupId)?.offsets.get(`${topic}\0${partition}`) ?? null
  }

  /** Every committed offset of a group. */
  allCommitted(
    groupId: string,
  ): { topic: string; partition: number; committed: CommittedOffset }[] {
    const g = this.groups.get(groupId)
    if (!g) return []
    return [...g.offsets].map(([key, committed]) => {
      const sep = key.lastIndexOf('\0')
      return { topic: key.slice(0, sep), partition: Number(key.slice(sep + 1)), committed }
    })
  }

  /** Forgets committed offsets of a deleted topic. */
  forgetTopic(topic: string): void {
    for (const g of this.groups.values()) {
      for (const key of [...g.offsets.keys()]) {
        if (key.startsWith(`${topic}\0`)) g.offsets.delete(key)
      }
    }
  }

  /** DescribeGroups data for one group. */
  describe(groupId: string): {
    state: string
    protocolType: string
    protocol: string
    members: {
      memberId: string
      clientId: string
      clientHost: string
      metadata: Buffer
      assignment: Buffer
    }[]
  } {
    const g = this.groups.get(groupId)
    if (!g) return { state: 'Dead', protocolType: '', protocol: '', members: [] }
    const stable = g.state === 'Stable'
    return {
      state: g.state,
      protocolType: g.protocolType ?? '',
      protocol: stable ? (g.protocol ?? '') : '',
      members: [...g.members.values()].map((m) => ({
        memberId: m.id,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable
          ? (m.protocols.find((x) => x.name === g.protocol)?.metadata ?? EMPTY)
          : EMPTY,
        assignment: stable ? m.assignment : EMPTY,
      })),
    }
  }

  /** ListGroups data. */
  list(): { groupId: string; protocolType: string }[] {
    return [...this.groups.values()].map((g) => ({
      groupId: g.id,
      protocolType: g.protocolType ?? '',
    }))
  }
}

function joinError(errorCode: number, memberId: string): JoinResult {
  return { errorCode, generationId: -1, protocolName: '', leaderId: '', memberId, members: [] }
}

/** Each member votes for its most preferred protocol that every member supports. */
function selectProtocol(members: Member[]): string {
  const first = members[0]!
  const candidates = first.protocols
    .map((p) => p.name)
    .filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)))
  const votes = new Map<string, number>()
  for (const m of members) {
    const choice = m.protocols.find((p) => candidates.includes(p.name))
    if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1)
  }
  let best = candidates[0] ?? ''
  let bestVotes = -1
  for (const name of candidates) {
    const v = votes.get(name) ?? 0
    if (v > bestVotes) {
      best = name
      bestVotes = v
    }
  }
  return best
}
