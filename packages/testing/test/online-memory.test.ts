// Core's in-memory online store (the default of tests and examples) runs the online suite.
import { memoryOnlineStore } from '@larder/core'
import { onlineStoreConformance } from '../src/index.js'

onlineStoreConformance({ name: 'memory (core)', createStore: () => memoryOnlineStore() })
