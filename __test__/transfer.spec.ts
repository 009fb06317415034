import { spawnSync } from 'node:child_process'

import test from 'ava'

import { type ProcessingException, QdmpError } from '../dist/index.mjs'

import { fixture, poolKinds } from './helpers.js'
import { cloneBytes, movableBuffersIn, RandomValues } from './random-values.js'

type Job = { kind: string; data?: Float32Array | Uint8Array }

type Made = Float32Array & { buffer: ArrayBuffer }

for (const { name, make: Pool, options } of poolKinds) {
  test(`${name}: a result returned with move() arrives intact; from threads its buffer moves, not a copy`, async (t) => {
    const handler = new Pool<Record<string, unknown>, Made>(fixture('buffers.mjs'), options)
    await handler.start(1) // one worker, so the next task runs where the result was made
    const made = await handler.run({ kind: 'make', value: 2.5 })
    t.true(made instanceof Float32Array)
    t.is(made.length, 1000)
    t.true(made.every((x) => x === 2.5))
    if (name === 'threads') {
      // The worker's own 1 MiB buffer, view offset kept: moved, where a copy would hold 4000 bytes.
      t.like(made, { byteOffset: 16 })
      t.is(made.buffer.byteLength, 1 << 20)
      t.like(await handler.run({ kind: 'kept' }), { length: 0, bufferLength: 0 }, 'detached in the worker that made it')
    }
    const small = (await handler.run({ kind: 'movePooled', value: 1 })) as unknown as Buffer
    t.true(Buffer.isBuffer(small))
    t.is(small.toString(), 'small 21')
    t.is(small.buffer.byteLength, small.byteLength, "a pooled Buffer brings its own bytes, not the worker's pool")
    if (name === 'threads') {
      // A Buffer over part of the task's own ArrayBuffer is not pooled: it moves, offset kept.
      const window = (await handler.run({ kind: 'moveWindow' })) as unknown as Buffer
      t.true(Buffer.isBuffer(window))
      t.like(window, { byteOffset: 100, byteLength: 16 })
      t.is(window.buffer.byteLength, 8192)
      t.like(await handler.run({ kind: 'kept' }), { length: 0, bufferLength: 0 }, 'detached in the worker')
    }
    const nested = (await handler.run({ kind: 'makeNested', value: 7 })) as unknown as { label: string; a: Float32Array; b: Uint8Array; count: number }
    t.is(nested.label, 'nested')
    t.is(nested.count, 2)
    t.true(nested.a.every((x) => x === 7))
    t.deepEqual([...nested.b], [1, 2, 3])
    await handler.stop()
  })

  test(`${name}: many moved results, across worker crashes, each arrive once and intact`, async (t) => {
    const handler = new Pool<Record<string, unknown>, Made>(fixture('buffers.mjs'), { ...options, logger: {} })
    await handler.start(2)
    // Every 25th task crashes its worker: results moved back by the workers that die later must
    // still be found, in order, on the ports of the workers that are gone.
    const jobs = Array.from({ length: 300 }, (_, i) => (i % 25 === 24 ? { kind: 'crash' } : { kind: 'make', value: i }))
    const outcomes: string[] = []
    for await (const outcome of handler.mapSettled(jobs, { window: 32 })) {
      if (outcome.status === 'fulfilled') outcomes.push(outcome.value[999] === outcome.index && outcome.value.length === 1000 ? 'ok' : `bad ${outcome.index}`)
      else outcomes.push((outcome as { reason: ProcessingException }).reason.code)
    }
    t.deepEqual(outcomes, jobs.map((job) => (job.kind === 'crash' ? 'ERR_QDMP_WORKER_EXITED' : 'ok')))
    if (name === 'threads') {
      const data = new Float32Array(8).fill(1)
      const lent = (await t.throwsAsync(handler.run({ kind: 'moveArgumentBack', data }, { transfer: [data.buffer] }))) as ProcessingException
      t.regex((lent.exception as Error).message, /only lent to the task and cannot be moved back; return a copy/)
    }
    const bad = (await t.throwsAsync(handler.run({ kind: 'badMove', value: 42 }))) as ProcessingException
    t.is((bad.exception as QdmpError).code, 'ERR_QDMP_INVALID_ARGUMENT')
    t.regex((bad.exception as Error).message, /not an ArrayBuffer or a view of one; list the buffers to move/)
    await handler.stop()
  })

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

  test(`${name}: many moved arguments, more than are in flight at once, each arrive intact`, async (t) => {
    const handler = new Pool<Job, Record<string, unknown>>(fixture('buffers.mjs'), options)
    await handler.start(2)
    // Distinct contents and sizes, so that a buffer read after its memory was let go, or another
    // task's memory, shows as a wrong sum or length.
    const made = (i: number): Float32Array => new Float32Array(2000 + i).fill(i)
    const runs = Array.from({ length: 120 }, (_, i) => {
      const data = made(i)
      return handler.run({ kind: 'describe', data }, { transfer: [data] })
    })
    const described = await Promise.all(runs)
    t.deepEqual(
      described.map((d) => [d.length, d.sum]),
      Array.from({ length: 120 }, (_, i) => [2000 + i, i * (2000 + i)]),
    )
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

  test(`${name}: a validateResult that throws on a task with moved arguments reports the arguments`, async (t) => {
    const handler = new Pool<Job, unknown>(fixture('buffers.mjs'), {
      ...options,
      logger: {},
      validateResult: () => {
        throw new Error('not this one')
      },
    })
    await handler.start(1)
    const data = new Uint8Array([4, 5, 6])
    const error = (await t.throwsAsync(handler.run({ kind: 'describe', data }, { transfer: [data] }))) as ProcessingException
    t.is(error.code, 'ERR_QDMP_HOOK_FAILED')
    t.deepEqual([...((error.args as Job).data as Uint8Array)], [4, 5, 6])
    await handler.stop()
  })

  test(`${name}: random values with some of their buffers moved arrive as V8 clones them`, async (t) => {
    // Seeded (random-values.ts): a lone view or buffer (moved without the serializer) and nested
    // values with several views (the serializer, with references to the moved buffers).
    const random = new RandomValues(99)
    const handler = new Pool(fixture('echo.mjs'), options)
    await handler.start(2)
    const sent = Array.from({ length: 200 }, () => {
      const value = random.value()
      const transfer = movableBuffersIn(value).filter(() => random.int(3) > 0)
      return { value, transfer, lengths: transfer.map((b) => b.byteLength), expected: cloneBytes(value) }
    })
    const back = await Promise.all(sent.map(({ value, transfer }) => handler.run(value, { transfer })))
    await handler.stop()
    let moved = 0
    sent.forEach(({ transfer, lengths, expected }, i) => {
      t.true(cloneBytes(back[i]).equals(expected), `value ${i}`)
      transfer.forEach((buffer, k) => {
        if (lengths[k]! > 0) t.is(buffer.byteLength, 0, `value ${i}: a moved buffer is detached here`)
      })
      moved += transfer.length
    })
    t.true(moved >= 30, `${moved} buffers moved`) // the seed must exercise what the test is for
  })

  test(`${name}: random values moved back with move() arrive as V8 clones them`, async (t) => {
    // Seeded (random-values.ts). From threads the buffers are transferred beside the encoded value:
    // Buffers stay Buffers and views keep their types, as on every other path.
    const random = new RandomValues(5)
    const fixed = [
      Buffer.from('a lone Buffer'),
      new DataView(new ArrayBuffer(8), 2, 4),
      new ArrayBuffer(3),
      { text: 'x'.repeat(100_000), data: new Float32Array(4) }, // 100 kB not moved: sent as bytes, not a string
    ]
    const values = [...fixed, ...Array.from({ length: 200 }, () => random.value())]
    const handler = new Pool(fixture('move-back.mjs'), options)
    await handler.start(2)
    const back = await Promise.all(values.map((value) => handler.run(value)))
    await handler.stop()
    values.forEach((value, i) => t.true(cloneBytes(back[i]).equals(cloneBytes(value)), `value ${i}`))
    t.true(values.filter((value) => movableBuffersIn(value).length > 0).length >= 30, 'the seed must exercise what the test is for')
  })

  if (name === 'threads') {
    test('threads: buffers returned with move() leave the worker, alone or inside a value', async (t) => {
      const handler = new Pool(fixture('move-back.mjs'), options)
      await handler.start(1)
      const values = [new Float32Array(16), { a: new Uint8Array(8), b: [new ArrayBuffer(4)] }, { text: 'x'.repeat(100_000), data: new Float32Array(4) }]
      for (const [i, value] of values.entries()) {
        await handler.run(value)
        t.true(await handler.run('were the last buffers moved?'), `value ${i}`)
      }
      await handler.stop()
    })
  }

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
    t.regex(uncloneable.message, /^run\(\): the arguments cannot be cloned \(.*1 could not be cloned\); task arguments must be structured-cloneable/)
    t.is(kept.byteLength, 4, 'nothing was moved for an argument that was refused')
    await handler.stop()
  })
}

