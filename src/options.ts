// The options every handler takes, and the checks that name the option a caller got wrong.

import { describeValue } from './describe'
import { ErrorCode, ProcessingException, QdmpRangeError, QdmpTypeError } from './errors'
import type { Logger } from './logger'

/**
 * What `handleError` returns: `[true, newArgs, null]` runs the task again with `newArgs` (which go
 * through `validateArgs` again), `[false, null, exception]` reports `exception`.
 */
export type ErrorDecision<A = any> = readonly [enqueue: boolean, newArgs: A | null | undefined, exception: ProcessingException | null | undefined]

/** Options shared by every handler. Hooks run in the producer (the thread that created the handler). */
export interface HandlerOptions<A = any, R = any> {
  /** Runs inside `addTasks` for each argument; a falsy return discards it (counted in `stats().discardedArgs`). */
  validateArgs?: (args: A) => boolean
  /** Runs when a result arrives; a falsy return discards it (counted in `stats().discardedResults`). */
  validateResult?: (result: R) => boolean
  /**
   * Runs once for every failed attempt, with the error (class name, message, stack and own
   * properties kept), the attempt's arguments, and the stack trace. Returns an {@link ErrorDecision}.
   * Without it, a failure is reported as `new ProcessingException(error, traceback, args)`.
   */
  handleError?: (error: Error, args: A, traceback: string) => ErrorDecision<A>
  /** How many times `handleError` may re-submit one original task. Default: no limit. */
  maxRetries?: number
  /**
   * How many tasks may wait in the queue (not yet running). `addTasks` past it throws
   * `ERR_QDMP_QUEUE_FULL` (saying how many it accepted); `submit`, `run` and `map` wait for room.
   * Default: no bound.
   */
  maxQueue?: number
  /**
   * How long a task may run, in milliseconds, counted from the moment a worker picks it up. A task
   * past it is stopped by the native core's watchdog (outside any JavaScript event loop, so an
   * endless loop is caught): its worker is terminated and replaced, and the task goes to
   * `handleError` with a `TaskTimeoutError`. Default: no limit.
   */
  taskTimeout?: number
  /** Where warnings go (a console-like object). Default: warnings and errors to stderr. */
  logger?: Partial<Logger>
}

/** Checks one option's value; throws a QdmpTypeError/QdmpRangeError naming it. */
export type OptionCheck = (value: unknown, name: string) => void

export const isFunction: OptionCheck = (value, name) => {
  if (typeof value !== 'function') {
    throw new QdmpTypeError(ErrorCode.InvalidOption, `options.${name} must be a function, got ${describeValue(value)}`, {
      option: name,
    })
  }
}

/** An integer >= 0, or `Infinity` for no limit. */
export const isCount: OptionCheck = (value, name) => {
  if (typeof value !== 'number') {
    throw new QdmpTypeError(ErrorCode.InvalidOption, `options.${name} must be a number, got ${describeValue(value)}`, {
      option: name,
    })
  }
  if (!(value === Number.POSITIVE_INFINITY || (Number.isInteger(value) && value >= 0))) {
    throw new QdmpRangeError(
      ErrorCode.InvalidOption,
      `options.${name} must be an integer >= 0 (or Infinity for no limit), got ${value}`,
      { option: name },
    )
  }
}

/** An integer >= 1, or `Infinity` for no bound. */
export const isPositiveCount: OptionCheck = (value, name) => {
  isCount(value, name)
  if (value === 0) {
    throw new QdmpRangeError(ErrorCode.InvalidOption, `options.${name} must be at least 1 (or Infinity for no bound), got 0`, { option: name })
  }
}

/** A positive number of milliseconds, or `Infinity` for none. */
export const isDuration: OptionCheck = (value, name) => {
  if (typeof value !== 'number') {
    throw new QdmpTypeError(ErrorCode.InvalidOption, `options.${name} must be a number of milliseconds, got ${describeValue(value)}`, {
      option: name,
    })
  }
  if (!(value > 0) || (!Number.isFinite(value) && value !== Number.POSITIVE_INFINITY)) {
    throw new QdmpRangeError(
      ErrorCode.InvalidOption,
      `options.${name} must be a positive number of milliseconds (or Infinity for none), got ${value}`,
      { option: name },
    )
  }
}

/** One of a fixed set of strings. */
export function isOneOf(...allowed: string[]): OptionCheck {
  return (value, name) => {
    if (typeof value !== 'string' || !allowed.includes(value)) {
      throw new QdmpTypeError(
        ErrorCode.InvalidOption,
        `options.${name} must be ${allowed.map((a) => JSON.stringify(a)).join(' or ')}, got ${describeValue(value)}`,
        { option: name },
      )
    }
  }
}

export const isLogger: OptionCheck = (value, name) => {
  if (typeof value !== 'object' || value === null) {
    throw new QdmpTypeError(ErrorCode.InvalidOption, `options.${name} must be a console-like object, got ${describeValue(value)}`, {
      option: name,
    })
  }
  for (const level of ['debug', 'info', 'warn', 'error']) {
    const method = (value as Record<string, unknown>)[level]
    if (method !== undefined && typeof method !== 'function') {
      throw new QdmpTypeError(
        ErrorCode.InvalidOption,
        `options.${name}.${level} must be a function, got ${describeValue(method)}`,
        { option: name },
      )
    }
  }
}

/** The checks of the options every handler accepts. */
export const handlerOptionChecks: Record<string, OptionCheck> = {
  validateArgs: isFunction,
  validateResult: isFunction,
  handleError: isFunction,
  maxRetries: isCount,
  maxQueue: isPositiveCount,
  taskTimeout: isDuration,
  logger: isLogger,
}

/** Edit distance between two short strings (option names), case-insensitive. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  let row = Array.from({ length: y.length + 1 }, (_, j) => j)
  for (let i = 1; i <= x.length; i++) {
    const next = [i]
    for (let j = 1; j <= y.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1))
    }
    row = next
  }
  return row[y.length]!
}

/** The known option a misspelt name most likely meant, if any is close enough. */
function closest(name: string, known: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(3, Math.floor(name.length / 3)) + 1
  for (const k of known) {
    const d = distance(name, k)
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return best
}

/** Checks an options object against `checks`; unknown keys are errors, `undefined` values are skipped. */
export function checkOptions(options: unknown, checks: Record<string, OptionCheck>): void {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new QdmpTypeError(ErrorCode.InvalidOption, `options must be an object, got ${describeValue(options)}`)
  }
  const known = Object.keys(checks)
  for (const [name, value] of Object.entries(options)) {
    const check = checks[name]
    if (check === undefined) {
      const hint = closest(name, known)
      throw new QdmpTypeError(
        ErrorCode.InvalidOption,
        `unknown option ${JSON.stringify(name)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}; ` +
          `known options: ${known.join(', ')}`,
        { option: name },
      )
    }
    if (value !== undefined) check(value, name)
  }
}
