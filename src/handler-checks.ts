// Validation of the arguments of start(), processResults() and stop(), with errors that name the
// bad value.

import { availableParallelism } from 'node:os'

import { describeValue } from './describe'
import { ErrorCode, fromNative, QdmpRangeError, QdmpTypeError } from './errors'
import type { ProcessResultsOptions, StopOptions } from './handler-types'
import { NativePool } from './native'
import { checkSignal } from './single'

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
