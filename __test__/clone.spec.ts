import test from 'ava'

import { fixture, poolKinds } from './helpers.js'
import { cloneBytes, RandomValues } from './random-values.js'

for (const { name, make: Pool, options } of poolKinds) {
  test(`${name}: arguments and results cross with structured-clone semantics`, async (t) => {
    const values: unknown[] = [
      0,
      -0,
      1.5,
      -2147483648,
      2 ** 40,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      '',
      'héllo wörld ✓',
      true,
      false,
      null,
      undefined,
      123n,
      new Date(0),
      /ab+c/gi,
      new Map([[1, { a: [1, 2] }]]),
      new Set(['x', 'y']),
      new Float32Array([1.5, 2.5]),
      new Uint8Array([1, 2, 3]),
      new BigInt64Array([1n, -1n]),
      Buffer.from('buffer'),
      { nested: { deep: [1, { x: 'y' }] } },
      [1, 'two', [3]],
      new TypeError('an error as a value'),
    ]
    const handler = new Pool(fixture('echo.mjs'), options)
    await handler.start(2)
    handler.addTasks(values.map((value, index) => ({ index, value })))
    const [results, errors] = await handler.processResults()
    await handler.stop()
    t.deepEqual(errors, [])
    const back = new Map((results as { index: number; value: unknown }[]).map((r) => [r.index, r.value]))
    values.forEach((value, index) => {
      const got = back.get(index)
      if (value instanceof Error) {
        t.true(got instanceof TypeError)
        t.is((got as Error).message, value.message)
      } else {
        t.deepEqual(got, value, `value ${index}`)
      }
    })
    t.true(Object.is(back.get(1), -0), '-0 survives')
    const floats = back.get(18) as Float32Array
    t.true(floats instanceof Float32Array)
    t.is(floats.buffer.byteLength, floats.byteLength, 'a decoded typed array owns exactly its bytes')
    t.true(Buffer.isBuffer(back.get(21)))
  })

  test(`${name}: a typed array, Buffer or DataView as the whole argument or result crosses with its type and only its bytes`, async (t) => {
    // These skip the V8 serializer (codec.ts, VIEW), so each kind is checked on its own.
    const backing = new ArrayBuffer(64)
    new Uint8Array(backing).forEach((_, i, bytes) => (bytes[i] = i))
    class Tagged extends Uint8Array {}
    const values: ArrayBufferView[] = [
      new Int8Array([-1, 2]),
      new Uint8Array(backing, 3, 5), // a window into a larger buffer
      new Uint8ClampedArray([0, 255]),
      new Int16Array([-300, 300]),
      new Uint16Array([65535]),
      new Int32Array(backing, 8, 4),
      new Uint32Array([4294967295, 7]),
      new Float32Array([1.5, Number.NaN]),
      new Float64Array([-0, 1e300]),
      new BigInt64Array([-(2n ** 63n)]),
      new BigUint64Array([2n ** 64n - 1n]),
      new DataView(backing, 16, 8),
      Buffer.from('héllo'),
      new Float32Array(0),
      new Int16Array(new SharedArrayBuffer(4)), // copied, not shared
      new Tagged([9, 8]), // a subclass: the serializer's path, back as its base type
    ]
    const handler = new Pool(fixture('echo.mjs'), options)
    await handler.start(1)
    const back = (await Promise.all(values.map((value) => handler.run(value)))) as ArrayBufferView[]
    await handler.stop()
    values.forEach((sent, i) => {
      const got = back[i]!
      const expected = sent instanceof Tagged ? Uint8Array : Buffer.isBuffer(sent) ? Buffer : sent.constructor
      t.is(Buffer.isBuffer(got), Buffer.isBuffer(sent), `value ${i}: Buffer or not`)
      t.is(got.constructor, expected, `value ${i}: ${got.constructor.name}`)
      t.is(got.byteOffset, 0, `value ${i}`)
      t.is(got.buffer.byteLength, sent.byteLength, `value ${i} owns exactly its bytes`)
      t.deepEqual(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(sent.buffer, sent.byteOffset, sent.byteLength), `value ${i}: bytes`)
    })
    t.true(Object.is((back[8] as Float64Array)[0], -0))
  })

  test(`${name}: a string as the whole argument or result keeps every code unit`, async (t) => {
    // ASCII crosses as UTF-8, anything else as UTF-16 (codec.ts, STRING16): both are checked.
    const values = ['', 'plain ascii', 'héllo wörld', '✓ 中文 🙂', 'lone \ud800 high', 'lone \udfff low', '\udc00\ud800 reversed', 'x'.repeat(70_000) + 'é']
    const handler = new Pool(fixture('echo.mjs'), options)
    await handler.start(1)
    const back = await Promise.all(values.map((value) => handler.run(value)))
    await handler.stop()
    values.forEach((sent, i) => t.is(back[i], sent, `value ${i}`))
  })

  test(`${name}: random values cross both ways as V8 clones them`, async (t) => {
    // Seeded (random-values.ts): whole arguments of every kind, strings of every range of code
    // units, views at offsets into larger and shared buffers, nested containers; batched and
    // framed by the core as values of many sizes, then each compared byte for byte.
    const random = new RandomValues(2024)
    const values = Array.from({ length: 300 }, () => random.value())
    const handler = new Pool(fixture('echo.mjs'), options)
    await handler.start(2)
    const back: unknown[] = []
    for await (const value of handler.map(values, { window: 64 })) back.push(value)
    await handler.stop()
    t.is(back.length, values.length)
    values.forEach((value, i) => t.true(cloneBytes(back[i]).equals(cloneBytes(value)), `value ${i}`))
  })

  test(`${name}: arguments that cannot be cloned are rejected naming their index; the rest are queued`, async (t) => {
    const handler = new Pool((x: unknown) => x, options)
    await handler.start(1)
    const error = t.throws(() => handler.addTasks([1, () => 2, 3, Symbol('s'), 5] as unknown[])) as Error & {
      code: string
      index: number
      accepted: number
      rejected: { index: number; code: string }[]
    }
    t.is(error.code, 'ERR_QDMP_DATA_CLONE')
    t.is(error.index, 1)
    t.deepEqual(error.rejected.map((r) => r.index), [1, 3])
    t.is(error.accepted, 3)
    t.regex(error.message, /index 1 cannot be cloned.*1 more.*other 3 argument/)
    const [results] = await handler.processResults()
    t.deepEqual((results as number[]).sort(), [1, 3, 5])
    t.like(handler.stats(), { submitted: 5, accepted: 3, discardedArgs: 2 })
    handler.addTasks([6])
    t.deepEqual((await handler.processResults())[0], [6], 'the handler keeps working')
    await handler.stop()
  })

}
