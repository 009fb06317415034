// Values to bytes and back, with structured-clone semantics: what `v8.serialize` accepts survives
// (typed arrays, Map, Set, Date, BigInt, RegExp, Error, nested objects); functions and symbols are
// refused. Primitives, by far the most common task arguments, and lone typed arrays, the usual ML
// result, skip the V8 serializer: a tag byte and the raw value cost tens of nanoseconds where a
// serializer round trip costs microseconds.

import { inspect, types } from 'node:util'
import * as v8 from 'node:v8'

const UNDEFINED = 0
const NULL = 1
const TRUE = 2
const FALSE = 3
const INT32 = 4
const FLOAT64 = 5
const STRING = 6
const V8 = 7
/** A value whose buffers were moved, not copied: `[8][u32 n][u32 pin × n][serialized]`. */
const TRANSFER = 8
/**
 * A value that is itself one moved buffer or a view of one, the usual case (`run(floats, {
 * transfer: [floats.buffer] })`), written without the V8 serializer:
 * `[9][u32 1][u32 pin][u8 view type, or 255 for the ArrayBuffer][u32 byteOffset][u32 byteLength]`.
 * It shares TRANSFER's prefix, so `transferPins` reads both.
 */
const MOVED = 9
/**
 * A result a worker thread moved back (`move()` in the target): the value itself crossed on the
 * worker's result port, buffers transferred; the bytes only say which message it is:
 * `[10][f64 worker id][u32 sequence number]`.
 */
const PORTED = 10
/**
 * A value that is itself a typed array, `Buffer` or `DataView` (copied, not moved), written
 * without the V8 serializer: `[11][u8 view type][the view's bytes]`. Token ids and tensors, what
 * ML preprocessing returns, are this; the serializer would copy them twice more through
 * JavaScript callbacks.
 */
const VIEW = 11
/**
 * A string that is not all ASCII, as UTF-16 code units: `[12][code units, little-endian]`.
 * Decoding UTF-8 that is not all ASCII cost about 37 µs for a 10,000-character chunk of the
 * tokenization corpus; UTF-16 is a copy both ways (about 5 µs). It also keeps lone surrogates,
 * as a structured clone does, where UTF-8 would replace them. The price: such a string is
 * written twice (UTF-8 first, which is how it is found not to be ASCII), and mostly-ASCII text
 * takes up to twice the bytes in the queue and on a child's socket (CJK text takes fewer).
 */
const STRING16 = 12
const BARE_BUFFER = 255

/** Fetches the value a worker posted on its result port, by worker id and sequence number. */
export type PortedFetcher = (workerId: number, sequence: number) => unknown

/**
 * Views a serialized value can hold; the index is what crosses (ours, independent of Node's). Both
 * ends run the same Node, so a type only newer ones have (Float16Array, Node 22+) goes at the end.
 */
const FLOAT16 = (globalThis as { Float16Array?: unknown }).Float16Array
const VIEW_TYPES = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
  Buffer,
  ...(typeof FLOAT16 === 'function' ? [FLOAT16 as typeof Float32Array] : []),
]
const VIEW_NAMES = VIEW_TYPES.map((Ctor) => Ctor.name)
const BUFFER_TYPE = VIEW_TYPES.indexOf(Buffer)
const DATA_VIEW_TYPE = VIEW_TYPES.indexOf(DataView)
const INLINE_VIEW = 1
const MOVED_VIEW = 2

/** The type a typed array was made as, from its internal slot (undefined for anything else). */
const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag)!.get!

/**
 * The index in VIEW_TYPES of the type `view` crosses as: the type it was made as, read from its
 * internal slot, as a structured clone reads it. Not `view.constructor`, which user code can
 * change: a Uint8Array whose prototype was set to Float64Array's would decode as 1/8 of its
 * bytes. So a subclass, a view whose prototype was changed, or one from another realm crosses as
 * its base type; only a Uint8Array whose prototype is exactly Buffer's crosses as a Buffer. -1
 * for a type this list lacks.
 */
function viewType(view: ArrayBufferView): number {
  const name = typedArrayName.call(view) as string | undefined
  if (name === undefined) return types.isDataView(view) ? DATA_VIEW_TYPE : -1
  if (name === 'Uint8Array' && Object.getPrototypeOf(view) === Buffer.prototype) return BUFFER_TYPE
  return VIEW_NAMES.indexOf(name) // -1 for a type newer than this list (Float16Array)
}

