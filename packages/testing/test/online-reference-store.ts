/**
 * A minimal in-memory online store, written from SEMANTICS.md: the reference the online
 * conformance suite is checked against (core ships its own `MemoryOnlineStore` for users).
 * It takes the write rule from core (`winsAgainst`, the rule's one home); the suite's cases
 * pin the rule down with expected values, so a wrong rule fails them here too.
 */
import {
  entityKeyId,
  type OnlineRow,
  OnlineStoreBase,
  type OnlineStoreUpdate,
  type OnlineValue,
  type StoredViewSpec,
  winsAgainst,
} from '@larder/core'

interface StoredRow {
  values: Map<string, unknown>
  eventTs: bigint
  createdTs: bigint | null
}

/**
 * Bugs the store can be told to have, so that a test can check that the conformance suite
 * catches each of them (`online-self-check.test.ts`).
 */
export interface ReferenceStoreBugs {
  /** Every write replaces the stored row. */
  lastWriteWins?: boolean
  /** A null created_ts beats a non-null one at equal event_ts. */
  nullCreatedWins?: boolean
  /** int64 values come back as numbers. */
  int64AsNumber?: boolean
  /** Event timestamps are kept to the millisecond. */
  millisEventTs?: boolean
  /** Views of one project share a table. */
  oneTablePerProject?: boolean
  /** `update({ drop })` and `teardown()` keep the data. */
  keepDroppedData?: boolean
}

/** The in-memory online store. */
export class ReferenceOnlineStore extends OnlineStoreBase {
  readonly name = 'reference'
  readonly #tables = new Map<string, Map<string, StoredRow>>()
  readonly #bugs: ReferenceStoreBugs

  constructor(bugs: ReferenceStoreBugs = {}) {
    super()
    this.#bugs = bugs
  }

  #wins(incoming: OnlineRow, stored: StoredRow): boolean {
    if (this.#bugs.lastWriteWins) return true
    if (
      this.#bugs.nullCreatedWins &&
      incoming.eventTs === stored.eventTs &&
      incoming.createdTs === null &&
      stored.createdTs !== null
    )
      return true
    return winsAgainst(incoming, stored)
  }

  #table(view: StoredViewSpec, create: boolean): Map<string, StoredRow> | undefined {
    const name = `${this.context?.project ?? ''}\u0000${this.#bugs.oneTablePerProject ? '' : view.name}`
    let table = this.#tables.get(name)
    if (!table && create) {
      table = new Map()
      this.#tables.set(name, table)
    }
    return table
  }

  async update(change: OnlineStoreUpdate): Promise<void> {
    for (const view of change.drop) await this.teardown([view])
    for (const view of change.keep) this.#table(view, true)
  }

  async writeBatch(view: StoredViewSpec, features: string[], rows: OnlineRow[]): Promise<number> {
    const table = this.#table(view, true)!
    let written = 0
    for (const r of rows) {
      const key = entityKeyId(r.key)
      const stored = table.get(key)
      if (stored && !this.#wins(r, stored)) continue
      const values = new Map(stored?.values)
      features.forEach((f, i) => {
        const v = r.values[i]
        values.set(f, Array.isArray(v) ? [...v] : (v ?? null))
      })
      const eventTs = this.#bugs.millisEventTs ? (r.eventTs / 1000n) * 1000n : r.eventTs
      table.set(key, { values, eventTs, createdTs: r.createdTs })
      written++
    }
    return written
  }

  async read(
    view: StoredViewSpec,
    keys: Uint8Array[],
    features: string[],
  ): Promise<Array<OnlineValue | undefined>> {
    const table = this.#table(view, false)
    return keys.map((key) => {
      const stored = table?.get(entityKeyId(key))
      if (!stored) return undefined
      return {
        values: features.map((f) => {
          const v = stored.values.get(f) ?? null
          if (this.#bugs.int64AsNumber && typeof v === 'bigint') return Number(v)
          return Array.isArray(v) ? [...v] : v
        }),
        eventTs: stored.eventTs,
      }
    })
  }

  async teardown(views: StoredViewSpec[]): Promise<void> {
    if (this.#bugs.keepDroppedData) return
    for (const view of views)
      this.#tables.delete(`${this.context?.project ?? ''}\u0000${view.name}`)
  }

  async close(): Promise<void> {}
}
