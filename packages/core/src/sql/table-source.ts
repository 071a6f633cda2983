/**
 * What the sources of warehouse backends share: a spec built from definition options, and the
 * "a table or a query" rule with optional qualifying names (schema, database, dataset).
 */
import { LarderError } from '../errors.js'
import type { SourceSpec } from '../spec.js'

/**
 * Builds a source spec from a definition's options: `kind`, `name`, `timestampField`, then
 * each of `optionalKeys` that is set, deep-copied (the spec is data the registry stores).
 * @throws LarderError INVALID_DEFINITION when `options` is not an object.
 * @example
 * const spec = sourceSpecFrom<RedshiftSourceSpec>('redshift', options, ['table', 'query'])
 */
export function sourceSpecFrom<S extends SourceSpec>(
  kind: string,
  options: object,
  optionalKeys: readonly string[],
): S {
  if (!options || typeof options !== 'object') {
    throw new LarderError('INVALID_DEFINITION', `${kind}Source() needs an options object`, {
      component: kind,
    })
  }
  const o = options as Record<string, unknown>
  const spec: Record<string, unknown> = { kind, name: o.name, timestampField: o.timestampField }
  for (const key of optionalKeys) {
    const value = o[key]
    if (value !== undefined) spec[key] = structuredClone(value)
  }
  return spec as S
}

/**
 * Checks the table-or-query rule of a warehouse source: exactly one of `table` and `query`;
 * each of `nameKeys` (schema, database...) a non-empty name, and only beside `table`.
 * @throws LarderError INVALID_DEFINITION naming the source and the field.
 */
export function checkTableOrQuery(
  spec: SourceSpec & { table?: unknown; query?: unknown },
  options: { component: string; example: string; nameKeys?: readonly string[] },
): void {
  const invalid = (reason: string, hint?: string) =>
    new LarderError('INVALID_DEFINITION', reason, {
      component: options.component,
      ...(hint ? { hint } : {}),
    })
  if (!spec || typeof spec !== 'object') {
    throw invalid(`${options.component}Source() needs an options object`)
  }
  const where = `${options.component} source '${String(spec.name)}'`
  const hasTable = typeof spec.table === 'string' && spec.table !== ''
  const hasQuery = typeof spec.query === 'string' && spec.query.trim() !== ''
  if (hasTable === hasQuery) {
    throw invalid(`${where} needs exactly one of 'table' and 'query'`, options.example)
  }
  const s = spec as unknown as Record<string, unknown>
  for (const key of options.nameKeys ?? []) {
    const value = s[key]
    if (value === undefined) continue
    if (typeof value !== 'string' || value === '') {
      throw invalid(`${where}: '${key}' must be a non-empty name`)
    }
    if (hasQuery) throw invalid(`${where}: '${key}' goes with 'table', not 'query'`)
  }
}
