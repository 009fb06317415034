// The buffers to move rather than copy: the lists `run({ transfer })` and `move()` take
// (ArrayBuffers or views of them, each buffer once), and how one is moved.

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

/**
 * Moves `buffer`'s memory into a new ArrayBuffer, detaching `buffer`, as `postMessage` would. A
 * buffer that cannot be detached (Node's pool under small Buffers, WebAssembly memory) is copied
 * whole instead, and `detached` is false: Node 20 clones such a buffer (which is also the only way
 * to tell one there), Node 21+ refuses it. `transfer()` (Node 22+) is cheaper than a clone.
 */
export function detach(buffer: ArrayBuffer): { buffer: ArrayBuffer; detached: boolean } {
  const transfer = (buffer as ArrayBuffer & { transfer?: () => ArrayBuffer }).transfer
  try {
    const moved = typeof transfer === 'function' ? transfer.call(buffer) : structuredClone(buffer, { transfer: [buffer] })
    return { buffer: moved, detached: buffer.byteLength === 0 }
  } catch {
    return { buffer: buffer.slice(0), detached: false }
  }
}
