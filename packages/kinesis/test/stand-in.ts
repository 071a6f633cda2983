// kinesalite in-process on an ephemeral loopback port, and a real AWS SDK v3 client for it.
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import kinesalite from 'kinesalite'

// The AWS default chain reads these; never probe the instance metadata address.
process.env.AWS_ACCESS_KEY_ID ??= 'larder-test'
process.env.AWS_SECRET_ACCESS_KEY ??= 'larder-test'
process.env.AWS_EC2_METADATA_DISABLED = 'true'

export interface KinesisStandIn {
  endpoint: string
  client: KinesisClient
  createStream(name: string, shards: number): Promise<void>
  waitActive(name: string): Promise<void>
  put(stream: string, records: Array<{ key: string; data: string | Buffer }>): Promise<void>
  shards(stream: string): Promise<Shard[]>
  close(): Promise<void>
}

export async function startKinesalite(): Promise<KinesisStandIn> {
  const server: Server = kinesalite({
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 50,
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
    async shards(stream) {
      return (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? []
    },
    async close() {
      client.destroy()
      await new Promise((r) => server.close(r))
    },
  }
}
