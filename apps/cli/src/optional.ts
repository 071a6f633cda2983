/**
 * Packages the CLI loads only for the commands that need them (the feature server, the file
 * writer). They come from the user's project, so a missing one is one line naming it.
 */
import { LarderError } from '@larder/core'

/**
 * Runs `load` (a dynamic `import()` of `pkg`) and turns "package not installed" into a
 * one-line error that says which package to install.
 * @example
 * const { startFeatureServer } = await importOptional(() => import('@larder/server'),
 *   '@larder/server', 'larder serve')
 */
export async function importOptional<T>(
  load: () => Promise<T>,
  pkg: string,
  purpose: string,
): Promise<T> {
  try {
    return await load()
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (e?.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(`'${pkg}'`)) {
      throw new LarderError('INVALID_CONFIG', `${purpose} needs ${pkg}, which is not installed`, {
        component: 'cli',
        cause: err,
        hint: `run \`npm install ${pkg}\` in your project`,
      })
    }
    throw err
  }
}
