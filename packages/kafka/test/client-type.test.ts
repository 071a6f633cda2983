import { Kafka } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import type { KafkaClientLike } from '../src/client.js'
import { kafkaConnector } from '../src/index.js'

describe('KafkaClientLike', () => {
  it('is satisfied by a kafkajs 2.2 client, which kafkaConnector accepts as it is', () => {
    // Compile-time check: the structural type accepts kafkajs' own class.
    const client: KafkaClientLike = new Kafka({ brokers: ['127.0.0.1:1'] })
    const connector = kafkaConnector({ client })
    expect(connector.kind).toBe('kafka')
    expect(typeof client.consumer).toBe('function')
  })
})
