import test from 'ava'

import {
  type Handler,
  ProcessingException,
  ProcessPoolHandler,
  QdmpError,
  TaskTimeoutError,
  ThreadPoolHandler,
  WorkerExitedError,
} from '../dist/index.mjs'

import { eventually, fixture, gate } from './helpers.js'

type Job = { kind: string; value?: unknown; ms?: number; file?: string; code?: number; signal?: string }
type Make = (options?: Record<string, unknown>) => Handler<Job, unknown>

// The fixtures are plain JavaScript: workers start without the TypeScript loader (`execArgv: []`),
// which keeps the many replacements these tests cause fast.
const kinds: [string, Make][] = [
  ['threads', (options = {}) => new ThreadPoolHandler<Job, unknown>(fixture('faults.mjs'), { execArgv: [], ...options })],
  ['processes', (options = {}) => new ProcessPoolHandler<Job, unknown>(fixture('faults.mjs'), { execArgv: [], ...options })],
]

/** A logger that records replacement times and warnings. */
function recorder() {
  const replaced: number[] = []
  const warnings: string[] = []
  return {
    replaced,
    warnings,
    logger: {
      debug: (m: string) => {
        const match = /replaced in ([\d.]+) ms/.exec(m)
        if (match) replaced.push(Number(match[1]))
      },
      warn: (m: string) => void warnings.push(m),
      error: (m: string) => void warnings.push(m),
    },
  }
}

