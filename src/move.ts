// move(): how a task function returns buffers without copying them, as `transfer` moves its
// arguments. The marker is recognised by a registered symbol, so a target that imports its own
// copy of qdmp still marks values the worker understands.

import { bufferList } from './buffer-list'
import { describeValue } from './describe'
import { ErrorCode, QdmpTypeError } from './errors'

const MOVE = Symbol.for('qdmp.move')

/** A result to move back, as `move()` marks it. */
export interface MovedResult {
  /** The mark the worker recognises. */
  readonly [MOVE]: true
  /** The task's result. */
  readonly value: unknown
  /** The buffers in it to move rather than copy. */
  readonly transfer: ArrayBuffer[]
}

/**
 * Marks a task's result to be moved back to the producer instead of copied: return
 * `move(tensor)` from a task function, or `move(value, [buffers])` for buffers inside a larger
 * value. From a worker thread the buffers arrive in the producer without a copy (they are
 * detached in the worker, as with `postMessage`); from a child process they are copied, as every
 * result is. Typed as the value, so a typed task function can return it directly.
 *
 * @example
 * ```js
 * import { move } from 'qdmp'
 * export default function toTensor(bytes) {
 *   const tensor = new Float32Array(3 * 224 * 224)
 *   // ... fill it
 *   return move(tensor)
 * }
 * ```
 */
export function move<T>(value: T, transfer?: readonly (ArrayBuffer | ArrayBufferView)[]): T {
  if (transfer === undefined && !(value instanceof ArrayBuffer || ArrayBuffer.isView(value))) {
    throw new QdmpTypeError(
      ErrorCode.InvalidArgument,
      `move(value, transfer): value is ${describeValue(value)}, not an ArrayBuffer or a view of one; list the buffers to move as the second argument`,
    )
  }
  const marked: MovedResult = { [MOVE]: true, value, transfer: bufferList(transfer ?? [value], 'move(value, transfer): transfer') }
  return marked as unknown as T
}

/** Whether a task returned `move(...)`. */
export function isMovedResult(value: unknown): value is MovedResult {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MOVE] === true
}
