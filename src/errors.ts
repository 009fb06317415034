// The errors users meet: QdmpError (and its TypeError/RangeError twins) for misuse, thrown or
// rejected at the call that went wrong; ProcessingException for a task that failed, reported by
// processResults(). Codes come from the native core's single list (ErrorCode).

import type { ErrorCode as NativeErrorCode } from '../native/index.js'
import { ErrorCode } from './native'

/** Every `code` a qdmp error can carry, e.g. `'ERR_QDMP_NOT_STARTED'`. */
export type QdmpErrorCode = `${NativeErrorCode}`

/**
 * Every error code as a constant, e.g. `ErrorCode.NotStarted === 'ERR_QDMP_NOT_STARTED'`, for
 * comparisons that the compiler checks.
 */
const codes: typeof ErrorCode = ErrorCode
export { codes as ErrorCode }

const BRAND = Symbol.for('qdmp.error')

/** Extra own properties to put on an error (values the message talks about). */
export type ErrorDetails = Record<string, unknown> & {
  /** The error behind this one, set as the standard `cause`. */
  cause?: unknown
}

function brand(error: Error, code: QdmpErrorCode, details: ErrorDetails | undefined): void {
  Object.defineProperty(error, BRAND, { value: true })
  Object.defineProperty(error, 'code', { value: code, enumerable: true, writable: true, configurable: true })
  if (details === undefined) return
  for (const [key, value] of Object.entries(details)) {
    if (key !== 'cause') Object.defineProperty(error, key, { value, enumerable: true, writable: true, configurable: true })
  }
}

function isBranded(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
}

/**
 * A qdmp error: the misuse of an API (thrown or rejected by the call), or a condition qdmp
 * detected while running a task (the `exception` of a {@link ProcessingException}).
 *
 * `instanceof QdmpError` is also true for {@link QdmpTypeError} and {@link QdmpRangeError}, which
 * qdmp raises for arguments and options of the wrong type or range. Match on `code`, never on the
 * message.
 *
 * @example
 * ```ts
 * try { handler.addTasks([1]) } catch (e) {
 *   if (e instanceof QdmpError && e.code === 'ERR_QDMP_NOT_STARTED') await handler.start()
 * }
 * ```
 */
export class QdmpError extends Error {
  /** The condition, e.g. `'ERR_QDMP_NOT_STARTED'`: stable across versions; match on it, not on the message. */
  declare readonly code: QdmpErrorCode

  constructor(code: QdmpErrorCode, message: string, details?: ErrorDetails) {
    super(message, details && 'cause' in details ? { cause: details.cause } : undefined)
    this.name = new.target.name
    brand(this, code, details)
  }

  /** True for qdmp's errors of every class (also across module copies), false for others. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // QdmpError itself recognises its TypeError/RangeError twins; subclasses keep plain instanceof.
    if (this === QdmpError) return isBranded(value)
    return Function.prototype[Symbol.hasInstance].call(this, value)
  }
}

/** A {@link QdmpError} for an argument or option of the wrong type. Also a `TypeError`. */
export class QdmpTypeError extends TypeError {
  /** The condition, e.g. `'ERR_QDMP_NOT_STARTED'`: stable across versions; match on it, not on the message. */
  declare readonly code: QdmpErrorCode

  constructor(code: QdmpErrorCode, message: string, details?: ErrorDetails) {
    super(message, details && 'cause' in details ? { cause: details.cause } : undefined)
    this.name = 'QdmpTypeError'
    brand(this, code, details)
  }
}

/** A {@link QdmpError} for an argument or option out of range. Also a `RangeError`. */
export class QdmpRangeError extends RangeError {
  /** The condition, e.g. `'ERR_QDMP_NOT_STARTED'`: stable across versions; match on it, not on the message. */
  declare readonly code: QdmpErrorCode

  constructor(code: QdmpErrorCode, message: string, details?: ErrorDetails) {
    super(message, details && 'cause' in details ? { cause: details.cause } : undefined)
    this.name = 'QdmpRangeError'
    brand(this, code, details)
  }
}

/** Re-raises an error thrown by the native core (whose `code` is an `ERR_QDMP_*` string) as a QdmpError. */
export function fromNative(error: unknown): Error {
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
    const code = (error as unknown as { code: string }).code
    if (code.startsWith('ERR_QDMP_')) {
      const wrapped = code === ErrorCode.InvalidWorkerCount ? QdmpRangeError : QdmpError
      return new wrapped(code as QdmpErrorCode, error.message)
    }
  }
  return error instanceof Error ? error : new Error(String(error))
}

