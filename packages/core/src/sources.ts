/**
 * Sources as data, checked once. A source is a JSON spec with a `kind`; the fields every
 * source shares are checked here (`validateCommonSourceFields`), the backend's own fields by
 * its {@link SourceKind}. Both run when a source is defined (the backend's factory calls
 * {@link checkSource}), when stored specs are loaded from the registry and when a plan is
 * made, so a registry edited by hand or written by another version fails with the same
 * message as a bad definition.
 */
import type { OfflineStore, SourceKind } from './contracts.js'
import { validateCommonSourceFields } from './definitions.js'
import { isLarderError, LarderError } from './errors.js'
import { batchSourceOf, type SourceSpec, type StoredViewSpec } from './spec.js'

/** Source kinds core itself understands (no offline store reads them). */
const CORE_KINDS = new Set(['push', 'request'])

/**
 * Checks a source spec: the common fields, then the kind's own fields.
 * @throws LarderError INVALID_DEFINITION naming the source and field.
 * @example
 * export function mySource(options: MySourceOptions): MySourceSpec {
 *   const spec = { kind: 'mydb', ...options }
 *   checkSource(spec, mySourceKind)
 *   return spec
 * }
 */
export function checkSource<S extends SourceSpec>(spec: S, kind: SourceKind<S>): void {
  try {
    validateCommonSourceFields(spec)
  } catch (err) {
    // Raised from the backend's factory (fileSource()...): name the backend, as its own
    // checks do.
    if (!isLarderError(err) || err.component !== undefined) throw err
    throw new LarderError(err.code, err.reason, {
      component: kind.kind,
      ...(err.hint !== undefined ? { hint: err.hint } : {}),
    })
  }
  if (spec.kind !== kind.kind) {
    throw new LarderError(
      'INVALID_DEFINITION',
      `source '${spec.name}' has kind '${String(spec.kind)}', not '${kind.kind}'`,
    )
  }
  kind.validate(spec)
}

/** The kind of `store` that reads sources of `kind`, if any. */
export function sourceKindOf(store: OfflineStore, kind: string): SourceKind | undefined {
  return store.sourceKinds.find((k) => k.kind === kind)
}

/** The names of the source kinds a store reads, for messages. */
export function sourceKindNames(store: OfflineStore): string[] {
  return store.sourceKinds.map((k) => k.kind)
}

/**
 * Checks the offline (batch) source of each view with the offline store's source kinds.
 * Sources of kinds the store does not read are left to the caller (apply refuses them; a
 * loaded registry may name kinds of another deployment's store).
 * @param where what is being checked, for messages (`plan`, `registry data/registry.json`).
 * @throws LarderError INVALID_DEFINITION naming the view, the source and the field.
 */
export function checkViewSources(
  views: readonly StoredViewSpec[],
  store: OfflineStore,
  where: string,
): void {
  const seen = new Set<SourceSpec>()
  for (const view of views) {
    const source = batchSourceOf(view.source)
    if (seen.has(source) || CORE_KINDS.has(source.kind)) continue
    seen.add(source)
    const kind = sourceKindOf(store, source.kind)
    if (!kind) continue
    try {
      validateCommonSourceFields(source)
      kind.validate(source)
    } catch (err) {
      if (!isLarderError(err)) throw err
      throw new LarderError(
        'INVALID_DEFINITION',
        `${where}: feature view '${view.name}': ${err.reason}`,
        { cause: err, ...(err.hint !== undefined ? { hint: err.hint } : {}) },
      )
    }
  }
}
