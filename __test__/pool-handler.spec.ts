import { writeFileSync } from 'node:fs'

import test from 'ava'

import { PoolHandler, QdmpError } from '../dist/index.mjs'

import { eventually, fixture, gate } from './helpers.js'

type Lookup = { kind?: string; word?: string }
type Found = { id: number; workerId: number; stateWorkerId: number; pid: number; instance: string; setups: number }

for (const isolation of ['process', 'thread'] as const) {
  test(`${isolation}: setup runs once per worker and every task gets that worker's state and id`, async (t) => {
    const handler = new PoolHandler<Lookup, Found>(fixture('stateful.mjs'), { isolation, execArgv: [] })
    t.is(handler.isolation, isolation)
    await handler.start(2)
    handler.addTasks(Array.from({ length: 20 }, (_, i) => ({ word: i % 2 ? 'hello' : 'world' })))
    const [results, errors] = await handler.processResults()
    t.deepEqual(errors, [])
    t.is(results.length, 20)
    t.deepEqual([...new Set(results.map((r) => r.id))].sort(), [1, 2])
    for (const r of results) {
      t.is(r.workerId, r.stateWorkerId, 'the state is the one its own worker built')
      t.is(r.setups, 1, 'one setup per worker (each worker has its own module instance)')
    }
    t.true(new Set(results.map((r) => r.instance)).size <= 2)
    if (isolation === 'process') t.true(results.every((r) => r.pid !== process.pid))
    await handler.stop()
  })

  test(`${isolation}: setup runs again in a replacement worker`, async (t) => {
    const handler = new PoolHandler<Lookup, Found>(fixture('stateful.mjs'), { isolation, execArgv: [], logger: {} })
    await handler.start(1)
    handler.addTasks([{ word: 'hello' }])
    const [[before]] = await handler.processResults()
    handler.addTasks([{ kind: 'exit' }, { word: 'hello' }])
    const [[after], [crash]] = await handler.processResults()
    t.is(crash!.code, 'ERR_QDMP_WORKER_EXITED')
    t.not(after!.instance, before!.instance, 'a new worker...')
    t.is(after!.setups, 1, '...that ran its own setup')
    await handler.stop()
  })

  test(`${isolation}: a setup that throws makes start() reject with ERR_QDMP_SETUP_FAILED naming the worker and the cause`, async (t) => {
    const handler = new PoolHandler(fixture('setup-throws.mjs'), { isolation, execArgv: [] })
    const error = await t.throwsAsync(handler.start(2))
    t.is((error as QdmpError).code, 'ERR_QDMP_SETUP_FAILED')
    t.regex(error!.message, /setup\(\) failed on worker [01].*no model for worker [01]/)
    t.regex(error!.message, /setup-throws\.mjs/)
    t.is(((error as QdmpError & { cause: Error }).cause).message.startsWith('no model for worker'), true)
    t.is(handler.workerCount, 0)
    t.deepEqual(await handler.stop(), { unprocessed: [] })
  })
}

test('the inline form { setup, run } ships both functions and keeps state per worker', async (t) => {
  const handler = new PoolHandler<string, string, { prefix: string; count: number }>(
    {
      setup: async (workerId) => ({ prefix: `w${workerId}`, count: 0 }),
      run: (word, state) => {
        state.count++
        return `${state.prefix}:${word}:${state.count}`
      },
    },
    { isolation: 'thread', execArgv: [] },
  )
  await handler.start(1)
  handler.addTasks(['a', 'b', 'c'])
  t.deepEqual(await handler.processResults(), [['w0:a:1', 'w0:b:2', 'w0:c:3'], []])
  await handler.stop()
})

test('a module without a setup export runs its tasks with an undefined state', async (t) => {
  const handler = new PoolHandler<number, number>(fixture('square.mjs'), { execArgv: [] })
  await handler.start(1)
  handler.addTasks([3])
  t.deepEqual(await handler.processResults(), [[9], []])
  await handler.stop()
})

