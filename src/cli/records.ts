// How values and failures are written as JSON lines: results as they are (typed arrays become
// arrays, bigints strings, Maps objects, Sets arrays), failures as one record each.

import { ErrorCode, type ProcessingException, TaskTimeoutError } from '../errors'

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<unknown>)
  if (value instanceof Map) return Object.fromEntries(value)
  if (value instanceof Set) return [...value]
  return value
}

/** One JSON line (with its newline) for a value; `undefined` is written as `null`. */
export function jsonLine(value: unknown): string {
  return `${JSON.stringify(value, replacer) ?? 'null'}\n`
}

/** What a failed line's record says about the error. */
function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof TaskTimeoutError) {
    // The library's hint names handleError and options.taskTimeout, which a CLI user never sees.
    const message =
      `the task ran longer than ${error.timeoutMs} ms (--timeout) on worker ${error.workerId}; the worker was stopped ` +
      `and replaced. Raise --timeout, or pass --retries <n> to run it again.`
    return { name: error.name, message, code: error.code }
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return { name: error.name, message: error.message, ...(code !== undefined ? { code } : {}) }
  }
  return { message: String(error) }
}

/**
 * The record of a line whose task failed for good. Its `code` is what went wrong; when the
 * retries of `--retries` ran out, that is the last attempt's failure (a time-out, say), and
 * `retriesExhausted` says so.
 */
export function failureRecord(line: number, reason: ProcessingException): string {
  const last = (reason.exception as { code?: unknown } | null)?.code
  if (reason.code === ErrorCode.RetryLimit && typeof last === 'string') {
    return jsonLine({ line, code: last, retriesExhausted: true, args: reason.args, error: describeError(reason.exception) })
  }
  return jsonLine({ line, code: reason.code, args: reason.args, error: describeError(reason.exception) })
}

/** The record of a line that is not JSON. */
export function badLineRecord(line: number, text: string, error: unknown): string {
  const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text
  return jsonLine({
    line,
    code: ErrorCode.BadInput,
    input: shown,
    error: { name: 'SyntaxError', message: `line ${line} is not JSON: ${(error as Error).message}` },
  })
}
