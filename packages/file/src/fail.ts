/** The file package's errors: one LarderError family member per failure, component `file`. */
import { LarderError } from '@larder/core'

/** The component name in this package's errors. */
export const COMPONENT = 'file'

/** A LarderError of the file package. */
export function fail(
  code: ConstructorParameters<typeof LarderError>[0],
  reason: string,
  hint?: string,
  cause?: unknown,
): LarderError {
  return new LarderError(code, reason, {
    component: COMPONENT,
    ...(hint ? { hint } : {}),
    ...(cause === undefined ? {} : { cause }),
  })
}

/** The first line of an error's message. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err)
}