for (const [kind, make] of kinds) {
  test(`${kind}: an endless loop past taskTimeout is stopped, reported as TaskTimeoutError, and its worker replaced`, async (t) => {
    const handler = make({ taskTimeout: 400, logger: recorder().logger })
    await handler.start(1)
    const began = Date.now()
    handler.addTasks([{ kind: 'spin', value: 'stuck' }, { kind: 'ok', value: 'after' }])
    const [results, errors] = await handler.processResults()
    t.true(Date.now() - began >= 400)
    t.deepEqual(results, ['after'], 'the queued task ran on the replacement')
    t.is(errors.length, 1)
    const error = errors[0]!
    t.is(error.code, 'ERR_QDMP_TASK_TIMEOUT')
    t.true(error.exception instanceof TaskTimeoutError)
    t.like(error.exception as TaskTimeoutError, { workerId: 0, timeoutMs: 400 })
    t.deepEqual(error.args, { kind: 'spin', value: 'stuck' })
    await handler.stop()
  })

  test(`${kind}: taskTimeout counts from pickup, not from submission`, async (t) => {
    const handler = make({ taskTimeout: 1000 })
    await handler.start(1)
    // Three tasks of 400 ms on one worker: the last one waits 800 ms in the queue first.
    handler.addTasks([1, 2, 3].map((value) => ({ kind: 'sleep', ms: 400, value })))
    const [results, errors] = await handler.processResults()
    t.deepEqual(errors, [])
    t.deepEqual(results, [1, 2, 3])
    await handler.stop()
  })

  // Serial: blocking this thread on purpose must not delay the timing-sensitive tests around it
  // (ava runs a file's tests in one thread; serial ones run before the others start).
  test.serial(`${kind}: a task that finished while the producer's event loop was blocked is not timed out for that delay`, async (t) => {
    // The limit leaves a loaded machine (the whole suite on 2 cores) a second to schedule the
    // worker and run the task; the block is well past it. (300 ms failed once in CI: the child
    // had not yet run the task when the watchdog looked, which is a real time-out.)
    const handler = make({ taskTimeout: 1000 })
    await handler.start(1)
    t.is(await handler.run({ kind: 'ok', value: 'warm' }), 'warm') // the worker now waits for work
    handler.addTasks([{ kind: 'ok', value: 'quick' }])
    // The task runs at once, but its outcome is read only once this thread is free again, well
    // past the limit (a child process's outcome waits in its socket meanwhile).
    const until = Date.now() + 2500
    while (Date.now() < until) {
      // blocked on purpose
    }
    t.deepEqual(await handler.processResults(), [['quick'], []])
    t.like(handler.stats(), { completed: 2, failed: 0 })
    await handler.stop()
  })

  test(`${kind}: handleError can retry a timed-out task with new arguments`, async (t) => {
    const handler = make({
      taskTimeout: 300,
      handleError: (error: Error, args: Job) => (error instanceof TaskTimeoutError ? [true, { kind: 'ok', value: `retried ${args.value}` }, null] : [false, null, null]),
    })
    await handler.start(1)
    handler.addTasks([{ kind: 'spin', value: 1 }])
    t.deepEqual(await handler.processResults(), [['retried 1'], []])
    t.like(handler.stats(), { retried: 1, completed: 1, failed: 0 })
    await handler.stop()
  })

  test(`${kind}: checkProcessTimeout reports only running tasks with their arguments, worker and start time; idle workers never`, async (t) => {
    const { file, open } = gate()
    const handler = make()
    await handler.start(2)
    t.deepEqual(handler.checkProcessTimeout(0), [], 'idle workers are not reported, however long idle')
    const before = Date.now()
    handler.addTasks([{ kind: 'block', file, value: 'held' }])
    await eventually(() => handler.stats().running === 1, 'the task runs')
    await new Promise((resolve) => setTimeout(resolve, 150))
    const running = handler.checkProcessTimeout(0.1)
    t.is(running.length, 1)
    t.deepEqual(running[0]!.args, { kind: 'block', file, value: 'held' })
    t.true(running[0]!.workerId === 0 || running[0]!.workerId === 1)
    t.true(running[0]!.startedAt.getTime() >= before - 50 && running[0]!.runningMs >= 100)
    t.deepEqual(handler.checkProcessTimeout(60), [], 'not past 60 s')
    open()
    t.deepEqual(await handler.processResults(), [['held'], []])
    t.deepEqual(handler.checkProcessTimeout(0), [])
    await handler.stop()
  })

  test(`${kind}: restartTimedOutChildren replaces the frozen worker and hands its task to handleError`, async (t) => {
    const seen: Error[] = []
    const handler = make({
      handleError: (error: Error, args: Job, traceback: string) => {
        seen.push(error)
        return [false, null, new ProcessingException(error, traceback, args)]
      },
    })
    await handler.start(2)
    handler.addTasks([{ kind: 'spin', value: 'frozen' }, { kind: 'ok', value: 'fine' }])
    await eventually(() => handler.checkProcessTimeout(0.2).length === 1, 'the frozen task is seen as running for 200 ms')
    t.is(handler.restartTimedOutChildren(0.2), 1)
    const [results, errors] = await handler.processResults()
    t.deepEqual(results, ['fine'])
    t.is(seen.length, 1, 'handleError saw the frozen task once')
    t.true(seen[0] instanceof TaskTimeoutError)
    t.is(errors.length, 1)
    t.is(errors[0]!.exception, seen[0], 'the report the hook returned')
    t.deepEqual(errors[0]!.args, { kind: 'spin', value: 'frozen' })
    t.is(handler.restartTimedOutChildren(0), 0, 'nothing runs now')
    await handler.stop()
  })

  test(`${kind}: cancelProcesses really cancels: a queued task never runs, a running one's worker is ended, no late result`, async (t) => {
    const { file, open } = gate()
    const handler = make()
    await handler.start(1)
    handler.addTasks([{ kind: 'block', file, value: 'running' }, { kind: 'ok', value: 'queued' }])
    await eventually(() => handler.stats().running === 1, 'the first task runs')
    const [running] = handler.checkProcessTimeout(0)
    const reports = handler.cancelProcesses([running!])
    t.like(reports[0]!, { status: 'cancelled', wasRunning: true, args: { kind: 'block', file, value: 'running' } })
    open()
    t.deepEqual(await handler.processResults(), [['queued'], []], 'only the other task reports')
    t.deepEqual(handler.cancelProcesses([running!])[0]!.status, 'unknown', 'cancelling twice does nothing')
    t.like(handler.stats(), { cancelled: 1, completed: 1, pending: 0, running: 0 })
    await handler.stop()
  })

  test(`${kind}: cancelProcesses on queued, settled and foreign tasks gives a clear no-op result`, async (t) => {
    const { file, open } = gate()
    const handler = make()
    const other = make()
    await Promise.all([handler.start(1), other.start(1)])
    handler.addTasks([{ kind: 'block', file, value: 1 }, { kind: 'ok', value: 2 }])
    other.addTasks([{ kind: 'block', file, value: 3 }])
    await eventually(() => handler.stats().running === 1 && other.stats().running === 1, 'both run')
    const mine = handler.checkProcessTimeout(0)
    const theirs = other.checkProcessTimeout(0)
    const reports = handler.cancelProcesses([...theirs, { taskId: mine[0]!.taskId + 1 } as never, null as never])
    t.deepEqual(reports.map((r) => r.status), ['foreign', 'foreign', 'foreign'])
    open()
    const [results] = await handler.processResults()
    t.deepEqual(results.sort(), [1, 2])
    t.deepEqual(handler.cancelProcesses(mine).map((r) => r.status), ['unknown'], 'collected already')
    t.deepEqual(await other.processResults(), [[3], []], 'the other handler was not touched')
    t.throws(() => handler.cancelProcesses(42 as never), { code: 'ERR_QDMP_INVALID_ARGUMENT' } as never)
    await Promise.all([handler.stop(), other.stop()])
  })

  test(`${kind}: checkProcesses reports one entry per slot, null while running, exit codes after`, async (t) => {
    const handler = make({ logger: {} })
    t.deepEqual(handler.checkProcesses(), { error: false, allError: false, exited: false, allExited: false, exitCodes: [] })
    await handler.start(2)
    t.deepEqual(handler.checkProcesses(), { error: false, allError: false, exited: false, allExited: false, exitCodes: [null, null] })
    handler.addTasks([{ kind: 'exit', code: 5 }])
    await handler.processResults()
    await eventually(() => handler.checkProcesses().exitCodes.every((c) => c === null), 'the dead worker is replaced')
    await handler.stop()
    t.deepEqual(handler.checkProcesses(), { error: false, allError: false, exited: true, allExited: true, exitCodes: [0, 0] })
  })

  test(`${kind}: a graceful stop with a frozen worker ends it after stop({ timeout }) and returns its arguments`, async (t) => {
    const handler = make()
    await handler.start(1)
    handler.addTasks([{ kind: 'spin', value: 'frozen' }, { kind: 'ok', value: 'queued' }])
    await eventually(() => handler.stats().running === 1, 'the frozen task runs')
    const began = Date.now()
    const { unprocessed } = await handler.stop({ timeout: 300 })
    t.true(Date.now() - began < 10_000)
    t.deepEqual(
      (unprocessed as Job[]).map((j) => j.value).sort(),
      ['frozen', 'queued'],
    )
    t.true(handler.checkProcesses().allExited)
  })
}

