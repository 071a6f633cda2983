// A real Redis Cluster of three masters on loopback, started for this file with the Debian
// `redis-server` and `redis-cli` (skipped loudly when they are missing): the conformance
// suite with one key per script call, pipelines split per node by ioredis.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, isPortOpen, onlineStoreConformance, servicesRequired } from '@larder/testing'
import { Cluster } from 'ioredis'
import { afterAll, describe, expect, test } from 'vitest'
import { redisOnlineStore } from '../src/index.js'

async function startCluster(): Promise<{ ports: number[]; stop: () => void } | string> {
  for (const bin of ['redis-server', 'redis-cli']) {
    if (spawnSync(bin, ['--version']).status !== 0) return `${bin} is not installed`
  }
  const dir = mkdtempSync(join(tmpdir(), 'larder-redis-cluster-'))
  const ports: number[] = []
  const children: ChildProcess[] = []
  const stop = () => {
    for (const c of children) c.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
  for (let i = 0; i < 3; i++) {
    const port = await freePort()
    ports.push(port)
    children.push(
      spawn(
        'redis-server',
        [
          ...['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes'],
          ...['--cluster-config-file', `nodes-${port}.conf`, '--dir', dir],
          ...['--save', '', '--appendonly', 'no'],
        ],
        { stdio: 'ignore' },
      ),
    )
  }
  for (const port of ports) {
    for (let i = 0; i < 50 && !(await isPortOpen(port)); i++)
      await new Promise((r) => setTimeout(r, 100))
  }
  const create = spawnSync(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ],
    { encoding: 'utf8', timeout: 20_000 },
  )
  if (create.status !== 0) {
    stop()
    return `redis-cli --cluster create failed: ${create.stderr || create.stdout}`
  }
  for (let i = 0; i < 100; i++) {
    const info = spawnSync('redis-cli', ['-p', String(ports[0]), 'cluster', 'info'], {
      encoding: 'utf8',
    })
    if (info.stdout.includes('cluster_state:ok')) return { ports, stop }
    await new Promise((r) => setTimeout(r, 100))
  }
  stop()
  return 'the cluster did not reach cluster_state:ok within 10 s'
}

const cluster = await startCluster()
if (typeof cluster === 'string') {
  if (servicesRequired()) throw new Error(`[larder] a Redis Cluster is required: ${cluster}`)
  console.warn(`\n*** SKIPPING Redis Cluster tests: ${cluster} ***\n`)
  describe.skip('redis cluster', () => {})
} else {
  afterAll(() => cluster.stop())
  const nodes = cluster.ports.map((port) => ({ host: '127.0.0.1', port }))
  onlineStoreConformance({
    name: 'redis cluster (3 masters)',
    createStore: () => redisOnlineStore({ cluster: nodes }),
  })

  test('the store builds a Cluster client and spreads keys over the masters', async () => {
    await using store = redisOnlineStore({ cluster: nodes })
    expect(store.redis).toBeInstanceOf(Cluster)
    expect(store.target).toBe(`redis cluster ${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`)
  })
}
