import { defineConfig } from '@larder/core'
import { fileOfflineStore } from '@larder/file'
import { sqliteOnlineStore } from '@larder/sqlite'

export default defineConfig({
  project: 'quickstart',
  registry: 'data/registry.json',
  offlineStore: fileOfflineStore(),
  onlineStore: sqliteOnlineStore({ path: 'data/online.db' }),
})
