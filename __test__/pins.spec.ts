import test from 'ava'

import { Pins } from '../dist/pins.js'

/** A buffer of `length` bytes, byte i holding (seed + i) mod 256. */
function patterned(length: number, seed: number): ArrayBuffer {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i++) bytes[i] = (seed + i) & 0xff
  return bytes.buffer
}

const holds = (buffer: ArrayBuffer, length: number, seed: number): boolean =>
  buffer.byteLength === length && new Uint8Array(buffer).every((byte, i) => byte === ((seed + i) & 0xff))

const errors: unknown[][] = []
const logger = { debug() {}, info() {}, warn() {}, error: (...args: unknown[]) => void errors.push(args) }

test.after.always('the keeper thread never failed', (t) => {
  t.deepEqual(errors, [])
})

test("moveIn detaches the caller's buffer; resolve copies the bytes, and the copies outlive the pin", (t) => {
  const pins = new Pins(logger)
  const buffer = patterned(4096, 7)
  const { pin, length, address } = pins.moveIn(buffer)
  t.is(buffer.byteLength, 0, 'detached, as by postMessage')
  t.is(length, 4096)
  t.true(address > 0)
  pins.own(1, [pin])
  const [first] = pins.resolve([pin])
  const [second] = pins.resolve([pin])
  t.true(holds(first!, 4096, 7), 'the bytes, read where the workers read them')
  t.not(first, second, 'each decode gets its own copy')
  new Uint8Array(first!).fill(0)
  t.true(holds(pins.resolve([pin])[0]!, 4096, 7), 'writing a copy leaves the pinned bytes alone')
  pins.finished(1, false)
  t.is(pins.size, 0)
  t.true(holds(second!, 4096, 7), 'a copy taken before stays intact')
  t.throws(() => pins.resolve([pin]), { message: /pin \d+ was released/ })
  pins.clear()
})

test('a buffer is let go only once its task is finished here and its worker gave it back, in either order', (t) => {
  const pins = new Pins(logger)
  const a = pins.moveIn(patterned(64, 1)).pin
  const b = pins.moveIn(patterned(64, 2)).pin
  pins.own(1, [a])
  pins.own(2, [b])
  pins.givenBack(a) // the worker first, then the task
  t.is(pins.size, 2)
  pins.finished(1, true)
  t.is(pins.size, 1)
  pins.finished(2, true) // the task first, then the worker
  t.is(pins.size, 1, 'a worker may still view it')
  t.true(holds(pins.resolve([b])[0]!, 64, 2))
  pins.givenBack(b)
  t.is(pins.size, 0)
  pins.clear()
})

test('many buffers stay intact while held, across turns of the event loop, whatever order they are let go in', async (t) => {
  const pins = new Pins(logger)
  const moved = Array.from({ length: 200 }, (_, i) => ({ task: i + 1, seed: i, ...pins.moveIn(patterned(5000 + i, i)) }))
  moved.forEach(({ task, pin }) => pins.own(task, [pin]))
  // Let the odd ones go first, then give the keeper time to drop them, then check the rest.
  for (const { task } of moved.filter((m) => m.task % 2 === 1)) pins.finished(task, false)
  await new Promise((resolve) => setTimeout(resolve, 100))
  for (const { task, pin, seed } of moved.filter((m) => m.task % 2 === 0).reverse()) {
    t.true(holds(pins.resolve([pin])[0]!, 5000 + seed, seed), `pin ${pin} intact until it is let go`)
    pins.finished(task, false)
  }
  t.is(pins.size, 0)
  pins.clear()
  // After clear() (the keeper thread ends), moving more starts a new one.
  const late = pins.moveIn(patterned(10, 3))
  pins.own(1, [late.pin])
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.true(holds(pins.resolve([late.pin])[0]!, 10, 3))
  pins.clear()
})

test('parked memory stays where it is while pinned, 128 MiB of it, across turns of the event loop', async (t) => {
  const pins = new Pins(logger)
  // 1 MiB buffers are mappings of their own: any freed while pinned would read back wrong, or fault.
  const MiB = 1 << 20
  const moved = Array.from({ length: 128 }, (_, i) => ({ task: i + 1, seed: i, ...pins.moveIn(patterned(MiB, i)) }))
  moved.forEach(({ task, pin }) => pins.own(task, [pin]))
  await new Promise((resolve) => setTimeout(resolve, 300))
  const intact = moved.filter(({ pin, seed }) => holds(pins.resolve([pin])[0]!, MiB, seed)).length
  t.is(intact, 128)
  for (const { task } of moved) pins.finished(task, false)
  t.is(pins.size, 0)
  pins.clear()
})

test('an empty buffer needs no memory kept; a buffer Node cannot detach (a pooled small Buffer) is copied first', (t) => {
  const pins = new Pins(logger)
  const empty = pins.moveIn(new ArrayBuffer(0))
  t.is(empty.length, 0)
  pins.own(1, [empty.pin])
  t.deepEqual(pins.resolve([empty.pin]).map((b) => b.byteLength), [0])
  const pooled = Buffer.from('pooled bytes')
  const { pin, length } = pins.moveIn(pooled.buffer as ArrayBuffer)
  t.is(pooled.toString(), 'pooled bytes', "Node's pool stays usable")
  pins.own(2, [pin])
  const [copy] = pins.resolve([pin])
  t.is(copy!.byteLength, length)
  t.is(Buffer.from(copy!, pooled.byteOffset, pooled.length).toString(), 'pooled bytes')
  pins.finished(1, false)
  pins.finished(2, false)
  t.is(pins.size, 0)
  pins.clear()
})
