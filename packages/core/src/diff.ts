/**
 * Plan: the difference between declared and registered objects, printed like
 * `Created feature view driver_hourly_stats` with indented `field: old -> new` lines.
 */
import type { RegistryData } from './registry.js'
import type { DeclaredRepo } from './repo.js'

/** The object types the registry holds, as plan output names them. */
export type ObjectType =
  | 'entity'
  | 'data source'
  | 'feature view'
  | 'stream feature view'
  | 'on demand feature view'
  | 'feature service'

/** One field change of an updated object. */
export interface FieldChange {
  path: string
  old: unknown
  new: unknown
}

/** One object's change. */
export interface ObjectChange {
  action: 'Created' | 'Updated' | 'Deleted'
  type: ObjectType
  name: string
  /** Field changes (Updated only). */
  changes: FieldChange[]
}

/** The result of a plan. */
export interface RegistryDiff {
  changes: ObjectChange[]
  /** The registry version the plan was computed from (apply checks it). */
  baseVersion: number
}

const GROUPS: Array<[keyof RegistryData & keyof DeclaredRepo, ObjectType]> = [
  ['entities', 'entity'],
  ['dataSources', 'data source'],
  ['featureViews', 'feature view'],
  ['streamFeatureViews', 'stream feature view'],
  ['onDemandFeatureViews', 'on demand feature view'],
  ['featureServices', 'feature service'],
]

/** Fields not compared: they are bookkeeping, not definitions. */
const IGNORED = new Set(['schemaInferred'])

function isNamedList(value: unknown): value is Array<{ name: string }> {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (v) => v && typeof v === 'object' && typeof (v as { name?: unknown }).name === 'string',
    )
  )
}

function flatten(value: unknown, prefix: string, out: Map<string, unknown>): void {
  if (isNamedList(value)) {
    // Items are addressed by name; the name itself is the address, not a field.
    for (const { name, ...rest } of value) flatten(rest, prefix ? `${prefix}.${name}` : name, out)
    return
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>)
    if (entries.length === 0 && prefix) out.set(prefix, {})
    for (const [k, v] of entries) {
      if (IGNORED.has(k)) continue
      flatten(v, prefix ? `${prefix}.${k}` : k, out)
    }
    return
  }
  out.set(prefix, value)
}

function fieldChanges(oldSpec: unknown, newSpec: unknown): FieldChange[] {
  const a = new Map<string, unknown>()
  const b = new Map<string, unknown>()
  flatten(oldSpec, '', a)
  flatten(newSpec, '', b)
  const changes: FieldChange[] = []
  const paths = new Set([...a.keys(), ...b.keys()])
  for (const path of paths) {
    const x = a.get(path)
    const y = b.get(path)
    if (JSON.stringify(x) !== JSON.stringify(y)) changes.push({ path, old: x, new: y })
  }
  return changes
}

/**
 * Compares what a repo declares with what the registry holds.
 * @example
 * const diff = diffRegistry(await registry.read(), declared)
 * console.log(formatDiff(diff))
 */
export function diffRegistry(current: RegistryData, declared: DeclaredRepo): RegistryDiff {
  const changes: ObjectChange[] = []
  for (const [field, type] of GROUPS) {
    const before = new Map((current[field] as Array<{ name: string }>).map((o) => [o.name, o]))
    const after = new Map((declared[field] as Array<{ name: string }>).map((o) => [o.name, o]))
    for (const [name, spec] of after) {
      const old = before.get(name)
      if (!old) changes.push({ action: 'Created', type, name, changes: [] })
      else {
        const fc = fieldChanges(old, spec)
        if (fc.length > 0) changes.push({ action: 'Updated', type, name, changes: fc })
      }
    }
    for (const name of before.keys()) {
      if (!after.has(name)) changes.push({ action: 'Deleted', type, name, changes: [] })
    }
  }
  return { changes, baseVersion: current.version }
}

function show(value: unknown): string {
  if (value === undefined) return '(none)'
  if (typeof value === 'string') return value
  return JSON.stringify(value)
}

/** Renders a diff the way `larder plan` prints it. */
export function formatDiff(diff: RegistryDiff): string {
  if (diff.changes.length === 0) return 'No changes to registry'
  const lines: string[] = []
  for (const c of diff.changes) {
    lines.push(`${c.action} ${c.type} ${c.name}`)
    for (const f of c.changes) lines.push(`  ${f.path}: ${show(f.old)} -> ${show(f.new)}`)
  }
  return lines.join('\n')
}
