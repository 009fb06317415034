// Values to bytes and back, with structured-clone semantics: what `v8.serialize` accepts survives
// (typed arrays, Map, Set, Date, BigInt, RegExp, Error, nested objects); functions and symbols are
// refused. Primitives, by far the most common task arguments, and lone typed arrays, the usual ML
// result, skip the V8 serializer: a tag byte and the raw value cost tens of nanoseconds where a
// serializer round trip costs microseconds.

import * as v8 from 'node:v8'

import { decodeMoved, MOVED, type PinResolver, TRANSFER } from './transfer-codec'
import { makeView, viewType } from './view-types'

// Tags 8 (TRANSFER) and 9 (MOVED), values with moved buffers, are transfer-codec.ts's.
const UNDEFINED = 0
const NULL = 1
const TRUE = 2
const FALSE = 3
const INT32 = 4
const FLOAT64 = 5
const STRING = 6
const V8 = 7
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

/** Fetches the value a worker posted on its result port, by worker id and sequence number. */
export type PortedFetcher = (workerId: number, sequence: number) => unknown

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
    case TRANSFER:
    case MOVED:
      return decodeMoved(view, start, end, resolve)
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
