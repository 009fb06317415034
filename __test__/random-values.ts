// Seeded random values of every kind a structured clone carries, for the specs that check that the
// codec and both kinds of worker agree with V8's own serializer on values nobody wrote by hand. No
// test lives here. A failing seed reproduces: the generator is deterministic.
import * as v8 from 'node:v8'

/** A deterministic generator of floats in [0, 1) (xorshift32). */
export function randomSource(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 2 ** 32
  }
}

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
] as const

/** Code units from each range the string encodings treat differently. */
const CODE_UNITS = [
  [0x20, 0x7f], // ASCII
  [0x00, 0x20], // control characters, NUL included
  [0x80, 0x100], // Latin-1
  [0x100, 0xd800], // the rest of the BMP below the surrogates (CJK among them)
  [0xd800, 0xdc00], // high surrogates: paired below, or lone
  [0xdc00, 0xe000], // low surrogates
  [0xe000, 0x10000],
] as const

export class RandomValues {
  readonly #next: () => number

  constructor(seed: number) {
    this.#next = randomSource(seed)
  }

  int(below: number): number {
    return Math.floor(this.#next() * below)
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!
  }

  /** A string: all ASCII (the UTF-8 encoding), ASCII and Latin-1, or any mix of code units. */
  string(): string {
    const length = this.pick([0, 1, 2, 7, 64, 1000, 20_000])
    const ranges = this.pick([CODE_UNITS.slice(0, 1), CODE_UNITS.slice(0, 3), CODE_UNITS])
    const units = new Uint16Array(length)
    for (let i = 0; i < length; i++) {
      const [low, high] = this.pick(ranges)
      units[i] = low + this.int(high - low)
    }
    let text = ''
    for (let i = 0; i < length; i += 1024) text += String.fromCharCode(...units.subarray(i, i + 1024))
    // A high surrogate at the end has no pair: the case UTF-8 cannot carry.
    return this.int(8) === 0 ? text + String.fromCharCode(0xd800 + this.int(0x400)) : text
  }

  number(): number {
    return this.pick([
      () => this.int(2 ** 31) - 2 ** 30,
      () => -2147483648,
      () => 2147483647,
      () => 2147483648,
      () => -0,
      () => Number.NaN,
      () => Number.POSITIVE_INFINITY,
      () => Number.MIN_VALUE,
      () => (this.#next() - 0.5) * 1e300,
      () => this.#next(),
    ])()
  }

  /** A typed array, Buffer or DataView, sometimes a window into a larger or shared buffer. */
  view(): ArrayBufferView {
    const kind = this.int(VIEW_TYPES.length + 2)
    const Typed = VIEW_TYPES[kind]
    const size = Typed?.BYTES_PER_ELEMENT ?? 1
    const count = this.pick([0, 1, 3, 100, 5000])
    const before = this.int(3) * size
    const Backing = this.int(8) === 0 ? SharedArrayBuffer : ArrayBuffer
    const backing = new Backing(before + count * size + this.int(3) * size)
    const bytes = new Uint8Array(backing)
    for (let i = 0; i < bytes.length; i++) bytes[i] = this.int(256)
    if (Typed !== undefined) return new Typed(backing as ArrayBuffer, before, count)
    if (kind === VIEW_TYPES.length) return new DataView(backing, before, count)
    return Buffer.from(backing as ArrayBuffer, before, count)
  }

  /** Any value a structured clone carries, nested up to `depth` containers deep. */
  value(depth = 3): unknown {
    const leaves = [
      () => undefined,
      () => null,
      () => this.int(2) === 0,
      () => this.number(),
      () => this.string(),
      () => BigInt(this.int(2 ** 31)) ** BigInt(this.int(4)) * (this.int(2) ? -1n : 1n),
      () => new Date(this.int(2 ** 31) * 1000),
      () => new RegExp(this.pick(['a+b', '^x$', '[é]']), this.pick(['', 'g', 'imsu'])),
      () => this.view(),
      () => new ArrayBuffer(this.int(16)),
    ]
    const containers = [
      () => Array.from({ length: this.int(6) }, () => this.value(depth - 1)),
      () => Object.fromEntries(Array.from({ length: this.int(6) }, () => [this.string().slice(0, 8), this.value(depth - 1)])),
      () => new Map(Array.from({ length: this.int(4) }, () => [this.value(0), this.value(depth - 1)])),
      () => new Set(Array.from({ length: this.int(4) }, () => this.value(0))),
    ]
    if (depth <= 0 || this.int(3) > 0) return this.pick(leaves)()
    return this.pick(containers)()
  }
}

/**
 * What a structured clone of `value` is, as bytes: V8's serialization of V8's clone of it. Two
 * values with the same bytes have the same types, prototypes (a Buffer is not a Uint8Array here),
 * key order, code units, number bits (-0 included) and view contents. The clone, not `value`
 * itself: V8 reads arrays back with room for holes, and writes such arrays in another form.
 */
export function cloneBytes(value: unknown): Buffer {
  return v8.serialize(v8.deserialize(v8.serialize(value)))
}

/** Every object inside `value`, itself included, found by walking it. */
function objectsIn(value: unknown, found = new Set<object>()): Set<object> {
  if (typeof value !== 'object' || value === null || found.has(value)) return found
  found.add(value)
  if (value instanceof Map) for (const [k, v] of value) objectsIn(k, found), objectsIn(v, found)
  else if (value instanceof Set) for (const v of value) objectsIn(v, found)
  else if (!ArrayBuffer.isView(value) && !(value instanceof Date) && !(value instanceof RegExp)) for (const v of Object.values(value)) objectsIn(v, found)
  return found
}

/** Every typed array, Buffer or DataView inside `value`. */
export function viewsIn(value: unknown): ArrayBufferView[] {
  return [...objectsIn(value)].filter((o): o is ArrayBufferView => ArrayBuffer.isView(o))
}

/** Every ArrayBuffer inside `value` that could be moved: its own, or under one of its views. */
export function movableBuffersIn(value: unknown): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>()
  for (const o of objectsIn(value)) {
    const buffer = ArrayBuffer.isView(o) ? o.buffer : o
    if (buffer instanceof ArrayBuffer) buffers.add(buffer)
  }
  return [...buffers]
}
