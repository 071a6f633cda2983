/**
 * The logger libraries write to. Core never uses `console`; apps pass pino or a pretty
 * printer. Shaped like pino's methods so a pino logger fits as it is.
 */
export interface Logger {
  debug(obj: object | string, msg?: string): void
  info(obj: object | string, msg?: string): void
  warn(obj: object | string, msg?: string): void
  error(obj: object | string, msg?: string): void
}

/** A logger that drops everything (the default). */
export const noopLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
}
