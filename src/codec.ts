// Values to bytes and back, with structured-clone semantics: what `v8.serialize` accepts survives
// (typed arrays, Map, Set, Date, BigInt, RegExp, Error, nested objects); functions and symbols are
// refused. Primitives, by far the most common task arguments, skip the V8 serializer: a tag byte
// and the raw value cost tens of nanoseconds where a serializer round trip costs microseconds.

import * as v8 from 'node:v8'

const UNDEFINED = 0
const NULL = 1
const TRUE = 2
const FALSE = 3
const INT32 = 4
const FLOAT64 = 5
const STRING = 6
const V8 = 7

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
  private endList: number[] = []

  constructor(capacity = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(capacity)
  }

  /** How many values it holds. */
  get count(): number {
    return this.endList.length
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
      case 'string':
        this.reserve(1 + value.length * 3)
        this.buf[this.length] = STRING
        this.length += 1 + this.buf.write(value, this.length + 1, 'utf8')
        break
      default: {
        if (value === null) {
          this.reserve(1)
          this.buf[this.length++] = NULL
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
    this.endList.push(this.length)
  }

  /** The bytes written so far (a view, valid until the next write). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.length)
  }

  /** The end offset of each value, for the native batch calls. */
  ends(): Uint32Array {
    return Uint32Array.from(this.endList)
  }

  /** Empties it, keeping the allocation. */
  reset(): void {
    this.length = 0
    this.endList.length = 0
  }
}

/** Encodes one value (a fresh buffer). Throws when it cannot be cloned. */
export function encode(value: unknown): Buffer {
  const writer = new ByteWriter(64)
  writer.add(value)
  return Buffer.from(writer.bytes())
}

/** Decodes the value at `buf[start..end]`. */
export function decode(buf: Uint8Array, start = 0, end = buf.length): unknown {
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
    case V8: {
      const der = new OwningDeserializer(view.subarray(start + 1, end))
      der.readHeader()
      return der.readValue()
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
