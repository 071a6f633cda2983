/**
 * On-demand feature views applied to retrieved columns: the one home shared by online and
 * historical retrieval. Callers gather the inputs (online: from store reads and request data;
 * historical: from the joined table) as canonical columns; this module hands them to the
 * transform as user values, checks what it returns and converts the outputs back.
 */
import type { Columns } from './definitions.js'
import { LarderError } from './errors.js'
import type { FeatureSpec, OnDemandFeatureViewSpec } from './spec.js'
import type { ValueTypeName } from './types.js'
import { coerceValue, toUserValue } from './values.js'

/** The transforms of a repo's on-demand views, by view name. */
export type OnDemandTransforms = ReadonlyMap<string, (inputs: Columns) => Columns>

/** One input column of an on-demand view, in canonical values. */
export interface OnDemandInput {
  /** Feature or request-data field name, as the transform sees it. */
  name: string
  valueType: ValueTypeName
  values: readonly unknown[]
}

/**
 * The transform of an on-demand view, or NOT_FOUND saying how to load it (transforms are code:
 * they exist only in a process that loaded the repo's definition files).
 */
export function onDemandTransform(
  transforms: OnDemandTransforms,
  spec: OnDemandFeatureViewSpec,
): (inputs: Columns) => Columns {
  const transform = transforms.get(spec.name)
  if (!transform) {
    throw new LarderError(
      'NOT_FOUND',
      `on-demand feature view '${spec.name}' has no transform in this process`,
      {
        hint: 'open the store on the repo (FeatureStore.open / larder -c REPO) so the definition files are loaded',
      },
    )
  }
  return transform
}

/**
 * Runs an on-demand view over `n` rows of input columns and returns the requested outputs in
 * canonical values, by feature name.
 * @throws LarderError NOT_FOUND without a transform; INVALID_INPUT when the transform throws
 *   or returns a value of the wrong type; INVALID_DEFINITION when an output column is missing
 *   or of the wrong length.
 */
export function applyOnDemand(
  transforms: OnDemandTransforms,
  spec: OnDemandFeatureViewSpec,
  inputs: readonly OnDemandInput[],
  outputs: readonly FeatureSpec[],
  n: number,
): Map<string, unknown[]> {
  const transform = onDemandTransform(transforms, spec)
  const columns: Columns = {}
  for (const input of inputs) {
    columns[input.name] = input.values.map((v) => toUserValue(v, input.valueType))
  }
  let result: Columns
  try {
    result = transform(columns)
  } catch (err) {
    throw new LarderError(
      'INVALID_INPUT',
      `on-demand feature view '${spec.name}' failed: ${(err as Error).message}`,
      { cause: err },
    )
  }
  const out = new Map<string, unknown[]>()
  for (const f of outputs) {
    const raw = result[f.name]
    if (!Array.isArray(raw) || raw.length !== n) {
      throw new LarderError(
        'INVALID_DEFINITION',
        `on-demand feature view '${spec.name}' returned ${Array.isArray(raw) ? `${raw.length} values` : 'no column'} for '${f.name}', expected ${n}`,
      )
    }
    out.set(
      f.name,
      raw.map((v, i) =>
        coerceValue(v, f.valueType, `on-demand output '${spec.name}:${f.name}', row ${i}`),
      ),
    )
  }
  return out
}
