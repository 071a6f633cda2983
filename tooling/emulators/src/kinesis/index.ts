/**
 * Kinesis stand-in: kinesalite (an implementation of the Kinesis API on an in-memory LevelDB)
 * in-process on an ephemeral loopback port, with a real AWS SDK v3 client for it and the few
 * helpers tests need (create a stream and wait for it, put records, list shards).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ListShardsCommand,
  MergeShardsCommand,
  PutRecordsCommand,
  type Shard,
  SplitShardCommand,
} from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import kinesalite from 'kinesalite'

/** A running kinesalite. */
export interface KinesisStandIn {
  /** `http://127.0.0.1:<port>`: give it as the source's `endpoint`. */
  endpoint: string
  client: KinesisClient
  createStream(name: string, shards: number): Promise<void>
  waitActive(name: string): Promise<void>
  put(stream: string, records: Array<{ key: string; data: string | Buffer }>): Promise<void>
  shards(stream: string): Promise<Shard[]>
  /** Splits a shard at the middle of its hash range; returns that hash key. Waits until ACTIVE. */
  split(stream: string, shardId: string): Promise<string>
  /** Merges two adjacent shards. Waits until ACTIVE. */
  merge(stream: string, shardId: string, adjacentShardId: string): Promise<void>
  /**
   * Answers the next `count` GetRecords calls with the service's error `type` instead of
   * running them (`ProvisionedThroughputExceededException` as a throttled shard answers,
   * `ExpiredIteratorException` as an iterator older than 5 minutes does).
   */
  failGetRecords(count: number, type: string): void
  /** GetRecords calls answered with an injected error so far. */
  readonly injectedFailures: number
  close(): Promise<void>
}

/**
 * Starts kinesalite on 127.0.0.1 (ephemeral port); streams are ACTIVE at once.
 * @example
 * const kinesis = await startKinesalite()
 * await kinesis.createStream('drivers', 2)
 * await kinesis.put('drivers', [{ key: '1001', data: '{"driver_id":1001}' }])
 * await kinesis.close()
 */
export async function startKinesalite(): Promise<KinesisStandIn> {
  const server: Server = kinesalite({
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 50,
  })
  // Injected faults: wrap kinesalite's request listener, answering GetRecords with the
  // service's JSON error shape while faults are pending.
  const fault = { pending: 0, type: '', injected: 0 }
  const [handler] = server.listeners('request') as Array<
    (req: IncomingMessage, res: ServerResponse) => void
  >
  server.removeAllListeners('request')
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (fault.pending > 0 && String(req.headers['x-amz-target']).endsWith('.GetRecords')) {
      fault.pending--
      fault.injected++
      req.resume()
      const body = JSON.stringify({ __type: fault.type, message: `injected ${fault.type}` })
      res.writeHead(400, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-errortype': fault.type,
      })
      res.end(body)
      return
    }
    handler!(req, res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const client = new KinesisClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'larder-test', secretAccessKey: 'larder-test' },
    requestHandler: new NodeHttpHandler(),
  })
  const waitActive = async (name: string) => {
    for (let i = 0; i < 200; i++) {
      const s = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }))
      if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return
      await new Promise((r) => setTimeout(r, 10))
    }
    throw new Error(`stream ${name} never became ACTIVE`)
  }
  const shards = async (stream: string) =>
    (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? []
  return {
    endpoint,
    client,
    async createStream(name, shards) {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }))
      await waitActive(name)
    },
    waitActive,
    async put(stream, records) {
      for (let i = 0; i < records.length; i += 500) {
        const out = await client.send(
          new PutRecordsCommand({
            StreamName: stream,
            Records: records.slice(i, i + 500).map((r) => ({
              PartitionKey: r.key,
              Data: Buffer.from(r.data),
            })),
          }),
        )
        if (out.FailedRecordCount) throw new Error(`${out.FailedRecordCount} records not put`)
      }
    },
    shards,
    async split(stream, shardId) {
      const shard = (await shards(stream)).find((s) => s.ShardId === shardId)
      if (!shard?.HashKeyRange) throw new Error(`no shard ${shardId} in ${stream}`)
      const { StartingHashKey, EndingHashKey } = shard.HashKeyRange
      const mid = String((BigInt(StartingHashKey!) + BigInt(EndingHashKey!)) / 2n)
      await client.send(
        new SplitShardCommand({
          StreamName: stream,
          ShardToSplit: shardId,
          NewStartingHashKey: mid,
        }),
      )
      await waitActive(stream)
      return mid
    },
    async merge(stream, shardId, adjacentShardId) {
      await client.send(
        new MergeShardsCommand({
          StreamName: stream,
          ShardToMerge: shardId,
          AdjacentShardToMerge: adjacentShardId,
        }),
      )
      await waitActive(stream)
    },
    failGetRecords(count, type) {
      fault.pending = count
      fault.type = type
    },
    get injectedFailures() {
      return fault.injected
    },
    async close() {
      client.destroy()
      await new Promise((r) => server.close(r))
    },
  }
}