/** Whether `value` crosses as a Buffer (not a subclass of one, nor a relabelled Uint8Array). */
export function isExactBuffer(value: unknown): boolean {
  return ArrayBuffer.isView(value) && viewType(value) === BUFFER_TYPE
}

function makeView(type: number, buffer: ArrayBuffer, byteOffset: number, byteLength: number): ArrayBufferView {
  const Ctor = VIEW_TYPES[type]!
  if (Ctor === Buffer) return Buffer.from(buffer, byteOffset, byteLength)
  if (Ctor === DataView) return new DataView(buffer, byteOffset, byteLength)
  const Typed = Ctor as unknown as new (b: ArrayBuffer, o: number, l: number) => ArrayBufferView & { BYTES_PER_ELEMENT: number }
  return new Typed(buffer, byteOffset, byteLength / (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT)
}

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

// Node's deserializer returns typed arrays that view the input buffer. Ours are decoded out of
// batch buffers shared by many values, so each gets its own ArrayBuffer instead, as a structured
// clone would: `view.buffer` then holds exactly the view's bytes and keeps nothing else alive.
class OwningDeserializer extends v8.DefaultDeserializer {
  _readHostObject(): unknown {
    // @ts-expect-error -- _readHostObject is the documented hook of DefaultDeserializer, untyped in @types/node
    const view = super._readHostObject() as ArrayBufferView
    const own = new ArrayBuffer(view.byteLength)
    new Uint8Array(own).set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength))
    if (Buffer.isBuffer(view)) return Buffer.from(own)
    if (view instanceof DataView) return new DataView(own)
    const Ctor = view.constructor as new (buffer: ArrayBuffer) => ArrayBufferView
    return new Ctor(own)
  }
}

function isInt32(value: number): boolean {
  return (value | 0) === value && !Object.is(value, -0)
}

/**
 * A growable buffer of encoded values, each ending at an offset recorded in `ends`. Used for task
 * batches (many values) and for single results (reset between values).
 */
export class ByteWriter {
  buf: Buffer
  length = 0
  /** The end of each value, in the first `count` entries. A typed array kept across resets: a
   * JS array emptied and refilled per batch reallocates as it grows, garbage that outlives scavenges. */
  private endList = new Uint32Array(64)
  private ended = 0

  constructor(capacity = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(capacity)
  }

  /** How many values it holds. */
  get count(): number {
    return this.ended
  }

  private pushEnd(end: number): void {
    if (this.ended === this.endList.length) {
      const grown = new Uint32Array(this.endList.length * 2)
      grown.set(this.endList)
      this.endList = grown
    }
    this.endList[this.ended++] = end
  }

  private reserve(extra: number): void {
    const needed = this.length + extra
    if (needed <= this.buf.length) return
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buf.length * 2))
    this.buf.copy(grown, 0, 0, this.length)
    this.buf = grown
  }

  /** Appends one value. Throws (leaving the writer unchanged) when it cannot be cloned. */
  add(value: unknown): void {
    const start = this.length
    switch (typeof value) {
      case 'undefined':
        this.reserve(1)
        this.buf[this.length++] = UNDEFINED
        break
      case 'boolean':
        this.reserve(1)
        this.buf[this.length++] = value ? TRUE : FALSE
        break
      case 'number':
        this.reserve(9)
        if (isInt32(value)) {
          this.buf[this.length] = INT32
          this.buf.writeInt32LE(value, this.length + 1)
          this.length += 5
        } else {
          this.buf[this.length] = FLOAT64
          this.buf.writeDoubleLE(value, this.length + 1)
          this.length += 9
        }
        break
      case 'string': {
        this.reserve(1 + value.length * 3)
        // UTF-8 first: as many bytes as characters means ASCII, which decodes fastest from it.
        const written = this.buf.write(value, this.length + 1, 'utf8')
        if (written === value.length) {
          this.buf[this.length] = STRING
          this.length += 1 + written
        } else {
          this.buf[this.length] = STRING16
          this.length += 1 + this.buf.write(value, this.length + 1, 'utf16le')
        }
        break
      }
      default: {
        if (value === null) {
          this.reserve(1)
          this.buf[this.length++] = NULL
          break
        }
        // A subclass crosses as its base type, as the serializer would send it. Views of shared
        // memory are copied, by both paths. isView first: it keeps the type lookup (about 35 ns)
        // off every plain object's path.
        const type = ArrayBuffer.isView(value) ? viewType(value) : -1
        if (type >= 0) {
          const view = value as ArrayBufferView
          this.reserve(2 + view.byteLength)
          this.buf[this.length] = VIEW
          this.buf[this.length + 1] = type
          this.buf.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), this.length + 2)
          this.length += 2 + view.byteLength
          break
        }
        const bytes = v8.serialize(value) // throws on functions, symbols, host objects
        this.reserve(1 + bytes.length)
        this.buf[this.length] = V8
        bytes.copy(this.buf, this.length + 1)
        this.length += 1 + bytes.length
      }
    }
    if (this.length === start) throw new Error('internal: value encoded to no bytes')
    this.pushEnd(this.length)
  }

  /** Appends a reference to a value that crossed on a worker's result port. */
  addPorted(workerId: number, sequence: number): void {
    this.reserve(13)
    this.buf[this.length] = PORTED
    this.buf.writeDoubleLE(workerId, this.length + 1)
    this.buf.writeUInt32LE(sequence, this.length + 9)
    this.length += 13
    this.pushEnd(this.length)
  }

  /** The bytes written so far (a view, valid until the next write). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.length)
  }

  /** The end offset of each value, for the native batch calls (a view, valid until the next write). */
  ends(): Uint32Array {
    return this.endList.subarray(0, this.ended)
  }

  /** Empties it, keeping the allocation. */
  reset(): void {
    this.length = 0
    this.ended = 0
  }
}

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
export function transferPins(buf: Uint8Array, start = 0): number[] {
  const view = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  if (view[start] !== TRANSFER && view[start] !== MOVED) return []
  const count = view.readUInt32LE(start + 1)
  return Array.from({ length: count }, (_, i) => view.readUInt32LE(start + 5 + 4 * i))
}