test('threads: a process that exits while workers read moved buffers exits cleanly (their memory outlives the workers)', (t) => {
  // 64 MiB buffers are mappings of their own: read after being freed, they fault at once.
  const script = `
    import { ThreadPoolHandler } from ${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)}
    const handler = new ThreadPoolHandler(${JSON.stringify(fixture('buffers.mjs'))}, { logger: {} })
    await handler.start(2)
    for (let i = 0; i < 2; i++) {
      const data = new Uint8Array(64 << 20).fill(1)
      handler.run({ kind: 'readFor', data, ms: 5000 }, { transfer: [data.buffer] }).catch(() => {})
    }
    setTimeout(() => process.exit(7), 300)
  `
  for (const round of [1, 2, 3]) {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
    t.is(child.signal, null, `round ${round}: ended by ${child.signal}; stderr: ${child.stderr}`)
    t.is(child.status, 7, `round ${round}: stderr: ${child.stderr}`)
  }
})

test('threads: a moved buffer is leased to its task; a reference kept after the task is detached, never stale', async (t) => {
  const { make: Pool, options } = poolKinds[0]
  const handler = new Pool<Job, unknown>(fixture('buffers.mjs'), options)
  await handler.start(1)
  const data = new Float32Array(64).fill(2)
  t.is(await handler.run({ kind: 'keep', data }, { transfer: [data] }), 64)
  t.deepEqual(await handler.run({ kind: 'kept' }), { length: 0, bufferLength: 0 })
  await handler.stop()
})
