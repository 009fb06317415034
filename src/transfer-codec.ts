// Values whose buffers are moved, not copied (`transfer`): each moved buffer is written as a
// reference to its place in a list of pins, which the caller assigns to the buffers it then moves
// (to a worker's shared memory, or across a result port); the rest of the value is copied as the
// plain encoding (codec.ts) copies it. Decoding takes the moved buffers back by those pins.

import { inspect } from 'node:util'
import * as v8 from 'node:v8'

import { makeView, viewType } from './view-types'

/** A value whose buffers were moved, not copied: `[8][u32 n][u32 pin × n][serialized]`. */
export const TRANSFER = 8
/**
 * A value that is itself one moved buffer or a view of one, the usual case (`run(floats, {
 * transfer: [floats.buffer] })`), written without the V8 serializer:
 * `[9][u32 1][u32 pin][u8 view type, or 255 for the ArrayBuffer][u32 byteOffset][u32 byteLength]`.
 * It shares TRANSFER's prefix, so `transferPins` reads both.
 */
export const MOVED = 9
const BARE_BUFFER = 255
/** How TransferSerializer writes a view: its bytes inline, or a reference to a moved buffer. */
const INLINE_VIEW = 1
const MOVED_VIEW = 2

/**
 * Writes views over moved buffers as references to them (by position in `moved`), others inline.
 * Every view is a host object here, as in Node's default serializer: left to V8, a view that is
 * not moved would carry its whole ArrayBuffer (for a small Buffer, Node's shared 8 KiB pool, with
 * whatever else is in it), a Buffer would come back a Uint8Array, and a view of shared memory
 * would be refused.
 */
class TransferSerializer extends v8.Serializer {
  readonly #moved: Map<ArrayBufferLike, number>

  constructor(moved: Map<ArrayBufferLike, number>) {
    super()
    this.#moved = moved
    // Documented (node:v8) but missing from @types/node.
    ;(this as unknown as { _setTreatArrayBufferViewsAsHostObjects(flag: boolean): void })._setTreatArrayBufferViewsAsHostObjects(true)
    for (const [buffer, index] of moved) if (buffer instanceof ArrayBuffer) this.transferArrayBuffer(index, buffer)
  }

  _writeHostObject(view: ArrayBufferView): void {
    // Other host objects (a net.BlockList, say) come here too, and are refused as Node's
    // serializer refuses them.
    const type = ArrayBuffer.isView(view) ? viewType(view) : -1
    if (type < 0) throw new TypeError(`Unserializable host object: ${inspect(view, { depth: 1, breakLength: Infinity }).slice(0, 200)}`)
    const index = this.#moved.get(view.buffer)
    this.writeUint32(index === undefined ? INLINE_VIEW : MOVED_VIEW)
    this.writeUint32(type)
    if (index === undefined) {
      this.writeUint32(view.byteLength)
      this.writeRawBytes(new Uint8Array(view.buffer, view.byteOffset, view.byteLength))
    } else {
      this.writeUint32(index)
      this.writeUint32(view.byteOffset)
      this.writeUint32(view.byteLength)
    }
  }
}


/** Reads what TransferSerializer wrote, with the moved buffers in hand. */
class TransferDeserializer extends v8.Deserializer {
  readonly #buffers: ArrayBuffer[]

  constructor(bytes: Buffer, buffers: ArrayBuffer[]) {
    super(bytes)
    this.#buffers = buffers
    buffers.forEach((buffer, index) => this.transferArrayBuffer(index, buffer))
  }

  _readHostObject(): ArrayBufferView {
    const kind = this.readUint32()
    const type = this.readUint32()
    if (kind === MOVED_VIEW) {
      const buffer = this.#buffers[this.readUint32()]!
      const byteOffset = this.readUint32()
      return makeView(type, buffer, byteOffset, this.readUint32())
    }
    const byteLength = this.readUint32()
    const own = new ArrayBuffer(byteLength)
    new Uint8Array(own).set(this.readRawBytes(byteLength) as Buffer)
    return makeView(type, own, 0, byteLength)
  }
}

/** Finds the buffer of a pin (in the worker: the mapped attachments; in the producer: its pins). */
export type PinResolver = (pins: number[]) => ArrayBuffer[]

/**
 * Encodes `value`, whose `transfer` buffers (or views' buffers) are to be moved rather than copied:
 * they are written as references to positions in the list of `pins`, which the caller assigns to
 * the buffers it then moves and pins. Throws (having moved nothing) when the value cannot be cloned.
 */
export function encodeTransfer(value: unknown, transfer: readonly ArrayBufferLike[], pins: readonly number[]): Buffer {
  if (transfer.length === 1) {
    const sole = encodeSoleMoved(value, transfer[0]!, pins[0]!)
    if (sole !== null) return sole
  }
  const moved = new Map<ArrayBufferLike, number>(transfer.map((buffer, index) => [buffer, index]))
  const serializer = new TransferSerializer(moved)
  serializer.writeHeader()
  serializer.writeValue(value)
  const body = serializer.releaseBuffer()
  const out = Buffer.allocUnsafe(5 + 4 * pins.length + body.length)
  out[0] = TRANSFER
  out.writeUInt32LE(pins.length, 1)
  pins.forEach((pin, i) => out.writeUInt32LE(pin, 5 + 4 * i))
  body.copy(out, 5 + 4 * pins.length)
  return out
}

function encodeSoleMoved(value: unknown, buffer: ArrayBufferLike, pin: number): Buffer | null {
  let type: number
  let byteOffset = 0
  if (value === buffer) type = BARE_BUFFER
  else if (ArrayBuffer.isView(value) && value.buffer === buffer) {
    type = viewType(value)
    byteOffset = value.byteOffset
  } else return null
  if (type < 0) return null // the serializer's path, which refuses it
  const out = Buffer.allocUnsafe(18)
  out[0] = MOVED
  out.writeUInt32LE(1, 1)
  out.writeUInt32LE(pin, 5)
  out[9] = type
  out.writeUInt32LE(byteOffset, 10)
  out.writeUInt32LE((value as ArrayBufferView | ArrayBuffer).byteLength, 14)
  return out
}

function decodeSoleMoved(view: Buffer, start: number, buffer: ArrayBuffer): unknown {
  const type = view[start + 9]!
  if (type === BARE_BUFFER) return buffer
  return makeView(type, buffer, view.readUInt32LE(start + 10), view.readUInt32LE(start + 14))
}

/** The pins a transfer-encoded value refers to, in order (empty for other encodings). */
function transferPins(buf: Uint8Array, start = 0): number[] {
  const view = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  if (view[start] !== TRANSFER && view[start] !== MOVED) return []
  const count = view.readUInt32LE(start + 1)
  return Array.from({ length: count }, (_, i) => view.readUInt32LE(start + 5 + 4 * i))
}

/**
 * Decodes a value that encodeTransfer wrote at `view[start..end]`, its moved buffers found by
 * `resolve`.
 */
export function decodeMoved(view: Buffer, start: number, end: number, resolve: PinResolver | undefined): unknown {
  if (resolve === undefined) throw new Error('internal: a moved value without its buffers')
  const pins = transferPins(view, start)
  const buffers = resolve(pins)
  if (view[start] === MOVED) return decodeSoleMoved(view, start, buffers[0]!)
  const der = new TransferDeserializer(view.subarray(start + 5 + 4 * pins.length, end), buffers)
  der.readHeader()
  return der.readValue()
}
