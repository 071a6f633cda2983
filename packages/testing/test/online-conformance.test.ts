// The online suite checked against a store written from SEMANTICS.md alone.
import { onlineStoreConformance } from '../src/index.js'
import { ReferenceOnlineStore } from './online-reference-store.js'

onlineStoreConformance({ name: 'reference', createStore: () => new ReferenceOnlineStore() })
