import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

import test from 'ava'

import { ProcessingException, QdmpError } from '../dist/index.mjs'

import { eventually, fixture, gate, poolKinds } from './helpers.js'

type Job = { kind: string; value?: unknown; ms?: number; file?: string }

const ok = (value: unknown): Job => ({ kind: 'ok', value })
const sleep = (ms: number, value: unknown): Job => ({ kind: 'sleep', ms, value })

/** A source that counts what was pulled from it. */
function counted<T>(items: Iterable<T>): { source: Iterable<T>; pulled: () => number } {
  let pulled = 0
  function* source(): Generator<T> {
    for (const item of items) {
      pulled++
      yield item
    }
  }
  return { source: source(), pulled: () => pulled }
}

function* forever(): Generator<Job> {
  for (let i = 0; ; i++) yield ok(i)
}

for (const { name, make: Pool, options } of poolKinds) {
  const faults = (extra: Record<string, unknown> = {}) => new Pool<Job, unknown>(fixture('faults.mjs'), { ...options, ...extra })

  test(`${name}: map over an endless source, stopped after N results, pulls at most N + window and settles or cancels all it pulled`, async (t) => {
    const handler = faults()
    await handler.start(2)
    const { source, pulled } = counted(forever())
    const seen: unknown[] = []
    for await (const value of handler.map(source, { window: 16 })) {
      seen.push(value)
      if (seen.length === 100) break
    }
    t.deepEqual(seen, Array.from({ length: 100 }, (_, i) => i), 'in input order')
    t.true(pulled() <= 100 + 16, `pulled ${pulled()}`)
    await eventually(() => handler.stats().running === 0, 'the tasks still running finish')
    const s = handler.stats()
    t.is(s.accepted, pulled())
    t.is(s.accepted, s.completed + s.failed + s.discardedResults + s.cancelled)
    t.is(s.pending, 0)
    t.deepEqual(await handler.processResults(10, { wait: false }), [[], []], "a map's results never reach processResults")
    await handler.stop()
  })

  test(`${name}: map over 1M items keeps the producer's heap bounded`, async (t) => {
    t.timeout(5 * 60_000)
    const handler = new Pool<number, number>(fixture('square.mjs'), options)
    await handler.start(2)
    function* numbers(): Generator<number> {
      for (let i = 0; i < 1_000_000; i++) yield i % 1000
    }
    const before = process.memoryUsage().heapUsed
    let peak = before
    let count = 0
    let sum = 0
    for await (const value of handler.map(numbers(), { window: 1024 })) {
      sum += value
      if (++count % 20_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed)
    }
    t.is(count, 1_000_000)
    t.is(sum, 1000 * 332_833_500, 'every square, once')
    const growthMb = (peak - before) / 2 ** 20
    // Loose: garbage not yet collected counts too. Holding the million arguments would take far more.
    t.true(growthMb < 96, `heap grew by ${growthMb.toFixed(1)} MB`)
    await handler.stop()
  })

  test(`${name}: map and mapSettled hand back numbers exactly (-0, NaN, beyond 32 bits) and any other value`, async (t) => {
    const handler = new Pool<unknown, unknown>(fixture('echo.mjs'), options)
    await handler.start(2)
    const values: unknown[] = [-0, Number.NaN, 2 ** 40, 1.5, 7, undefined, null, 'text', { an: 'object' }]
    const source = Array.from({ length: 300 }, (_, i) => values[i % values.length])
    const ordered: unknown[] = []
    for await (const value of handler.map(source, { window: 16 })) ordered.push(value)
    t.is(ordered.length, source.length)
    ordered.forEach((value, i) => t.deepEqual(value, source[i], `position ${i}`))
    t.true(ordered.some((value) => Object.is(value, -0)), '-0 stays -0')
    const unordered: unknown[] = []
    for await (const value of handler.map(source, { window: 16, ordered: false })) unordered.push(value)
    t.is(unordered.filter((value) => Object.is(value, -0)).length, source.filter((value) => Object.is(value, -0)).length)
    t.is(unordered.filter((value) => Number.isNaN(value)).length, source.filter((value) => Number.isNaN(value)).length)
    for await (const settled of handler.mapSettled(source, { window: 16 })) {
      t.true(Object.is(settled.args, source[settled.index]), `args of ${settled.index}`)
      t.is(settled.status, 'fulfilled')
      if (settled.status === 'fulfilled') t.deepEqual(settled.value, source[settled.index], `value of ${settled.index}`)
    }
    await handler.stop()
  })

  test(`${name}: ordered map keeps input order under random task durations; unordered yields everything once`, async (t) => {
    const handler = faults()
    await handler.start(2)
    const durations = Array.from({ length: 60 }, (_, i) => (i * 7919) % 13)
    const jobs = durations.map((ms, i) => sleep(ms, i))
    const ordered: unknown[] = []
    for await (const value of handler.map(jobs, { window: 8 })) ordered.push(value)
    t.deepEqual(ordered, Array.from({ length: 60 }, (_, i) => i))
    const unordered: number[] = []
    for await (const value of handler.map(jobs, { window: 8, ordered: false })) unordered.push(value as number)
    t.deepEqual([...unordered].sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i))
    await handler.stop()
  })

  test(`${name}: map takes async iterables, throws the first failure like Promise.all, and skips discarded results`, async (t) => {
    const handler = faults({ validateResult: (r: unknown) => r !== 'drop me' })
    await handler.start(2)
    async function* source(): AsyncGenerator<Job> {
      yield ok('a')
      yield ok('drop me')
      yield ok('b')
    }
    const values: unknown[] = []
    for await (const value of handler.map(source())) values.push(value)
    t.deepEqual(values, ['a', 'b'])
    const error = await t.throwsAsync(async () => {
      for await (const _ of handler.map([ok(1), { kind: 'throw', value: 'bad' }, ok(3)])) {
        // consumed until the failure
      }
    })
    t.true(error instanceof ProcessingException)
    t.is((error as ProcessingException).code, 'ERR_QDMP_TASK_FAILED')
    t.deepEqual((error as ProcessingException).args, { kind: 'throw', value: 'bad' })
    await handler.stop()
  })

  test(`${name}: mapSettled yields every outcome with its arguments and source index: fulfilled, rejected, discarded`, async (t) => {
    const handler = faults({ validateArgs: (j: Job) => j.value !== 'skip', validateResult: (r: unknown) => r !== 'drop' })
    await handler.start(2)
    const out = []
    for await (const outcome of handler.mapSettled([ok(1), { kind: 'throw', value: 2 }, ok('skip'), ok('drop'), ok(5)])) out.push(outcome)
    t.deepEqual(
      out.map((o) => o.status),
      ['fulfilled', 'rejected', 'discarded', 'discarded', 'fulfilled'],
    )
    t.like(out[0]!, { value: 1, args: ok(1) })
    t.is((out[1] as { reason: ProcessingException }).reason.code, 'ERR_QDMP_TASK_FAILED')
    t.deepEqual(out[2], { status: 'discarded', args: ok('skip'), index: 2 }, 'validateArgs: no value')
    t.deepEqual(out[3], { status: 'discarded', args: ok('drop'), value: 'drop', index: 3 }, 'validateResult: with the value')
    t.deepEqual(out.map((o) => o.index), [0, 1, 2, 3, 4])
    const unordered = []
    for await (const o of handler.mapSettled([ok('a'), { kind: 'sleep', ms: 50, value: 'b' }, ok('c')], { ordered: false })) unordered.push(o)
    t.deepEqual(
      unordered.map((o) => [o.index, (o as { value: string }).value]).sort(),
      [[0, 'a'], [1, 'b'], [2, 'c']],
      'unordered outcomes say where their arguments came from',
    )
    await handler.stop()
  })

  test(`${name}: aborting a map stops pulling, cancels queued tasks and throws ERR_QDMP_ABORTED`, async (t) => {
    const { file, open } = gate()
    const handler = faults()
    await handler.start(1)
    const controller = new AbortController()
    const { source, pulled } = counted([{ kind: 'block', file, value: 0 }, ...Array.from({ length: 50 }, (_, i) => ok(i + 1))])
    const iteration = (async () => {
      for await (const _ of handler.map(source, { window: 10, signal: controller.signal })) {
        // nothing arrives before the abort
      }
    })()
    await eventually(() => handler.stats().running === 1 && pulled() === 10, 'the window fills')
    controller.abort(new Error('enough'))
    const error = await t.throwsAsync(iteration)
    t.is((error as QdmpError).code, 'ERR_QDMP_ABORTED')
    t.is(((error as QdmpError).cause as Error).message, 'enough')
    t.is(pulled(), 10, 'nothing more pulled')
    t.like(handler.stats(), { cancelled: 9, pending: 0 })
    open()
    await eventually(() => handler.stats().running === 0, 'the running task finishes')
    await handler.stop()
  })

  test(`${name}: a map whose batch has a refused argument ends and cancels every queued task of that batch, none left to run unheard`, async (t) => {
    const { file, open } = gate()
    const handler = faults({
      validateArgs: (j: Job) => {
        if (j.value === 'bad') throw new Error('no thanks')
        return true
      },
    })
    await handler.start(1)
    await handler.submit({ kind: 'block', file, value: 0 })
    await eventually(() => handler.stats().running === 1, 'the only worker is busy')
    // One batch, all of it queued behind the busy worker: two tasks, the refused one, twelve more.
    const jobs: Job[] = [ok(1), ok(2), ok('bad'), ...Array.from({ length: 12 }, (_, i) => ok(i + 4))]
    const error = await t.throwsAsync(async () => {
      for await (const _ of handler.map(jobs, { window: 16 })) {
        // the run fails before any result
      }
    })
    t.is((error as ProcessingException).code, 'ERR_QDMP_HOOK_FAILED')
    t.like(handler.stats(), { accepted: 15, running: 1, pending: 0, cancelled: 14 })
    open()
    await eventually(() => handler.stats().running === 0, 'the blocked task finishes')
    t.like(handler.stats(), { completed: 1, cancelled: 14 })
    await handler.stop()
  })

  test(`${name}: a validateArgs hook that submits tasks itself leaves the map's batch intact`, async (t) => {
    let handler: ReturnType<typeof faults>
    handler = faults({
      validateArgs: (j: Job) => {
        if (j.value === 5) void handler.submit(ok('side task'))
        return true
      },
    })
    await handler.start(2)
    const values: unknown[] = []
    for await (const value of handler.map(Array.from({ length: 10 }, (_, i) => ok(i)), { window: 16 })) values.push(value)
    t.deepEqual(values, Array.from({ length: 10 }, (_, i) => i))
    const [results] = await handler.processResults(1)
    t.deepEqual(results, ['side task'])
    await handler.stop()
  })

  test(`${name}: run resolves one task's result through the hooks and rejects with the final failure or ERR_QDMP_DISCARDED`, async (t) => {
    let attempts = 0
    const handler = faults({
      validateArgs: (j: Job) => j.value !== 'invalid',
      validateResult: (r: unknown) => r !== 'unwanted',
      handleError: (_e: Error, job: Job) => (++attempts < 2 ? [true, job, null] : [false, null, new ProcessingException(_e, _e.stack, job)]),
    })
    await handler.start(2)
    t.is(await handler.run(ok(42)), 42)
    const failure = await t.throwsAsync(handler.run({ kind: 'throw', value: 'x' }))
    t.true(failure instanceof ProcessingException)
    t.is(attempts, 2, 'handleError retried it once before reporting')
    const args = await t.throwsAsync(handler.run(ok('invalid')))
    t.is((args as QdmpError).code, 'ERR_QDMP_DISCARDED')
    const result = await t.throwsAsync(handler.run(ok('unwanted')))
    t.is((result as QdmpError).code, 'ERR_QDMP_DISCARDED')
    const [many] = [await Promise.all([1, 2, 3, 4, 5].map((v) => handler.run(ok(v))))]
    t.deepEqual(many, [1, 2, 3, 4, 5])
    await handler.stop()
  })

  test(`${name}: aborting run cancels the task, queued or running, with ERR_QDMP_ABORTED and no late result`, async (t) => {
    const handler = faults({ logger: {} })
    await handler.start(1)
    const running = new AbortController()
    const queued = new AbortController()
    const first = handler.run({ kind: 'spin' }, { signal: running.signal })
    const second = handler.run(ok('never'), { signal: queued.signal })
    await eventually(() => handler.stats().running === 1, 'the first task runs')
    queued.abort()
    t.is(((await t.throwsAsync(second)) as QdmpError).code, 'ERR_QDMP_ABORTED')
    running.abort()
    t.is(((await t.throwsAsync(first)) as QdmpError).code, 'ERR_QDMP_ABORTED')
    t.is(await handler.run(ok('after')), 'after', 'the worker was replaced')
    t.like(handler.stats(), { cancelled: 2 })
    await handler.stop()
  })

  test(`${name}: submit waits while the queue is full and proceeds; addTasks past maxQueue throws ERR_QDMP_QUEUE_FULL`, async (t) => {
    const { file, open } = gate()
    const handler = faults({ maxQueue: 2 })
    await handler.start(1)
    t.true(await handler.submit({ kind: 'block', file, value: 0 }))
    await eventually(() => handler.stats().running === 1, 'the worker holds the blocked task')
    t.true(await handler.submit(ok(1)))
    t.true(await handler.submit(ok(2)))
    let third = false
    const waiting = handler.submit(ok(3)).then((queued) => (third = queued))
    await new Promise((resolve) => setTimeout(resolve, 100))
    t.false(third, 'still waiting: the queue holds 2')
    const error = t.throws(() => handler.addTasks([ok(4), ok(5)])) as QdmpError & { accepted: number; index: number; unqueued: Job }
    t.is(error.code, 'ERR_QDMP_QUEUE_FULL')
    t.is(error.accepted, 0)
    t.is(error.index, 0)
    t.deepEqual(error.unqueued, ok(4))
    open()
    await waiting
    t.true(third)
    const [results] = await handler.processResults()
    t.deepEqual((results as number[]).sort(), [0, 1, 2, 3])
    t.is(handler.addTasks([ok(6), ok(7)]), 2, 'exactly maxQueue arguments fit')
    await handler.processResults()
    await handler.stop()
  })

  test(`${name}: results() and processResults() share the outcomes: each is delivered exactly once`, async (t) => {
    const handler = faults()
    await handler.start(2)
    handler.addTasks(Array.from({ length: 40 }, (_, i) => ok(i)))
    const [some] = await handler.processResults(10)
    const iterator = handler.results()
    const streamed: unknown[] = []
    for (let i = 0; i < 30; i++) {
      const { value } = await iterator.next()
      streamed.push((value as { status: string; value: unknown }).value)
    }
    t.deepEqual([...some, ...streamed].sort((a, b) => (a as number) - (b as number)), Array.from({ length: 40 }, (_, i) => i))
    const later = iterator.next()
    await handler.stop()
    t.deepEqual(await later, { done: true, value: undefined }, 'the iteration ends when the handler stops')
  })

  test(`${name}: pipeline(source, handler.stream(), sink) respects a slow sink: the source is paused`, async (t) => {
    const handler = faults()
    await handler.start(2)
    let produced = 0
    let consumed = 0
    let maxAhead = 0
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 200; i++) {
          produced++
          maxAhead = Math.max(maxAhead, produced - consumed)
          yield ok(i)
        }
      })(),
      { highWaterMark: 4 },
    )
    const seen: unknown[] = []
    const sink = new Writable({
      objectMode: true,
      highWaterMark: 2,
      write(chunk, _encoding, callback) {
        seen.push(chunk)
        consumed++
        setTimeout(callback, 2)
      },
    })
    await pipeline(source, handler.stream({ window: 8 }), sink)
    t.deepEqual(seen, Array.from({ length: 200 }, (_, i) => i))
    // Window 8, plus the stream buffers (16 readable + 16 writable by default) and the ends' own.
    t.true(maxAhead <= 8 + 16 + 16 + 4 + 2 + 2, `the source ran ${maxAhead} items ahead of the sink`)
    await handler.stop()
  })

  test(`${name}: stopping the handler ends a running map with ERR_QDMP_CANCELLED; its tasks are not in unprocessed`, async (t) => {
    const { file, open } = gate()
    const handler = faults()
    await handler.start(1)
    const settled = handler.mapSettled([{ kind: 'block', file, value: 0 }, ok(1), ok(2)], { window: 3 })
    const first = settled.next()
    await eventually(() => handler.stats().running === 1, 'the map runs')
    const stopping = handler.stop()
    open()
    const { unprocessed } = await stopping
    t.deepEqual(unprocessed, [], "the map's queued tasks went back to the map")
    const outcomes = [(await first).value]
    for await (const outcome of settled) outcomes.push(outcome)
    t.deepEqual(outcomes.map((o) => o!.status), ['fulfilled', 'rejected', 'rejected'])
    t.deepEqual(outcomes.slice(1).map((o) => (o as { reason: ProcessingException }).reason.code), ['ERR_QDMP_CANCELLED', 'ERR_QDMP_CANCELLED'])
  })
}

test('a bad map source or window is refused with ERR_QDMP_INVALID_ARGUMENT', async (t) => {
  const { make: Pool } = poolKinds[0]
  const handler = new Pool((x: number) => x)
  await handler.start(1)
  t.throws(() => handler.map(42 as never), { code: 'ERR_QDMP_INVALID_ARGUMENT' } as never)
  t.throws(() => handler.map([1], { window: 0 }), { code: 'ERR_QDMP_INVALID_ARGUMENT' } as never)
  t.throws(() => handler.map([1], { ordered: 'yes' as never }), { code: 'ERR_QDMP_INVALID_ARGUMENT' } as never)
  await t.throwsAsync(handler.submit(1, { signal: 'abort' as never }), { code: 'ERR_QDMP_INVALID_ARGUMENT' } as never)
  await handler.stop()
  t.throws(() => handler.map([1]), { code: 'ERR_QDMP_STOPPED' } as never)
  await t.throwsAsync(handler.run(1), { code: 'ERR_QDMP_STOPPED' } as never)
})
