// The group coordinator state machine on its own: the paths kafkajs rarely drives in a test
// (session expiry, rebalance timeouts, protocol mismatches, stale generations).
import { afterEach, describe, expect, it } from 'vitest'
import type { JoinParams } from '../src/kafka/groups.js'
import { GroupCoordinator } from '../src/kafka/groups.js'
import { ErrorCode } from '../src/kafka/protocol.js'

const coordinators: GroupCoordinator[] = []
afterEach(() => {
  for (const c of coordinators.splice(0)) c.close()
})

function coordinator(initialRebalanceDelayMs = 0): GroupCoordinator {
  const c = new GroupCoordinator({
    initialRebalanceDelayMs,
    minSessionTimeoutMs: 100,
    maxSessionTimeoutMs: 60_000,
  })
  coordinators.push(c)
  return c
}

const params = (memberId: string, extra: Partial<JoinParams> = {}): JoinParams => ({
  groupId: 'g',
  memberId,
  clientId: 'c',
  clientHost: '/127.0.0.1',
  sessionTimeoutMs: 300,
  rebalanceTimeoutMs: 300,
  protocolType: 'consumer',
  protocols: [{ name: 'rr', metadata: Buffer.from('m') }],
  requireKnownMemberId: true,
  ...extra,
})

/** JoinGroup v4+ dance: MEMBER_ID_REQUIRED, then join with the given id. */
async function newMemberId(c: GroupCoordinator, extra: Partial<JoinParams> = {}): Promise<string> {
  const first = await c.join(params('', extra))
  expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED)
  expect(first.memberId).toMatch(/^c-/)
  return first.memberId
}

it('a lone member becomes leader of generation 1 and gets its assignment', async () => {
  const c = coordinator()
  const id = await newMemberId(c)
  const joined = await c.join(params(id))
  expect(joined).toMatchObject({ errorCode: 0, generationId: 1, leaderId: id, protocolName: 'rr' })
  expect(joined.members.map((m) => m.memberId)).toEqual([id])
  const synced = await c.sync('g', 1, id, [{ memberId: id, assignment: Buffer.from('A') }])
  expect(synced).toEqual({ errorCode: 0, assignment: Buffer.from('A') })
  expect(c.heartbeat('g', 1, id)).toBe(ErrorCode.NONE)
  expect(c.heartbeat('g', 0, id)).toBe(ErrorCode.ILLEGAL_GENERATION)
  expect(c.heartbeat('g', 1, 'nobody')).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
  expect(c.describe('g').state).toBe('Stable')
})

it('a second member triggers a rebalance that completes when the first rejoins', async () => {
  const c = coordinator()
  const a = await newMemberId(c)
  await c.join(params(a))
  await c.sync('g', 1, a, [{ memberId: a, assignment: Buffer.from('all') }])

  const b = await newMemberId(c)
  const bJoin = c.join(params(b))
  expect(c.heartbeat('g', 1, a)).toBe(ErrorCode.REBALANCE_IN_PROGRESS)
  // PreparingRebalance: a's commit of generation 1 is still accepted (Kafka relies on the
  // heartbeat to send a to rejoin).
  expect(c.checkCommit('g', 1, a)).toBe(ErrorCode.NONE)
  const aJoin = c.join(params(a))
  const [ra, rb] = await Promise.all([aJoin, bJoin])
  expect(ra.generationId).toBe(2)
  expect(rb.generationId).toBe(2)
  expect(ra.leaderId).toBe(a) // the leader survives rebalances
  expect(ra.members.length).toBe(2)
  expect(rb.members).toEqual([]) // only the leader sees member metadata

  // The follower's SyncGroup waits for the leader's.
  const bSync = c.sync('g', 2, b, [])
  const aSync = c.sync('g', 2, a, [
    { memberId: a, assignment: Buffer.from('p0') },
    { memberId: b, assignment: Buffer.from('p1') },
  ])
  expect((await bSync).assignment.toString()).toBe('p1')
  expect((await aSync).assignment.toString()).toBe('p0')
  expect(c.checkCommit('g', 1, a)).toBe(ErrorCode.ILLEGAL_GENERATION)
  expect(c.checkCommit('g', 2, a)).toBe(ErrorCode.NONE)
})

