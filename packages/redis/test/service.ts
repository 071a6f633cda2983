// Finds the Redis server the service tests use (REDIS_URL, 127.0.0.1:6379, or a started
// redis-server); without one they skip loudly, or fail when LARDER_REQUIRE_SERVICES=1.
import { findRedis, servicesRequired } from '@larder/testing'
import { afterAll } from 'vitest'

const found = await findRedis()
if (!found.available) {
  if (servicesRequired()) throw new Error(`[larder] Redis is required: ${found.reason}`)
  console.warn(`\n*** SKIPPING Redis tests: ${found.reason} ***\n`)
} else {
  afterAll(() => found.stop())
}

/** The Redis URL, or undefined when no Redis is available (tests skip). */
export const redisUrl: string | undefined = found.available ? found.url : undefined
