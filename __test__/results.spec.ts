import test from 'ava'

import { fixture, poolKinds, gate } from './helpers.js'

type Job = { kind: 'sleep'; ms: number; value: number } | { kind: 'ok'; value: number } | { kind: 'block'; file: string; value: number }

for (const { name, make: Pool, options } of poolKinds) {
  test(`${name}: each result is returned exactly once across calls (the Python version returned old ones again)`, async (t) => {
    const handler = new Pool((x: number) => x, options)
    await handler.start(2)
    handler.addTasks([1, 2, 3])
    const [first] = await handler.processResults()
    t.deepEqual(first.sort(), [1, 2, 3])
    t.deepEqual(await handler.processResults(), [[], []], 'nothing is returned twice')
    handler.addTasks([4])
    t.deepEqual(await handler.processResults(), [[4], []])
    await handler.stop()
  })

  test(`${name}: processResults() with no count waits for every task added so far`, async (t) => {
    const handler = new Pool<Job>(fixture('failures.mjs'), options)
    await handler.start(2)
    handler.addTasks([
      { kind: 'sleep', ms: 60, value: 1 },
      { kind: 'ok', value: 2 },
      { kind: 'sleep', ms: 30, value: 3 },
    ])
    const [results] = await handler.processResults()
    t.deepEqual(results.sort(), [1, 2, 3])
    t.like(handler.stats(), { pending: 0, running: 0, completed: 3 })
    await handler.stop()
  })

  test(`${name}: processResults(count) resolves as soon as that many are ready, and never with more`, async (t) => {
    const handler = new Pool<Job>(fixture('failures.mjs'), options)
    await handler.start(2)
    handler.addTasks([{ kind: 'ok', value: 1 }, { kind: 'ok', value: 2 }, { kind: 'sleep', ms: 200, value: 3 }])
    const [two] = await handler.processResults(2)
    t.deepEqual(two.sort(), [1, 2])
    const s = handler.stats()
    t.is(s.pending + s.running + s.completed, 3, 'the third task is still on its way, not lost')
    const [rest] = await handler.processResults(5)
    t.deepEqual(rest, [3], 'fewer than count once nothing is outstanding')
    await handler.stop()
  })

  test(`${name}: processResults(count, { wait: false }) returns what is ready without waiting`, async (t) => {
    const { file, open } = gate()
    const handler = new Pool<Job>(fixture('failures.mjs'), options)
    await handler.start(1)
    handler.addTasks([{ kind: 'block', file, value: 1 }])
    t.deepEqual(await handler.processResults(10, { wait: false }), [[], []])
    open()
    t.deepEqual(await handler.processResults(10), [[1], []])
    await handler.stop()
  })

  test(`${name}: processResults counts errors as outcomes and keeps completion order within each list`, async (t) => {
    const handler = new Pool<Job | { kind: 'throw-type'; value: number }>(fixture('failures.mjs'), options)
    await handler.start(1)
    handler.addTasks([
      { kind: 'ok', value: 1 },
      { kind: 'throw-type', value: 2 },
      { kind: 'ok', value: 3 },
    ])
    const [results, errors] = await handler.processResults(2)
    t.is(results.length + errors.length, 2)
    const [more, moreErrors] = await handler.processResults()
    t.deepEqual([...results, ...more], [1, 3], 'one worker: completion order is submission order')
    t.is(errors.length + moreErrors.length, 1)
    await handler.stop()
  })

  test(`${name}: two concurrent processResults calls never share an outcome`, async (t) => {
    const handler = new Pool((x: number) => x, options)
    await handler.start(2)
    handler.addTasks(Array.from({ length: 200 }, (_, i) => i))
    const [[a], [b]] = await Promise.all([handler.processResults(50), handler.processResults()])
    t.is(a.length, 50)
    t.deepEqual([...a, ...b].sort((x, y) => x - y), Array.from({ length: 200 }, (_, i) => i))
    await handler.stop()
  })

  test(`${name}: processResults before start resolves empty; a bad count is rejected with ERR_QDMP_INVALID_ARGUMENT`, async (t) => {
    const handler = new Pool((x: number) => x, options)
    t.deepEqual(await handler.processResults(), [[], []])
    for (const count of [0, -1, 1.5, Number.NaN, '3']) {
      const error = await t.throwsAsync(handler.processResults(count as number))
      t.is((error as { code?: string }).code, 'ERR_QDMP_INVALID_ARGUMENT', String(count))
    }
    const error = await t.throwsAsync(handler.processResults(1, { wait: 'no' as never }))
    t.is((error as { code?: string }).code, 'ERR_QDMP_INVALID_ARGUMENT')
  })

  test(`${name}: stats() is consistent: every accepted task is in exactly one state`, async (t) => {
    const handler = new Pool<Job>(fixture('failures.mjs'), { ...options, validateArgs: (j) => j.value !== 0 })
    await handler.start(2)
    handler.addTasks(Array.from({ length: 300 }, (_, i) => ({ kind: 'sleep' as const, ms: i % 3, value: i })))
    let checks = 0
    for (;;) {
      const s = handler.stats()
      t.is(s.submitted, s.accepted + s.discardedArgs)
      t.is(s.accepted, s.pending + s.running + s.completed + s.failed + s.discardedResults + s.cancelled)
      checks++
      if (s.completed === 299) break
      await handler.processResults(10)
    }
    t.true(checks > 1)
    await handler.stop()
  })

}
