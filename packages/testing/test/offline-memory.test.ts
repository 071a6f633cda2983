import { memoryOfflineStore } from '@larder/core'
import { offlineStoreConformance } from '../src/index.js'

// The reference store runs the suite too: its hand-checked cases and the naive oracle check
// the engine itself (the exact comparison with the engine is then trivially true).
const store = memoryOfflineStore()
offlineStoreConformance({
  name: 'memory (reference)',
  createStore: () => store,
  loadSource: (name, table, fields) => {
    store.register(name, table)
    return { kind: 'memory', table: name, ...fields }
  },
  propertyRuns: 2000,
})
