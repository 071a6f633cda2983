import { defineConfig } from '@larder/core'
import { fileOfflineStore } from '@larder/file'
import { sqliteOnlineStore } from '@larder/sqlite'

// To serve from Redis instead: `npm install @larder/redis`, import it with
//   import { redisOnlineStore } from '@larder/redis'
// and replace the onlineStore line with
//   onlineStore: redisOnlineStore({ url: 'redis://127.0.0.1:6379' }),
export default defineConfig({
  project: 'quickstart',
  registry: 'data/registry.json',
  offlineStore: fileOfflineStore(),
  onlineStore: sqliteOnlineStore({ path: 'data/online.db' }),
})
