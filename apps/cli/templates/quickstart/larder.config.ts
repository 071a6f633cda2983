import { defineConfig } from '@larder/core'
import { fileOfflineStore } from '@larder/file'
import { redisOnlineStore } from '@larder/redis'
import { sqliteOnlineStore } from '@larder/sqlite'

export default defineConfig({
  project: 'quickstart',
  registry: 'data/registry.json',
  offlineStore: fileOfflineStore(),
  // To serve from Redis instead, replace the next line with:
  //   onlineStore: redisOnlineStore({ url: 'redis://127.0.0.1:6379' }),
  onlineStore: sqliteOnlineStore({ path: 'data/online.db' }),
})

// Referenced so that switching to Redis is a one-line change.
void redisOnlineStore
