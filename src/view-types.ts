// The kinds of ArrayBuffer view a value can carry across, numbered as the encodings write them,
// and how a view's kind is read and rebuilt: what the plain and the moved-buffer encodings share.

import { types } from 'node:util'

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
export function viewType(view: ArrayBufferView): number {
  const name = typedArrayName.call(view) as string | undefined
  if (name === undefined) return types.isDataView(view) ? DATA_VIEW_TYPE : -1
  if (name === 'Uint8Array' && Object.getPrototypeOf(view) === Buffer.prototype) return BUFFER_TYPE
  return VIEW_NAMES.indexOf(name) // -1 for a type newer than this list (Float16Array)
}

/** Whether `value` crosses as a Buffer (not a subclass of one, nor a relabelled Uint8Array). */
export function isExactBuffer(value: unknown): boolean {
  return ArrayBuffer.isView(value) && viewType(value) === BUFFER_TYPE
}

/** A view of kind `type` (an index from viewType) over `byteLength` bytes of `buffer`. */
export function makeView(type: number, buffer: ArrayBuffer, byteOffset: number, byteLength: number): ArrayBufferView {
  const Ctor = VIEW_TYPES[type]!
  if (Ctor === Buffer) return Buffer.from(buffer, byteOffset, byteLength)
  if (Ctor === DataView) return new DataView(buffer, byteOffset, byteLength)
  const Typed = Ctor as unknown as new (b: ArrayBuffer, o: number, l: number) => ArrayBufferView & { BYTES_PER_ELEMENT: number }
  return new Typed(buffer, byteOffset, byteLength / (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT)
}
