import { runInNewContext } from 'node:vm'

import test from 'ava'

import { decode, encode } from '../dist/codec.js'

const bytesOf = (view: ArrayBufferView): number[] => Array.from(new Uint8Array(view.buffer, view.byteOffset, view.byteLength))

test('an exact typed array, Buffer or DataView is written as its bytes alone, and read back as the same type', (t) => {
  const views: ArrayBufferView[] = [
    new Uint8Array([1, 2, 3]),
    new Float64Array([0.5]),
    new BigUint64Array([1n]),
    new DataView(new ArrayBuffer(3)),
    Buffer.from('abc'),
    new Uint16Array(new SharedArrayBuffer(4)), // shared memory is copied, as the serializer copies it
  ]
  for (const view of views) {
    const bytes = encode(view)
    // One tag byte, one type byte, the view's bytes: no serializer header or length fields.
    t.is(bytes.length, 2 + view.byteLength, view.constructor.name)
    const back = decode(bytes) as ArrayBufferView
    t.is(back.constructor, view.constructor)
    t.deepEqual(bytesOf(back), bytesOf(view))
  }
})

test('views that are not exactly one of the types keep their bytes and come back as their base type', (t) => {
  class Tagged extends Uint8Array {}
  class BufferLike extends Uint8Array {}
  Object.setPrototypeOf(BufferLike.prototype, Buffer.prototype)
  const relabelled = new Uint8Array([1, 2, 3])
  Object.setPrototypeOf(relabelled, Float64Array.prototype) // its constructor now says Float64Array
  const cases: [ArrayBufferView, Function][] = [
    [new Tagged([9, 8]), Uint8Array],
    [new BufferLike([5, 6]), Uint8Array],
    [relabelled, Uint8Array],
    [runInNewContext('new Int16Array([-2])') as Int16Array, Int16Array],
  ]
  for (const [view, base] of cases) {
    const back = decode(encode(view)) as ArrayBufferView
    t.is(back.constructor, base)
    t.deepEqual(bytesOf(back), bytesOf(view))
  }
})

test('an ASCII string is written as UTF-8, any other as UTF-16, and both read back whole', (t) => {
  for (const text of ['', 'ascii only', 'naïve', '中文', 'lone \ud800']) {
    const bytes = encode(text)
    const ascii = Buffer.byteLength(text) === text.length
    t.is(bytes.length, 1 + (ascii ? text.length : 2 * text.length), JSON.stringify(text))
    t.is(decode(bytes), text)
  }
})