it('drops a member whose session expires, and one that does not rejoin in time', async () => {
  const c = coordinator()
  const a = await newMemberId(c)
  const b = await newMemberId(c)
  const [ra] = await Promise.all([c.join(params(a)), c.join(params(b))])
  expect(ra?.members.length).toBe(2)
  await Promise.all([c.sync('g', 1, a, []), c.sync('g', 1, b, [])])

  // b stops heartbeating; a keeps going and is told to rebalance once b's session expires.
  const deadline = Date.now() + 2000
  let code: number = ErrorCode.NONE
  while (Date.now() < deadline && code === ErrorCode.NONE) {
    await new Promise((r) => setTimeout(r, 50))
    code = c.heartbeat('g', 1, a)
  }
  expect(code).toBe(ErrorCode.REBALANCE_IN_PROGRESS)
  const again = await c.join(params(a))
  expect(again.generationId).toBe(2)
  expect(again.members.map((m) => m.memberId)).toEqual([a])
  await c.sync('g', 2, a, [])

  // A newcomer arrives; a never rejoins: after the rebalance timeout only the newcomer remains.
  const n = await newMemberId(c)
  const started = Date.now()
  const rn = await c.join(params(n))
  expect(Date.now() - started).toBeGreaterThanOrEqual(250)
  expect(rn).toMatchObject({ errorCode: 0, generationId: 3, leaderId: n })
  expect(c.heartbeat('g', 2, a)).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
})