// How fast a replacement comes is measured by bench/soak.mjs (a timing claim has no place in a
// unit test on a shared machine); these tests check that each dead worker is replaced.
test('threads: a worker that dies mid-task (exit, uncaught error, out of memory) is replaced; queued tasks are unaffected', async (t) => {
  const { replaced, logger } = recorder()
  const handler = new ThreadPoolHandler<Job, unknown>(fixture('faults.mjs'), {
    execArgv: [],
    logger,
    resourceLimits: { maxOldGenerationSizeMb: 32 },
  })
  await handler.start(1)
  handler.addTasks([{ kind: 'exit', code: 7 }, { kind: 'uncaught' }, { kind: 'oom' }, { kind: 'ok', value: 'survived' }])
  const [results, errors] = await handler.processResults()
  t.deepEqual(results, ['survived'])
  t.deepEqual(errors.map((e) => e.code), ['ERR_QDMP_WORKER_EXITED', 'ERR_QDMP_WORKER_EXITED', 'ERR_QDMP_WORKER_EXITED'])
  const exits = errors.map((e) => e.exception as WorkerExitedError)
  t.is(exits[0]!.exitCode, 7)
  t.is((exits[1]!.cause as Error).message, 'uncaught in a callback')
  t.is((exits[2]!.cause as { code?: string }).code, 'ERR_WORKER_OUT_OF_MEMORY')
  t.deepEqual(errors.map((e) => (e.args as Job).kind), ['exit', 'uncaught', 'oom'])
  // A replacement takes its first task from the engine before this thread has handled its 'ready'
  // message, so the last replacement may be logged just after the results arrive.
  await eventually(() => replaced.length === 3, 'three replacements are logged')
  await handler.stop()
  t.is(replaced.length, 3, 'one replacement per dead worker')
})

test('processes: a child killed by SIGKILL or crashing with SIGSEGV fails its task with the signal and is replaced', async (t) => {
  const { replaced, logger } = recorder()
  const handler = new ProcessPoolHandler<Job, unknown>(fixture('faults.mjs'), { execArgv: [], logger })
  await handler.start(1)
  handler.addTasks([{ kind: 'signal', signal: 'SIGKILL' }, { kind: 'signal', signal: 'SIGSEGV' }, { kind: 'exit', code: 2 }, { kind: 'ok', value: 'survived' }])
  const [results, errors] = await handler.processResults()
  t.deepEqual(results, ['survived'])
  const exits = errors.map((e) => e.exception as WorkerExitedError)
  t.deepEqual(exits.map((e) => [e.signal, e.exitCode]), [['SIGKILL', null], ['SIGSEGV', null], [null, 2]])
  // A replacement takes its first task from the engine before this thread has handled its 'ready'
  // message, so the last replacement may be logged just after the results arrive.
  await eventually(() => replaced.length === 3, 'three replacements are logged')
  await handler.stop()
  t.is(replaced.length, 3, 'one replacement per dead worker')
})

test('processes: workers really are separate processes', async (t) => {
  const handler = new ProcessPoolHandler<Job, { pid: number }>(fixture('faults.mjs'), { execArgv: [] })
  await handler.start(2)
  handler.addTasks(Array.from({ length: 20 }, (_, value) => ({ kind: 'whoami', value })))
  const [results] = await handler.processResults()
  const pids = new Set(results.map((r) => r.pid))
  t.false(pids.has(process.pid))
  t.true(pids.size >= 1 && pids.size <= 2)
  await handler.stop()
})

test('invalid taskTimeout values are refused with ERR_QDMP_INVALID_OPTION naming the option', (t) => {
  for (const [value, type] of [
    [0, RangeError],
    [-5, RangeError],
    [Number.NaN, RangeError],
    ['100', TypeError],
  ] as const) {
    const error = t.throws(() => new ThreadPoolHandler((x: number) => x, { taskTimeout: value as number }), { instanceOf: type })
    t.is((error as unknown as QdmpError).code, 'ERR_QDMP_INVALID_OPTION')
    t.regex(error!.message, /options\.taskTimeout/)
  }
  const limits = t.throws(() => new ProcessPoolHandler((x: number) => x, { resourceLimits: { maxYoungGenerationSizeMb: 8 } }))
  t.regex(limits!.message, /maxYoungGenerationSizeMb is not a resource limit child processes support/)
})
