import test from 'ava'

import { type ProcessingException, QdmpError } from '../dist/index.mjs'

import { fixture, poolKinds } from './helpers.js'

type Job = { kind: string; data?: Float32Array | Uint8Array }

for (const { name, make: Pool, options } of poolKinds) {
  test(`${name}: a transferred buffer is detached here and arrives intact`, async (t) => {
    const handler = new Pool<Job, Record<string, unknown>>(fixture('buffers.mjs'), options)
    await handler.start(2)
    const buffer = new ArrayBuffer(1 << 20)
    const data = new Float32Array(buffer, 16, 1000).fill(1.5)
    const described = await handler.run({ kind: 'describe', data }, { transfer: [buffer] })
    t.is(buffer.byteLength, 0, 'detached in the producer')
    t.is(data.length, 0, "the producer's view is gone too")
    t.like(described, { type: 'Float32Array', length: 1000, sum: 1500 })
    if (name === 'threads') {
      // Viewed in place: the same offset in the same 1 MiB buffer, not a 4000-byte copy.
      t.like(described, { byteOffset: 16, bufferLength: 1 << 20 })
    }
    await handler.stop()
  })

  test(`${name}: transfer accepts views and buffers, and a failure still reports the arguments`, async (t) => {
    const handler = new Pool<Job, unknown>(fixture('buffers.mjs'), options)
    await handler.start(1)
    const data = new Uint8Array([1, 2, 3])
    const error = (await t.throwsAsync(handler.run({ kind: 'fail', data }, { transfer: [data] }))) as ProcessingException
    t.is(error.code, 'ERR_QDMP_TASK_FAILED')
    t.deepEqual([...((error.args as Job).data as Uint8Array)], [1, 2, 3], 'the failed attempt is reported with its data')
    await handler.stop()
  })

  test(`${name}: bad transfer lists are refused with ERR_QDMP_INVALID_ARGUMENT, moving nothing`, async (t) => {
    const handler = new Pool<Job, unknown>(fixture('buffers.mjs'), options)
    await handler.start(1)
    const shared = new SharedArrayBuffer(8)
    const error = (await t.throwsAsync(handler.run({ kind: 'describe', data: new Uint8Array(shared) }, { transfer: [shared as never] }))) as QdmpError
    t.is(error.code, 'ERR_QDMP_INVALID_ARGUMENT')
    t.regex(error.message, /SharedArrayBuffer is already shared/)
    t.is(((await t.throwsAsync(handler.run({ kind: 'describe' }, { transfer: 'all' as never }))) as QdmpError).code, 'ERR_QDMP_INVALID_ARGUMENT')
    const kept = new Uint8Array(4)
    const uncloneable = (await t.throwsAsync(handler.run({ kind: 'describe', data: kept, fn: () => 1 } as never, { transfer: [kept] }))) as QdmpError
    t.is(uncloneable.code, 'ERR_QDMP_DATA_CLONE')
    t.is(kept.byteLength, 4, 'nothing was moved for an argument that was refused')
    await handler.stop()
  })
}

test('threads: a moved buffer is leased to its task; a reference kept after the task is detached, never stale', async (t) => {
  const { make: Pool, options } = poolKinds[0]
  const handler = new Pool<Job, unknown>(fixture('buffers.mjs'), options)
  await handler.start(1)
  const data = new Float32Array(64).fill(2)
  t.is(await handler.run({ kind: 'keep', data }, { transfer: [data] }), 64)
  t.deepEqual(await handler.run({ kind: 'kept' }), { length: 0, bufferLength: 0 })
  await handler.stop()
})
