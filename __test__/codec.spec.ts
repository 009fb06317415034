import { runInNewContext } from 'node:vm'

import test from 'ava'

import { ByteWriter, decode, decodeEach, encode } from '../dist/codec.js'

import { cloneBytes, RandomValues, viewsIn } from './random-values.js'

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

test('random values read back as V8 clones them, alone and packed in batches at any offset', (t) => {
  for (let seed = 1; seed <= 40; seed++) {
    const random = new RandomValues(seed)
    const values = Array.from({ length: 40 }, () => random.value())
    const batch = new ByteWriter(16) // grows many times over
    for (const value of values) batch.add(value)
    const packed = [...decodeEach(batch.bytes(), batch.ends())]
    t.is(packed.length, values.length)
    values.forEach((value, i) => {
      const expected = cloneBytes(value)
      for (const [how, back] of [['alone', decode(encode(value))], ['in a batch', packed[i]]] as const) {
        t.true(cloneBytes(back).equals(expected), `seed ${seed}, value ${i}, ${how}`)
        for (const view of viewsIn(back)) {
          t.true(view.byteOffset === 0 && view.buffer.byteLength === view.byteLength, `seed ${seed}, value ${i}, ${how}: a view owns exactly its bytes`)
        }
      }
    })
  }
})

test('a value that cannot be cloned, however deep, is refused and leaves the batch as it was', (t) => {
  const random = new RandomValues(7)
  const batch = new ByteWriter(16)
  const kept: unknown[] = []
  for (let i = 0; i < 200; i++) {
    const value = random.value()
    if (i % 3 === 0) {
      const poison = i % 2 ? () => i : Symbol(String(i))
      const before = Buffer.from(batch.bytes())
      t.throws(() => batch.add([value, { deep: new Map([[1, [poison]]]) }]), undefined, `value ${i}`)
      t.is(batch.count, kept.length)
      t.true(batch.bytes().equals(before), `value ${i}: the batch is unchanged`)
    }
    batch.add(value)
    kept.push(value)
  }
  const back = [...decodeEach(batch.bytes(), batch.ends())]
  t.is(back.length, kept.length)
  kept.forEach((value, i) => t.true(cloneBytes(back[i]).equals(cloneBytes(value)), `value ${i}`))
})
