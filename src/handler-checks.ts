// Validation of the calls to a handler: the arguments of start(), processResults() and stop(),
// with errors that name the bad value, and whether the handler's phase lets tasks be added.

import { availableParallelism } from 'node:os'

import { describeValue } from './describe'
import { ErrorCode, fromNative, QdmpError, QdmpRangeError, QdmpTypeError } from './errors'
import type { ProcessResultsOptions, StopOptions } from './handler-types'
import { NativePool } from './native'
import { checkSignal } from './single'

/** Where a handler is in its life: started once `running`, startable again once `stopped`. */
export type Phase = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped'

/**
 * Throws, saying what to do, unless a handler in `phase` can take tasks from `operation`:
 * `broken` is set when none of its workers can start.
 */
export function checkCanAddTasks(operation: string, phase: Phase, broken: QdmpError | null): void {
  if (phase === 'running') {
    if (broken !== null) {
      throw new QdmpError(broken.code, `${operation} cannot run tasks: no worker can start (${broken.message}); stop the handler, fix the cause and start it again`, {
        cause: broken,
      })
    }
    return
  }
  if (phase === 'idle' || phase === 'starting') {
    const hint = phase === 'starting' ? 'await the start() call before' : 'call `await handler.start()` before'
    throw new QdmpError(ErrorCode.NotStarted, `${operation} needs a started handler; ${hint} adding tasks`)
  }
  throw new QdmpError(ErrorCode.Stopped, `${operation} cannot add tasks: the handler is ${phase}; call \`await handler.start()\` to use it again`)
}

/** The worker count `start(workers)` asked for, checked; every core when omitted. */
export function checkWorkerCount(workers: unknown): number {
  if (workers === undefined) return availableParallelism()
  if (typeof workers !== 'number') {
    throw new QdmpTypeError(
      ErrorCode.InvalidWorkerCount,
      `worker count must be a number, got ${describeValue(workers)}; pass a positive integer or omit it to use every core`,
    )
  }
  if (!Number.isInteger(workers)) {
    throw new QdmpRangeError(
      ErrorCode.InvalidWorkerCount,
      `worker count must be a whole number, got ${workers}; pass a positive integer or omit it to use every core`,
    )
  }
  try {
    return NativePool.checkWorkerCount(workers)
  } catch (error) {
    throw fromNative(error)
  }
}

/** A stop() options error, or null when they are valid. */
export function checkStopOptions(options: unknown): Error | null {
  try {
    checkSignal(options, 'stop()')
  } catch (error) {
    return error as Error
  }
  const { force, timeout } = options as StopOptions
  if (force !== undefined && typeof force !== 'boolean') {
    return new QdmpTypeError(ErrorCode.InvalidArgument, `stop(options): options.force must be a boolean, got ${describeValue(force)}`)
  }
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 0 && Number.isFinite(timeout))) {
    return new QdmpRangeError(ErrorCode.InvalidArgument, `stop(options): options.timeout must be a number of milliseconds >= 0, got ${describeValue(timeout)}`)
  }
  return null
}

/** Throws unless `processResults(count, options)` got a positive integer (or nothing) and a valid `wait`. */
export function checkProcessResultsArgs(count: unknown, options: ProcessResultsOptions): void {
  if (count !== undefined && !(typeof count === 'number' && count >= 1 && (Number.isInteger(count) || count === Number.POSITIVE_INFINITY))) {
    const Err = typeof count === 'number' ? QdmpRangeError : QdmpTypeError
    throw new Err(ErrorCode.InvalidArgument, `processResults(count): count must be a positive integer or omitted, got ${describeValue(count)}`)
  }
  if (typeof options !== 'object' || options === null || (options.wait !== undefined && typeof options.wait !== 'boolean')) {
    throw new QdmpTypeError(ErrorCode.InvalidArgument, `processResults(count, options): options.wait must be a boolean, got ${describeValue(options?.wait)}`)
  }
}