/** Finds the buffer of a pin (in the worker: the mapped attachments; in the producer: its pins). */
export type PinResolver = (pins: number[]) => ArrayBuffer[]

/** Encodes one value (a fresh buffer). Throws when it cannot be cloned. */
export function encode(value: unknown): Buffer {
  const writer = new ByteWriter(64)
  writer.add(value)
  return Buffer.from(writer.bytes())
}

/**
 * Decodes the value at `buf[start..end]`; moved buffers come from `resolve`, values moved back by
 * worker threads from `fetchPorted`.
 */
export function decode(buf: Uint8Array, start = 0, end = buf.length, resolve?: PinResolver, fetchPorted?: PortedFetcher): unknown {
  const view = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  switch (view[start]) {
    case UNDEFINED:
      return undefined
    case NULL:
      return null
    case TRUE:
      return true
    case FALSE:
      return false
    case INT32:
      return view.readInt32LE(start + 1)
    case FLOAT64:
      return view.readDoubleLE(start + 1)
    case STRING:
      return view.toString('utf8', start + 1, end)
    case STRING16:
      return view.toString('utf16le', start + 1, end)
    case V8: {
      const der = new OwningDeserializer(view.subarray(start + 1, end))
      der.readHeader()
      return der.readValue()
    }
    case VIEW: {
      // Its own ArrayBuffer, holding exactly the view's bytes, as OwningDeserializer gives; not
      // zero-filled first, since every byte is then written.
      const own = Buffer.allocUnsafeSlow(end - start - 2)
      view.copy(own, 0, start + 2, end)
      return makeView(view[start + 1]!, own.buffer as ArrayBuffer, 0, own.length)
    }
    case TRANSFER: {
      if (resolve === undefined) throw new Error('internal: a moved value without its buffers')
      const pins = transferPins(view, start)
      const der = new TransferDeserializer(view.subarray(start + 5 + 4 * pins.length, end), resolve(pins))
      der.readHeader()
      return der.readValue()
    }
    case MOVED: {
      if (resolve === undefined) throw new Error('internal: a moved value without its buffers')
      return decodeSoleMoved(view, start, resolve(transferPins(view, start))[0]!)
    }
    case PORTED: {
      if (fetchPorted === undefined) throw new Error('internal: a value moved back with no result port to take it from')
      return fetchPorted(view.readDoubleLE(start + 1), view.readUInt32LE(start + 9))
    }
    default:
      throw new Error(`internal: unknown value tag ${view[start]} at offset ${start}`)
  }
}

/** Decodes every value of a batch laid out as `data` + end offsets starting at `from`. */
export function* decodeEach(data: Uint8Array, ends: Uint32Array): Generator<unknown> {
  let start = 0
  for (const end of ends) {
    yield decode(data, start, end)
    start = end
  }
}