test('a worker whose setup keeps failing is not respawned in a tight loop; the handler then fails queued tasks and says why', async (t) => {
  const { file } = gate()
  process.env.QDMP_TEST_FAIL_FLAG = file
  const errors: string[] = []
  const handler = new PoolHandler<string, string>(fixture('setup-fails-later.mjs'), {
    isolation: 'thread',
    execArgv: [],
    logger: { error: (m: string) => void errors.push(m) },
  })
  await handler.start(1)
  handler.addTasks(['fine'])
  t.deepEqual(await handler.processResults(), [['fine'], []])
  writeFileSync(file, '') // from now on every setup fails
  const began = Date.now()
  handler.addTasks(['crash', 'queued'])
  const [, failures] = await handler.processResults()
  const elapsed = Date.now() - began
  t.true(elapsed > 1500, `gave up after ${elapsed} ms: the retries were spaced out`)
  t.deepEqual(failures.map((f) => f.code), ['ERR_QDMP_WORKER_EXITED', 'ERR_QDMP_SETUP_FAILED'])
  t.is(failures[1]!.args, 'queued')
  t.regex((failures[1]!.exception as Error).message, /the model file is gone/)
  t.true(errors.some((e) => /failed to start 5 times in a row/.test(e)))
  const refused = t.throws(() => handler.addTasks(['more'])) as QdmpError
  t.is(refused.code, 'ERR_QDMP_SETUP_FAILED')
  t.regex(refused.message, /no worker can start/)
  await handler.stop()
  delete process.env.QDMP_TEST_FAIL_FLAG
})

// Processes learn that they are idle too long when they ask the engine to look again (every 50 ms).
// The idle timeout leaves room for a loaded machine: with 300 ms, a CI run under the whole suite
// saw a worker retire before the first reset (the first task and its result took that long).
for (const isolation of ['thread', 'process'] as const) {
  test(`${isolation}: idle workers exit after idleTimeout and start again (with setup) when work arrives; resetSanityTimer keeps them`, async (t) => {
    const handler = new PoolHandler<Lookup, Found>(fixture('stateful.mjs'), { isolation, execArgv: [], idleTimeout: 1000 })
    await handler.start(2)
    handler.addTasks([{ word: 'hello' }])
    const [[first]] = await handler.processResults()
    for (let i = 0; i < 15; i++) {
      handler.resetSanityTimer()
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    t.deepEqual(handler.checkProcesses().exitCodes, [null, null], 'reset clocks: still running after 1,500 ms')
    await eventually(() => handler.checkProcesses().allExited, 'both workers exit for idleness', 5000)
    t.deepEqual(handler.checkProcesses().exitCodes, [0, 0])
    handler.addTasks([{ word: 'world' }])
    const [[again]] = await handler.processResults()
    t.is(again!.id, 2)
    t.not(again!.instance, first!.instance, 'a new worker, with its own setup')
    await handler.stop()
  })
}

test('invalid isolation and idleTimeout are refused with ERR_QDMP_INVALID_OPTION naming the option', (t) => {
  const cases: [Record<string, unknown>, RegExp, typeof TypeError][] = [
    [{ isolation: 'fiber' }, /options\.isolation must be "process" or "thread"/, TypeError],
    [{ idleTimeout: -1 }, /options\.idleTimeout/, RangeError],
    [{ idleTimeout: '1s' }, /options\.idleTimeout/, TypeError],
    [{ isolation: 'process', resourceLimits: { codeRangeSizeMb: 4 } }, /child processes support/, TypeError],
  ]
  for (const [options, message, type] of cases) {
    const error = t.throws(() => new PoolHandler(fixture('stateful.mjs'), options as never), { instanceOf: type })
    t.is((error as unknown as QdmpError).code, 'ERR_QDMP_INVALID_OPTION')
    t.regex(error!.message, message)
  }
  const target = t.throws(() => new PoolHandler({ setup: 1, run: () => 1 } as never))
  t.is((target as QdmpError).code, 'ERR_QDMP_INVALID_TARGET')
  t.notThrows(() => new PoolHandler(fixture('stateful.mjs'), { isolation: 'thread', resourceLimits: { codeRangeSizeMb: 4 } }))
})

for (const isolation of ['process', 'thread'] as const) {
  test(`${isolation}: taskTimeout stops a frozen task; its replacement worker runs setup again`, async (t) => {
    const handler = new PoolHandler<{ kind: string }, Found>(
      {
        setup: (workerId) => ({ workerId, started: Date.now() + Math.random() }),
        run: (job: { kind: string }, state: { started: number }) => {
          if (job.kind === 'spin') for (;;) {}
          return state.started as never
        },
      },
      { isolation, execArgv: [], taskTimeout: 300 },
    )
    await handler.start(1)
    handler.addTasks([{ kind: 'ok' }])
    const [[before]] = await handler.processResults()
    handler.addTasks([{ kind: 'spin' }, { kind: 'ok' }])
    const [[after], [timedOut]] = await handler.processResults()
    t.is(timedOut!.code, 'ERR_QDMP_TASK_TIMEOUT')
    t.not(after, before, 'the replacement built a new state')
    await handler.stop()
  })
}
