import { BlockList } from 'node:net'

import test from 'ava'

import { decode } from '../dist/codec.js'
import { encodeTransfer } from '../dist/transfer-codec.js'

import { cloneBytes, movableBuffersIn, RandomValues, viewsIn } from './random-values.js'

/** Encodes `value` moving `transfer`, and decodes it with copies of those buffers in their place. */
function moveThrough(value: unknown, transfer: ArrayBuffer[]): { back: unknown; bytes: Buffer; arrived: ArrayBuffer[] } {
  const bytes = encodeTransfer(value, transfer, transfer.map((_, pin) => pin))
  const arrived = transfer.map((buffer) => buffer.slice(0))
  return { back: decode(bytes, 0, bytes.length, (pins) => pins.map((pin) => arrived[pin]!)), bytes, arrived }
}

test('with some buffers moved, the others are written as their views\' bytes alone, keeping their types', (t) => {
  for (let seed = 1; seed <= 30; seed++) {
    const random = new RandomValues(seed)
    for (let i = 0; i < 40; i++) {
      const value = random.value()
      const transfer = movableBuffersIn(value).filter(() => random.int(2) > 0)
      const { back, arrived } = moveThrough(value, transfer)
      t.true(cloneBytes(back).equals(cloneBytes(value)), `seed ${seed}, value ${i}`)
      const sentViews = viewsIn(value)
      viewsIn(back).forEach((view, k) => {
        const moved = transfer.indexOf(sentViews[k]!.buffer as ArrayBuffer)
        if (moved >= 0) {
          // Viewed in place: the moved buffer itself, at the same offset.
          t.true(view.buffer === arrived[moved] && view.byteOffset === sentViews[k]!.byteOffset, `seed ${seed}, value ${i}: a moved view`)
        } else {
          t.true(view.byteOffset === 0 && view.buffer.byteLength === view.byteLength, `seed ${seed}, value ${i}: a view owns exactly its bytes`)
        }
      })
    }
  }
})

test('a small Buffer beside a moved buffer does not carry the rest of its memory pool', (t) => {
  const secret = Buffer.from('a secret in the same pool') // Buffer.from pools small buffers
  const name = Buffer.from('name')
  t.is(name.buffer, secret.buffer, 'the premise: both share one pooled ArrayBuffer')
  const moved = new Float32Array(4)
  const shared = new Int16Array(new SharedArrayBuffer(8), 2, 2)
  const { back, bytes } = moveThrough({ name, moved, shared }, [moved.buffer as ArrayBuffer])
  t.false(bytes.includes('a secret'), 'the pool is not written')
  t.true(bytes.length < 200, `${bytes.length} bytes`)
  const got = back as { name: Buffer; moved: Float32Array; shared: Int16Array }
  t.true(Buffer.isBuffer(got.name), 'a Buffer stays a Buffer')
  t.is(got.name.toString(), 'name')
  t.is(got.shared.constructor, Int16Array, 'a view of shared memory is copied')
  t.is(got.shared.byteLength, 4)
})

test('a host object beside a moved buffer is refused as the serializer refuses it, by name', (t) => {
  const moved = new Float32Array(2)
  const error = t.throws(() => encodeTransfer({ list: new BlockList(), moved }, [moved.buffer as ArrayBuffer], [0]))
  t.regex(error!.message, /^Unserializable host object: BlockList/)
  t.is(moved.byteLength, 8, 'nothing was moved')
})