/**
 * The worker running a task exited before the task finished: `process.exit()` in the target, an
 * uncaught error in one of its callbacks, running out of memory, or a kill signal.
 */
export class WorkerExitedError extends QdmpError {
  /** The slot of the worker that exited, `0..workerCount-1`. */
  declare readonly workerId: number
  /** Its exit code, when it exited by itself. */
  declare readonly exitCode: number | null
  /** The signal that killed it (child processes), e.g. `'SIGKILL'`. */
  declare readonly signal: string | null

  constructor(workerId: number, exitCode: number | null, signal: string | null, cause?: unknown) {
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${exitCode}`
    super(
      ErrorCode.WorkerExited,
      `worker ${workerId} ${how} while running this task; the task did not finish. ` +
        `Return [true, args, null] from handleError to run it again on a fresh worker.`,
      { workerId, exitCode, signal, ...(cause === undefined ? {} : { cause }) },
    )
  }
}

/**
 * The task ran longer than `taskTimeout` (or than the limit given to `restartTimedOutChildren`),
 * counted from the moment a worker picked it up. Its worker was terminated and replaced.
 */
export class TaskTimeoutError extends QdmpError {
  /** The slot of the worker that ran it. */
  declare readonly workerId: number
  /** The limit it exceeded, in milliseconds. */
  declare readonly timeoutMs: number

  constructor(workerId: number, timeoutMs: number) {
    super(
      ErrorCode.TaskTimeout,
      `the task ran longer than ${timeoutMs} ms on worker ${workerId}; the worker was stopped and replaced. ` +
        `Return [true, args, null] from handleError to run it again, or raise options.taskTimeout.`,
      { workerId, timeoutMs },
    )
  }
}

/** The target threw a value that is not an `Error`; the value is kept on `value`. */
export class ThrownValueError extends QdmpError {
  /** What was thrown (a structured clone of it, or its string form when it could not be cloned). */
  declare readonly value: unknown

  constructor(value: unknown, description: string) {
    super(ErrorCode.ThrownValue, `the target threw a non-Error value: ${description}`, { value })
    // A non-Error carries no stack; one pointing into qdmp's own code would only mislead.
    this.stack = `${this.name}: ${this.message}\n    (no stack trace: the thrown value was not an Error)`
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  return String(error)
}

/** Options of a {@link ProcessingException} beyond the Python library's three fields. */
export interface ProcessingExceptionOptions {
  /** The condition this report is about; defaults to `ERR_QDMP_TASK_FAILED` (the target threw). */
  code?: QdmpErrorCode
  /** What caused the report; defaults to `exception`. */
  cause?: unknown
}

/**
 * A task that failed for good, as `processResults()` reports it: the error, the stack trace
 * where it was thrown (in the worker), and the task's arguments.
 *
 * `code` says what kind of failure it is: `ERR_QDMP_TASK_FAILED` (the target threw or rejected),
 * `ERR_QDMP_WORKER_EXITED`, `ERR_QDMP_DATA_CLONE` (a result that cannot be cloned),
 * `ERR_QDMP_HOOK_FAILED` (a hook threw or returned the wrong shape; `cause` says how),
 * `ERR_QDMP_RETRY_REJECTED`, `ERR_QDMP_RETRY_LIMIT`.
 */
export class ProcessingException<A = unknown> extends Error {
  /** The error the task failed with, as thrown in the worker (class name, message, stack, own properties). */
  readonly exception: unknown
  /** The stack trace of `exception`, from the worker. */
  readonly traceback: string
  /** The arguments of the failed attempt. */
  readonly args: A
  /** What kind of failure this is. */
  /** What kind of failure this is (see the class description). */
  readonly code: QdmpErrorCode

  constructor(exception: unknown, traceback?: string | null, args?: A, options: ProcessingExceptionOptions = {}) {
    super(`task failed: ${describe(exception)}`, { cause: 'cause' in options ? options.cause : exception })
    this.name = new.target.name
    this.exception = exception
    this.traceback = traceback ?? (exception instanceof Error ? (exception.stack ?? '') : '')
    this.args = args as A
    this.code = options.code ?? ErrorCode.TaskFailed
  }
}

/**
 * The Python library's error record for its custom pool, kept for its users: note the argument
 * order `(args, exception)`. Any {@link ProcessingException} may be returned from `handleError`.
 */
export class PoolFutureException<A = unknown> extends ProcessingException<A> {
  constructor(args: A, exception?: unknown, options?: ProcessingExceptionOptions) {
    super(exception, undefined, args, options)
  }
}
