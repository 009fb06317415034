import { spawnSync } from 'node:child_process'

import test from 'ava'

import { ThreadPoolHandler } from '../dist/index.mjs'

import { eventually, fixture, gate, poolKinds } from './helpers.js'

type Job =
  | { kind: 'block'; file: string; value?: number; then?: 'throw' }
  | { kind: 'ok'; value: number }
  | { kind: 'sleep'; ms: number; value: number }

for (const { name, make: Pool, options } of poolKinds) {
  test(`${name}: stop() lets running tasks finish, keeps their results, and returns queued arguments`, async (t) => {
    const { file, open } = gate()
    const handler = new Pool<Job>(fixture('failures.mjs'), options)
    await handler.start(1)
    handler.addTasks([{ kind: 'block', file, value: 1 }, { kind: 'ok', value: 2 }, { kind: 'ok', value: 3 }])
    await eventually(() => handler.stats().running === 1, 'the first task runs')
    const stopping = handler.stop()
    open()
    const { unprocessed } = await stopping
    t.deepEqual(unprocessed, [{ kind: 'ok', value: 2 }, { kind: 'ok', value: 3 }])
    t.deepEqual(await handler.processResults(), [[1], []], 'the running task finished and is collectable after stop')
    t.like(handler.stats(), { completed: 1, cancelled: 2, pending: 0, running: 0 })
  })

  test(`${name}: tasks whose argument is undefined are cancelled and handed back like any other`, async (t) => {
    const { file, open } = gate()
    const handler = new Pool<Job | undefined>(fixture('failures.mjs'), options)
    await handler.start(1)
    handler.addTasks([{ kind: 'block', file, value: 1 }, undefined])
    const controller = new AbortController()
    const aborted = handler.run(undefined, { signal: controller.signal })
    await eventually(() => handler.stats().running === 1, 'the first task runs')
    controller.abort()
    await t.throwsAsync(aborted, { code: 'ERR_QDMP_ABORTED' } as never)
    t.like(handler.stats(), { cancelled: 1, pending: 1 })
    const stopping = handler.stop()
    open()
    t.deepEqual((await stopping).unprocessed, [undefined])
    t.like(handler.stats(), { cancelled: 2, completed: 1 })
  })

  test(`${name}: stop({ force: true }) ends workers at once and returns the running arguments too, with no late result`, async (t) => {
    const handler = new Pool<Job>(fixture('failures.mjs'), options)
    await handler.start(2)
    const hour = 3_600_000
    handler.addTasks([
      { kind: 'sleep', ms: hour, value: 1 },
      { kind: 'sleep', ms: hour, value: 2 },
      { kind: 'ok', value: 3 },
      { kind: 'ok', value: 4 },
    ])
    await eventually(() => handler.stats().running === 2, 'both workers run an hour-long task')
    const started = Date.now()
    const { unprocessed } = await handler.stop({ force: true })
    t.true(Date.now() - started < 5_000, 'did not wait for the hour-long tasks')
    t.deepEqual((unprocessed as { value: number }[]).map((j) => j.value).sort(), [1, 2, 3, 4])
    t.deepEqual(await handler.processResults(), [[], []])
    t.like(handler.stats(), { cancelled: 4, running: 0, pending: 0 })
  })

  test(`${name}: stop() is idempotent and force escalates a graceful stop in progress`, async (t) => {
    const { file } = gate() // never opened: only force can end this task
    const handler = new Pool<Job>(fixture('failures.mjs'), options)
    await handler.start(1)
    handler.addTasks([{ kind: 'block', file, value: 1 }, { kind: 'ok', value: 2 }])
    await eventually(() => handler.stats().running === 1, 'the blocked task runs')
    const graceful = handler.stop()
    const forced = handler.stop({ force: true })
    t.is(graceful, forced, 'the same promise')
    const result = await graceful
    t.deepEqual((result.unprocessed as { value: number }[]).map((j) => j.value).sort(), [1, 2])
    t.is(await handler.stop(), result, 'after it finished too')
  })

  test(`${name}: a retry asked for while stopping comes back as unprocessed`, async (t) => {
    const { file, open } = gate()
    const handler = new Pool<Job>(fixture('failures.mjs'), {
      ...options,
      handleError: () => [true, { kind: 'ok', value: 99 }, null],
    })
    await handler.start(1)
    handler.addTasks([{ kind: 'block', file, then: 'throw' }, { kind: 'ok', value: 2 }])
    await eventually(() => handler.stats().running === 1, 'the task that will fail runs')
    const stopping = handler.stop()
    open() // now it fails, while the handler stops: its retry can never run
    const { unprocessed } = await stopping
    t.deepEqual(unprocessed, [{ kind: 'ok', value: 2 }, { kind: 'ok', value: 99 }])
    t.like(handler.stats(), { cancelled: 2, failed: 0, running: 0 })
  })
}

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
