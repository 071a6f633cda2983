/**
 * An online store held in process memory: for tests, notebooks and embedding. It enforces
 * the same write rule as every store (newer event wins, created timestamp breaks ties) and
 * keeps nothing across processes.
 */
import {
  type OnlineRow,
  OnlineStoreBase,
  type OnlineStoreUpdate,
  type OnlineValue,
  winsAgainst,
} from './contracts.js'
import { entityKeyId } from './entity-key.js'
import type { StoredViewSpec } from './spec.js'

interface StoredRow {
  values: Map<string, unknown>
  eventTs: bigint
  createdTs: bigint | null
}

/** The in-memory online store. */
export class MemoryOnlineStore extends OnlineStoreBase {
  readonly name = 'memory'
  private readonly tables = new Map<string, Map<string, StoredRow>>()

  async update(change: OnlineStoreUpdate): Promise<void> {
    for (const v of change.drop) this.tables.delete(v.name)
    for (const v of change.keep) if (!this.tables.has(v.name)) this.tables.set(v.name, new Map())
  }

  async writeBatch(view: StoredViewSpec, features: string[], rows: OnlineRow[]): Promise<number> {
    let table = this.tables.get(view.name)
    if (!table) {
      table = new Map()
      this.tables.set(view.name, table)
    }
    let written = 0
    for (const row of rows) {
      const k = entityKeyId(row.key)
      const stored = table.get(k)
      if (!winsAgainst(row, stored)) continue
      const values = new Map(stored?.values)
      for (let i = 0; i < features.length; i++) values.set(features[i]!, row.values[i] ?? null)
      table.set(k, { values, eventTs: row.eventTs, createdTs: row.createdTs })
      written++
    }
    return written
  }

  async read(
    view: StoredViewSpec,
    keys: Uint8Array[],
    features: string[],
  ): Promise<Array<OnlineValue | undefined>> {
    const table = this.tables.get(view.name)
    return keys.map((key) => {
      const row = table?.get(entityKeyId(key))
      if (!row) return undefined
      return { values: features.map((f) => row.values.get(f) ?? null), eventTs: row.eventTs }
    })
  }

  async teardown(views: StoredViewSpec[]): Promise<void> {
    for (const v of views) this.tables.delete(v.name)
  }

  async close(): Promise<void> {}
}

/**
 * Creates an in-memory online store.
 * @example
 * defineConfig({ project: 'test', offlineStore: memoryOfflineStore(), onlineStore: memoryOnlineStore() })
 */
export function memoryOnlineStore(): MemoryOnlineStore {
  return new MemoryOnlineStore()
}
