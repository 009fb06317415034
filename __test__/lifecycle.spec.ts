import { availableParallelism } from 'node:os'

import test from 'ava'

import { QdmpError, ThreadPoolHandler } from '../dist/index.mjs'

test('start() defaults to one worker per core and workerCount reports the slots', async (t) => {
  const handler = new ThreadPoolHandler((x: number) => x)
  t.is(handler.workerCount, 0)
  await handler.start()
  t.is(handler.workerCount, availableParallelism())
  await handler.stop()
  t.is(handler.workerCount, 0)
})

for (const [count, type] of [
  [0, RangeError],
  [-1, RangeError],
  [1.5, RangeError],
  [Number.NaN, RangeError],
  [100_000, RangeError],
  ['2', TypeError],
] as const) {
  test(`start(${typeof count === "string" ? JSON.stringify(count) : String(count)}) rejects with ERR_QDMP_INVALID_WORKER_COUNT and the handler still starts after`, async (t) => {
    const handler = new ThreadPoolHandler((x: number) => x + 1)
    const error = await t.throwsAsync(handler.start(count as number), { instanceOf: type })
    t.is((error as QdmpError).code, 'ERR_QDMP_INVALID_WORKER_COUNT')
    t.true(error instanceof QdmpError)
    t.true(error!.message.includes(String(count)), error!.message)
    await handler.start(1)
    handler.addTasks([1])
    t.deepEqual(await handler.processResults(), [[2], []])
    await handler.stop()
  })
}

test('a second start() while running rejects with ERR_QDMP_ALREADY_STARTED and changes nothing', async (t) => {
  const handler = new ThreadPoolHandler((x: number) => x)
  await handler.start(1)
  const error = await t.throwsAsync(handler.start(2))
  t.is((error as QdmpError).code, 'ERR_QDMP_ALREADY_STARTED')
  t.is(handler.workerCount, 1)
  handler.addTasks([1])
  t.deepEqual(await handler.processResults(), [[1], []])
  await handler.stop()
})

test('addTasks before start and after stop throws ERR_QDMP_NOT_STARTED / ERR_QDMP_STOPPED; start() revives it', async (t) => {
  const handler = new ThreadPoolHandler((x: number) => x)
  t.is((t.throws(() => handler.addTasks([1])) as QdmpError).code, 'ERR_QDMP_NOT_STARTED')
  const starting = handler.start(1)
  t.is((t.throws(() => handler.addTasks([1])) as QdmpError).code, 'ERR_QDMP_NOT_STARTED', 'while start() is pending')
  await starting
  await handler.stop()
  t.is((t.throws(() => handler.addTasks([1])) as QdmpError).code, 'ERR_QDMP_STOPPED')
  await handler.start(1)
  handler.addTasks([5])
  t.deepEqual(await handler.processResults(), [[5], []])
  await handler.stop()
})

test('addTasks of a non-iterable throws ERR_QDMP_INVALID_ARGUMENT and the handler keeps working', async (t) => {
  const handler = new ThreadPoolHandler((x: number) => x)
  await handler.start(1)
  for (const bad of [42, null, undefined, 'abc', { length: 2 }]) {
    const error = t.throws(() => handler.addTasks(bad as never), { instanceOf: TypeError })
    t.is((error as unknown as QdmpError).code, 'ERR_QDMP_INVALID_ARGUMENT', String(bad))
  }
  t.is(handler.addTasks(new Set([1, 2])), 2)
  t.is(
    handler.addTasks(
      (function* () {
        yield 3
      })(),
    ),
    1,
  )
  const [results] = await handler.processResults()
  t.deepEqual(results.sort(), [1, 2, 3])
  await handler.stop()
})

test('unknown or wrongly typed options throw ERR_QDMP_INVALID_OPTION naming the option', (t) => {
  const cases: [unknown, string, typeof TypeError][] = [
    [{ validateArg: () => true }, 'validateArg', TypeError],
    [{ validateArgs: true }, 'validateArgs', TypeError],
    [{ handleError: 'retry' }, 'handleError', TypeError],
    [{ maxRetries: -1 }, 'maxRetries', RangeError],
    [{ maxRetries: 1.5 }, 'maxRetries', RangeError],
    [{ maxRetries: '3' }, 'maxRetries', TypeError],
    [{ logger: 'console' }, 'logger', TypeError],
    [{ logger: { warn: 1 } }, 'logger', TypeError],
    [{ resourceLimits: { maxOldGenerationSizeMb: -5 } }, 'resourceLimits', RangeError],
    [{ resourceLimits: { heap: 5 } }, 'resourceLimits', TypeError],
    [{ execArgv: '--inspect' }, 'execArgv', TypeError],
    [{ execArgv: [1] }, 'execArgv', TypeError],
    ['options', 'options', TypeError],
  ]
  for (const [options, name, type] of cases) {
    const error = t.throws(() => new ThreadPoolHandler((x: number) => x, options as never), { instanceOf: type }) as unknown as QdmpError
    t.is(error.code, 'ERR_QDMP_INVALID_OPTION', name)
    t.true(error.message.includes(name), error.message)
  }
  const typo = t.throws(() => new ThreadPoolHandler((x: number) => x, { validateArg: () => true } as never))
  t.regex(typo!.message, /did you mean "validateArgs"/)
  const plural = t.throws(() => new ThreadPoolHandler((x: number) => x, { maxRetry: 3 } as never))
  t.regex(plural!.message, /did you mean "maxRetries"/)
})

test('QdmpError matches its TypeError and RangeError twins, and subclasses keep plain instanceof', (t) => {
  const error = t.throws(() => new ThreadPoolHandler(42 as never))
  t.true(error instanceof QdmpError)
  t.true(error instanceof TypeError)
  t.false(new Error('x') instanceof QdmpError)
  const fake = Object.assign(new Error('x'), { code: 'ERR_QDMP_STOPPED' })
  t.false(fake instanceof QdmpError, 'only errors qdmp raised are QdmpErrors')
})

test('stop() during a pending start() waits for the start, then stops', async (t) => {
  const handler = new ThreadPoolHandler((x: number) => x)
  const starting = handler.start(1)
  const stopping = handler.stop()
  await starting
  t.deepEqual(await stopping, { unprocessed: [] })
  t.is(handler.workerCount, 0)
  t.is((t.throws(() => handler.addTasks([1])) as QdmpError).code, 'ERR_QDMP_STOPPED')
})

test('start() while a stop is in progress rejects with ERR_QDMP_ALREADY_STARTED; after it, start() works', async (t) => {
  const handler = new ThreadPoolHandler((x: number) => x * 3)
  await handler.start(1)
  const stopping = handler.stop()
  const error = await t.throwsAsync(handler.start(1))
  t.is((error as QdmpError).code, 'ERR_QDMP_ALREADY_STARTED')
  t.regex(error!.message, /await stop\(\)/)
  await stopping
  await handler.start(1)
  handler.addTasks([2])
  t.deepEqual(await handler.processResults(), [[6], []])
  await handler.stop()
})
