import { spawnSync } from 'node:child_process'

import test from 'ava'

import { ThreadPoolHandler } from '../dist/index.mjs'

import { fixture } from './helpers.js'

type Job = { kind: 'sleep'; ms: number; value: number }
const sleep = (ms: number, value: number): Job => ({ kind: 'sleep', ms, value })

test('stop() lets running tasks finish, keeps their results, and returns queued arguments', async (t) => {
  const handler = new ThreadPoolHandler<Job>(fixture('failures.mjs'))
  await handler.start(1)
  handler.addTasks([sleep(150, 1), sleep(0, 2), sleep(0, 3)])
  await handler.processResults(1, { wait: false }) // the first task is on its way
  while (handler.stats().running === 0) await new Promise((resolve) => setImmediate(resolve))
  const { unprocessed } = await handler.stop()
  t.deepEqual(unprocessed, [sleep(0, 2), sleep(0, 3)])
  t.deepEqual(await handler.processResults(), [[1], []], 'the running task finished and is collectable after stop')
  t.like(handler.stats(), { completed: 1, cancelled: 2, pending: 0, running: 0 })
})

test('stop({ force: true }) ends workers at once and returns the running arguments too, with no late result', async (t) => {
  const handler = new ThreadPoolHandler<Job>(fixture('failures.mjs'))
  await handler.start(2)
  handler.addTasks([sleep(60_000, 1), sleep(60_000, 2), sleep(0, 3), sleep(0, 4)])
  while (handler.stats().running < 2) await new Promise((resolve) => setImmediate(resolve))
  const started = Date.now()
  const { unprocessed } = await handler.stop({ force: true })
  t.true(Date.now() - started < 5_000, 'did not wait for the hour-long tasks')
  t.deepEqual(
    (unprocessed as Job[]).map((j) => j.value).sort(),
    [1, 2, 3, 4],
  )
  t.deepEqual(await handler.processResults(), [[], []])
  t.like(handler.stats(), { cancelled: 4, running: 0, pending: 0 })
})

test('stop() is idempotent and force escalates a graceful stop in progress', async (t) => {
  const handler = new ThreadPoolHandler<Job>(fixture('failures.mjs'))
  await handler.start(1)
  handler.addTasks([sleep(60_000, 1), sleep(0, 2)])
  while (handler.stats().running === 0) await new Promise((resolve) => setImmediate(resolve))
  const graceful = handler.stop()
  const forced = handler.stop({ force: true })
  t.is(graceful, forced, 'the same promise')
  const result = await graceful
  t.deepEqual((result.unprocessed as Job[]).map((j) => j.value).sort(), [1, 2])
  t.is(await handler.stop(), result, 'after it finished too')
})

test('a retry asked for while stopping comes back as unprocessed', async (t) => {
  const handler = new ThreadPoolHandler<Job | { kind: 'throw-type' }>(fixture('failures.mjs'), {
    handleError: () => [true, sleep(0, 99), null],
  })
  await handler.start(1)
  handler.addTasks([{ kind: 'sleep', ms: 100, value: 0 }, { kind: 'throw-type' }])
  while (handler.stats().running === 0) await new Promise((resolve) => setImmediate(resolve))
  // Stop while task 1 runs: task 2 is queued and comes back as it was.
  const { unprocessed } = await handler.stop()
  t.deepEqual(unprocessed, [{ kind: 'throw-type' }])

  const failing = new ThreadPoolHandler<{ kind: string; ms?: number }>(fixture('failures.mjs'), {
    handleError: () => [true, { kind: 'ok' }, null],
  })
  await failing.start(1)
  failing.addTasks([{ kind: 'reject' }])
  while (failing.stats().running === 0) await new Promise((resolve) => setImmediate(resolve))
  const stopped = await failing.stop()
  t.deepEqual(stopped.unprocessed, [{ kind: 'ok' }], 'the retry of a task that failed during the stop')
  t.like(failing.stats(), { cancelled: 1, failed: 0 })
})

test('stop() on a handler that never started resolves with nothing', async (t) => {
  t.deepEqual(await new ThreadPoolHandler((x: number) => x).stop(), { unprocessed: [] })
})

test('after stop() nothing keeps Node alive: the process exits on its own', (t) => {
  const script = `
    import { ThreadPoolHandler } from ${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)}
    const handler = new ThreadPoolHandler((x) => x * 2)
    await handler.start(2)
    handler.addTasks([1, 2, 3])
    const [results] = await handler.processResults()
    await handler.stop()
    console.log(JSON.stringify(results.sort()))
  `
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 })
  t.is(run.status, 0, run.stderr)
  t.is(run.stdout.trim(), '[2,4,6]')
})

test('an idle handler does not keep Node alive even without stop()', (t) => {
  const script = `
    import { ThreadPoolHandler } from ${JSON.stringify(new URL('../dist/index.mjs', import.meta.url).href)}
    const handler = new ThreadPoolHandler((x) => x + 1)
    await handler.start(1)
    handler.addTasks([1])
    console.log(JSON.stringify(await handler.processResults()))
  `
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 })
  t.is(run.status, 0, run.stderr)
  t.is(run.stdout.trim(), '[[2],[]]')
})
