// Where qdmp reports what the caller did not ask about but should know: hooks that misbehaved,
// workers that died. Nothing is written to files.

/** A console-like logger; `console` itself qualifies. */
export interface Logger {
  /** Details of qdmp's work, for debugging it. */
  debug(message: string, ...details: unknown[]): void
  /** Events worth knowing that need no action. */
  info(message: string, ...details: unknown[]): void
  /** Something went wrong and was handled: a hook that misbehaved, a worker that died. */
  warn(message: string, ...details: unknown[]): void
  /** Something went wrong that qdmp could not handle. */
  error(message: string, ...details: unknown[]): void
}

const silent = (): void => {}

/** The default: warnings and errors to stderr, prefixed `qdmp:`; debug and info dropped. */
export const defaultLogger: Logger = {
  debug: silent,
  info: silent,
  warn: (message, ...details) => console.warn(`qdmp: ${message}`, ...details),
  error: (message, ...details) => console.error(`qdmp: ${message}`, ...details),
}

/** A full logger from a partial one: missing levels are dropped, not sent to the default. */
export function completeLogger(logger: Partial<Logger>): Logger {
  const level = (name: keyof Logger): Logger[keyof Logger] =>
    typeof logger[name] === 'function' ? (logger[name] as Logger[keyof Logger]).bind(logger) : silent
  return { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') }
}
