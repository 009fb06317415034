// The lists of buffers to move rather than copy, as `run({ transfer })` and `move()` take them:
// ArrayBuffers or views of them, each buffer once.

import { describeValue } from './describe'
import { ErrorCode, QdmpTypeError } from './errors'

/** The distinct ArrayBuffers of `items`; throws a `QdmpTypeError` naming `what` for anything else. */
export function bufferList(items: unknown, what: string): ArrayBuffer[] {
  if (!Array.isArray(items)) {
    throw new QdmpTypeError(ErrorCode.InvalidArgument, `${what} must be an array of ArrayBuffers or views, got ${describeValue(items)}`)
  }
  const buffers = new Set<ArrayBuffer>()
  for (const item of items) {
    const buffer = ArrayBuffer.isView(item) ? item.buffer : item
    if (!(buffer instanceof ArrayBuffer)) {
      throw new QdmpTypeError(
        ErrorCode.InvalidArgument,
        `${what} holds ${describeValue(item)}; only ArrayBuffers and views of them can be moved (a SharedArrayBuffer is already shared)`,
      )
    }
    buffers.add(buffer)
  }
  return [...buffers]
}
