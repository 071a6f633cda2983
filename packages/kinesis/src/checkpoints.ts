/**
 * Per-shard checkpoints of one Kinesis consumer (one stream feature view): the sequence
 * number of the last record whose writes succeeded, and whether the shard was read to its
 * end (a closed parent after a split or merge). The embedded default keeps them in a local
 * JSON file replaced atomically (write a temporary file, fsync, rename), so one process needs
 * no other service and a kill -9 leaves either the old or the new file.
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { LarderError } from '@larder/core'

/** The checkpoint of one shard. */
export interface ShardCheckpoint {
  /** Sequence number of the last record committed; reading resumes after it. */
  sequenceNumber?: string
  /** The shard was read to SHARD_END and everything of it committed. */
  ended?: boolean
}

/** Where a consumer keeps its shard checkpoints. */
export interface CheckpointStore {
  /** Every shard's checkpoint. */
  load(): Promise<Record<string, ShardCheckpoint>>
  /** Replaces one shard's checkpoint (durably, before resolving). */
  save(shardId: string, checkpoint: ShardCheckpoint): Promise<void>
}

interface CheckpointFile {
  version: 1
  stream: string
  shards: Record<string, ShardCheckpoint>
}

/**
 * Checkpoints in one JSON file, replaced atomically on every save (saves are serialized).
 * @example
 * const store = fileCheckpointStore('/repo/data/kinesis-checkpoints/rides.driver_trips.json', 'drivers')
 * await store.save('shardId-000000000000', { sequenceNumber: '4968...' })
 */
export function fileCheckpointStore(path: string, stream: string): CheckpointStore {
  let shards: Record<string, ShardCheckpoint> | undefined
  let chain: Promise<void> = Promise.resolve()
  const load = async () => {
    if (shards) return shards
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        shards = {}
        return shards
      }
      throw err
    }
    let parsed: CheckpointFile
    try {
      parsed = JSON.parse(text) as CheckpointFile
    } catch (err) {
      throw new LarderError('INVALID_CONFIG', `kinesis checkpoint file ${path} is not JSON`, {
        component: 'kinesis',
        hint: 'delete it to re-read the stream from startFrom (the online store ignores replays)',
        cause: err,
      })
    }
    if (parsed.stream !== stream)
      throw new LarderError(
        'INVALID_CONFIG',
        `kinesis checkpoint file ${path} belongs to stream '${parsed.stream}', not '${stream}'`,
        { component: 'kinesis', hint: 'delete it, or set checkpointDir to another folder' },
      )
    shards = parsed.shards ?? {}
    return shards
  }
  return {
    async load() {
      return { ...(await load()) }
    },
    save(shardId, checkpoint) {
      const run = chain.then(async () => {
        const all = await load()
        all[shardId] = { ...checkpoint }
        const body: CheckpointFile = { version: 1, stream, shards: all }
        await mkdir(dirname(path), { recursive: true })
        const tmp = `${path}.${process.pid}.tmp`
        const handle = await open(tmp, 'w')
        try {
          await handle.writeFile(`${JSON.stringify(body, null, 2)}\n`)
          await handle.sync()
        } finally {
          await handle.close()
        }
        try {
          await rename(tmp, path)
        } catch (err) {
          await rm(tmp, { force: true })
          throw err
        }
      })
      chain = run.catch(() => {})
      return run
    },
  }
}