it('rejects mismatched protocols, unknown members and bad session timeouts', async () => {
  const c = coordinator()
  const a = await newMemberId(c)
  await c.join(params(a))
  const other = await c.join(
    params('', { protocols: [{ name: 'sticky', metadata: Buffer.alloc(0) }] }),
  )
  expect(other.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
  expect((await c.join(params('ghost'))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
  expect((await c.join(params('', { sessionTimeoutMs: 1 }))).errorCode).toBe(
    ErrorCode.INVALID_SESSION_TIMEOUT,
  )
  expect((await c.sync('g', 1, 'ghost', [])).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
  expect(c.leave('g', 'ghost')).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
})

it('picks the protocol most members prefer among those all support', async () => {
  const c = coordinator(50) // the initial delay lets both join generation 1
  const rr = { name: 'rr', metadata: Buffer.alloc(0) }
  const range = { name: 'range', metadata: Buffer.alloc(0) }
  const a = await newMemberId(c)
  const b = await newMemberId(c)
  const [ra, rb] = await Promise.all([
    c.join(params(a, { protocols: [range, rr] })),
    c.join(params(b, { protocols: [range, rr] })),
  ])
  expect(ra?.protocolName).toBe('range')
  expect(rb?.generationId).toBe(1)
})

it('leaving empties the group; simple commits are then allowed', async () => {
  const c = coordinator()
  const a = await newMemberId(c)
  await c.join(params(a))
  expect(c.checkCommit('g', -1, '')).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
  expect(c.leave('g', a)).toBe(ErrorCode.NONE)
  expect(c.describe('g').state).toBe('Empty')
  expect(c.checkCommit('g', -1, '')).toBe(ErrorCode.NONE)
  c.commit('g', 't', 0, 42n, 'meta')
  expect(c.committed('g', 't', 0)).toEqual({ offset: 42n, metadata: 'meta' })
  c.forgetTopic('t')
  expect(c.committed('g', 't', 0)).toBeNull()
})

describe('OffsetCommit rules, state by state (Kafka group coordinator)', () => {
  it('unknown group: a simple commit creates it Empty, a member commit is from a gone generation', () => {
    const c = coordinator()
    expect(c.checkCommit('', -1, '')).toBe(ErrorCode.INVALID_GROUP_ID)
    expect(c.checkCommit('nobody-yet', 3, 'm')).toBe(ErrorCode.ILLEGAL_GENERATION)
    expect(c.checkCommit('nobody-yet', -1, '')).toBe(ErrorCode.NONE)
    c.commit('nobody-yet', 't', 0, 5n, null)
    expect(c.describe('nobody-yet').state).toBe('Empty')
    expect(c.committed('nobody-yet', 't', 0)).toEqual({ offset: 5n, metadata: null })
  })

  it('Empty: simple commits are stored; commits naming a member or a generation are not', async () => {
    const c = coordinator()
    const a = await newMemberId(c)
    await c.join(params(a))
    expect(c.leave('g', a)).toBe(ErrorCode.NONE)
    expect(c.describe('g').state).toBe('Empty')
    expect(c.checkCommit('g', -1, '')).toBe(ErrorCode.NONE)
    expect(c.checkCommit('g', -1, 'some-member')).toBe(ErrorCode.NONE)
    expect(c.checkCommit('g', 1, a)).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
  })

  it('PreparingRebalance: the current generation commits; stale or unknown ones do not', async () => {
    const c = coordinator()
    const a = await newMemberId(c)
    await c.join(params(a))
    await c.sync('g', 1, a, [{ memberId: a, assignment: Buffer.from('all') }])
    const b = await newMemberId(c)
    const bJoin = c.join(params(b))
    expect(c.describe('g').state).toBe('PreparingRebalance')
    expect(c.checkCommit('g', 1, a)).toBe(ErrorCode.NONE)
    expect(c.checkCommit('g', 0, a)).toBe(ErrorCode.ILLEGAL_GENERATION)
    expect(c.checkCommit('g', 1, 'ghost')).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    expect(c.checkCommit('g', -1, '')).toBe(ErrorCode.UNKNOWN_MEMBER_ID) // non-empty group
    // the member is still told to rejoin by its heartbeat
    expect(c.heartbeat('g', 1, a)).toBe(ErrorCode.REBALANCE_IN_PROGRESS)
    await Promise.all([c.join(params(a)), bJoin])
  })

  it('CompletingRebalance: members of the new generation are told to finish the rebalance', async () => {
    const c = coordinator()
    const a = await newMemberId(c)
    const joined = await c.join(params(a))
    expect(c.describe('g').state).toBe('CompletingRebalance')
    expect(c.checkCommit('g', joined.generationId, a)).toBe(ErrorCode.REBALANCE_IN_PROGRESS)
    expect(c.checkCommit('g', joined.generationId - 1, a)).toBe(ErrorCode.ILLEGAL_GENERATION)
    expect(c.checkCommit('g', joined.generationId, 'ghost')).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    await c.sync('g', joined.generationId, a, [])
    expect(c.describe('g').state).toBe('Stable')
  })

  it('Stable: the current generation commits; the commit keeps the session alive', async () => {
    const c = coordinator()
    const a = await newMemberId(c)
    await c.join(params(a))
    await c.sync('g', 1, a, [])
    expect(c.checkCommit('g', 1, a)).toBe(ErrorCode.NONE)
    expect(c.checkCommit('g', 2, a)).toBe(ErrorCode.ILLEGAL_GENERATION)
    expect(c.checkCommit('g', -1, '')).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    // Commits alone (no heartbeats) for longer than the 300 ms session keep the member.
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 60))
      expect(c.checkCommit('g', 1, a)).toBe(ErrorCode.NONE)
    }
    expect(c.describe('g').state).toBe('Stable')
  })

  it('Dead (the coordinator shut down): COORDINATOR_NOT_AVAILABLE, so clients look again', async () => {
    const c = coordinator()
    const a = await newMemberId(c)
    await c.join(params(a))
    await c.sync('g', 1, a, [])
    c.close()
    expect(c.checkCommit('g', 1, a)).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE)
    expect(c.checkCommit('g', -1, '')).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE)
  })
})
