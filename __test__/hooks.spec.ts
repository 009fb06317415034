import test from 'ava'

import { type ErrorDecision, PoolFutureException, ProcessingException, ThreadPoolHandler } from '../dist/index.mjs'

import { fixture } from './helpers.js'

type Failure = { kind: string; value?: unknown }

/** A logger that records what it is told. */
function recorder() {
  const lines: string[] = []
  const log = (level: string) => (message: string) => void lines.push(`${level}: ${message}`)
  return { lines, logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } }
}

test('validateArgs runs in the producer inside addTasks and discards falsy answers', async (t) => {
  const seen: number[] = []
  const handler = new ThreadPoolHandler((x: number) => x * x, {
    validateArgs: (x) => {
      seen.push(x)
      return x % 13 === 0
    },
  })
  await handler.start(1)
  t.is(handler.addTasks([13, 14, 26, 27]), 2)
  t.deepEqual(seen, [13, 14, 26, 27], 'ran synchronously, once per argument')
  const [results] = await handler.processResults()
  t.deepEqual(results.sort((a, b) => a - b), [169, 676])
  const stats = handler.stats()
  t.like(stats, { submitted: 4, accepted: 2, discardedArgs: 2, completed: 2 })
  await handler.stop()
})

test('validateResult discards falsy results and counts them', async (t) => {
  const handler = new ThreadPoolHandler((x: number) => Math.sqrt(x), {
    validateResult: (r) => Number.isInteger(r),
  })
  await handler.start(2)
  handler.addTasks([4, 5, 9, 10])
  const [results, errors] = await handler.processResults()
  t.deepEqual(results.sort(), [2, 3])
  t.deepEqual(errors, [])
  t.like(handler.stats(), { completed: 2, discardedResults: 2 })
  await handler.stop()
})

test('handleError sees the error, the arguments and the traceback, once per failed attempt', async (t) => {
  const calls: [Error, Failure, string][] = []
  const handler = new ThreadPoolHandler<Failure>(fixture('failures.mjs'), {
    handleError: (error, args, traceback) => {
      calls.push([error, args, traceback])
      return [false, null, new ProcessingException(error, traceback, args)]
    },
  })
  await handler.start(2)
  handler.addTasks([{ kind: 'throw-type', value: 1 }, { kind: 'ok', value: 2 }])
  const [results, errors] = await handler.processResults()
  t.deepEqual(results, [2])
  t.is(calls.length, 1)
  const [error, args, traceback] = calls[0]!
  t.true(error instanceof TypeError)
  t.is(error.message, 'bad type: 1')
  t.deepEqual(args, { kind: 'throw-type', value: 1 })
  t.regex(traceback, /failures\.mjs/, 'the traceback is the worker-side stack')
  t.is(errors.length, 1)
  t.is(errors[0]!.exception, error, 'the hook-returned exception is what is reported')
  await handler.stop()
})

test('handleError can retry with new arguments, which go through validateArgs again', async (t) => {
  const validated: unknown[] = []
  const handler = new ThreadPoolHandler<Failure>(fixture('failures.mjs'), {
    validateArgs: (args) => {
      validated.push(args)
      return true
    },
    handleError: (_error, args): ErrorDecision<Failure> => [true, { kind: 'ok', value: `recovered ${args.value}` }, null],
  })
  await handler.start(1)
  handler.addTasks([{ kind: 'throw-value-error', value: 7 }])
  const [results, errors] = await handler.processResults()
  t.deepEqual(results, ['recovered 7'])
  t.deepEqual(errors, [])
  t.deepEqual(validated, [{ kind: 'throw-value-error', value: 7 }, { kind: 'ok', value: 'recovered 7' }])
  t.like(handler.stats(), { accepted: 1, retried: 1, completed: 1, failed: 0 })
  await handler.stop()
})

test('a retry rejected by validateArgs is reported, not dropped', async (t) => {
  const handler = new ThreadPoolHandler<Failure>(fixture('failures.mjs'), {
    validateArgs: (args) => args.kind !== 'forbidden',
    handleError: (): ErrorDecision<Failure> => [true, { kind: 'forbidden' }, null],
  })
  await handler.start(1)
  handler.addTasks([{ kind: 'throw-type', value: 1 }])
  const [, errors] = await handler.processResults()
  t.is(errors.length, 1)
  t.is(errors[0]!.code, 'ERR_QDMP_RETRY_REJECTED')
  t.true(errors[0]!.exception instanceof TypeError, 'the original failure stays visible')
  t.deepEqual((errors[0]!.cause as { args: unknown }).args, { kind: 'forbidden' })
  t.like(handler.stats(), { failed: 1, retried: 0 })
  await handler.stop()
})

test('a retry whose arguments cannot be cloned is reported', async (t) => {
  const handler = new ThreadPoolHandler<Failure>(fixture('failures.mjs'), {
    handleError: (): ErrorDecision<Failure> => [true, { kind: 'ok', value: () => 1 }, null],
  })
  await handler.start(1)
  handler.addTasks([{ kind: 'throw-type' }])
  const [, errors] = await handler.processResults()
  t.is(errors[0]!.code, 'ERR_QDMP_RETRY_REJECTED')
  t.regex((errors[0]!.cause as Error).message, /cannot be cloned/)
  await handler.stop()
})

test('maxRetries caps the re-submissions of one task and reports the last failure', async (t) => {
  let attempts = 0
  const handler = new ThreadPoolHandler<Failure>(fixture('failures.mjs'), {
    maxRetries: 2,
    handleError: (_error, args): ErrorDecision<Failure> => {
      attempts++
      return [true, args, null]
    },
  })
  await handler.start(1)
  handler.addTasks([{ kind: 'throw-type', value: 'x' }])
  const [, errors] = await handler.processResults()
  t.is(attempts, 3, 'the hook ran for every failed attempt: the first and two retries')
  t.is(errors.length, 1)
  t.is(errors[0]!.code, 'ERR_QDMP_RETRY_LIMIT')
  t.true(errors[0]!.exception instanceof TypeError)
  t.like(handler.stats(), { retried: 2, failed: 1 })
  await handler.stop()
})

test('without handleError a failure is reported as ProcessingException(error, traceback, args)', async (t) => {
  const handler = new ThreadPoolHandler<Failure>(fixture('failures.mjs'))
  await handler.start(1)
  handler.addTasks([{ kind: 'reject' }])
  const [, [error]] = await handler.processResults()
  t.true(error instanceof ProcessingException)
  t.is(error!.code, 'ERR_QDMP_TASK_FAILED')
  t.true(error!.exception instanceof RangeError)
  t.deepEqual(error!.args, { kind: 'reject' })
  t.is(error!.traceback, (error!.exception as Error).stack ?? '')
  t.is(error!.cause, error!.exception)
  await handler.stop()
})

test('PoolFutureException from handleError is accepted and keeps the Python argument order', async (t) => {
  const handler = new ThreadPoolHandler<Failure>(fixture('failures.mjs'), {
    handleError: (error, args): ErrorDecision<Failure> => [false, null, new PoolFutureException(args, error)],
  })
  await handler.start(1)
  handler.addTasks([{ kind: 'throw-class' }])
  const [, [error]] = await handler.processResults()
  t.true(error instanceof PoolFutureException)
  t.true(error instanceof ProcessingException)
  t.deepEqual(error!.args, { kind: 'throw-class' })
  t.is((error!.exception as Error).name, 'FileExistsError')
  await handler.stop()
})

const badDecisions: [string, unknown][] = [
  ['undefined', undefined],
  ['a boolean', true],
  ['a two-element array', [false, null]],
  ['a non-boolean enqueue flag', ['yes', null, null]],
  ['[false, _, not a ProcessingException]', [false, null, new Error('plain')]],
]
for (const [what, decision] of badDecisions) {
  test(`handleError returning ${what} becomes a default ProcessingException with ERR_QDMP_HOOK_FAILED and a warning`, async (t) => {
    const { lines, logger } = recorder()
    const handler = new ThreadPoolHandler<Failure>(fixture('failures.mjs'), {
      logger,
      handleError: () => decision as ErrorDecision<Failure>,
    })
    await handler.start(1)
    handler.addTasks([{ kind: 'throw-type', value: 1 }, { kind: 'ok', value: 'still works' }])
    const [results, [error]] = await handler.processResults()
    t.deepEqual(results, ['still works'])
    t.is(error!.code, 'ERR_QDMP_HOOK_FAILED')
    t.true(error!.exception instanceof TypeError, 'the task error is kept')
    t.deepEqual(error!.args, { kind: 'throw-type', value: 1 })
    t.is((error!.cause as { code: string }).code, 'ERR_QDMP_HOOK_FAILED')
    t.true(lines.some((l) => l.startsWith('warn: handleError')), lines.join('\n'))
    await handler.stop()
  })
}

test('a throwing handleError becomes a default ProcessingException with the hook error as cause', async (t) => {
  const { lines, logger } = recorder()
  const hookError = new Error('the hook broke')
  const handler = new ThreadPoolHandler<Failure>(fixture('failures.mjs'), {
    logger,
    handleError: () => {
      throw hookError
    },
  })
  await handler.start(1)
  handler.addTasks([{ kind: 'throw-type' }])
  const [, [error]] = await handler.processResults()
  t.is(error!.code, 'ERR_QDMP_HOOK_FAILED')
  t.is(error!.cause, hookError)
  t.true(lines.some((l) => l.startsWith('warn: handleError threw')))
  handler.addTasks([{ kind: 'ok', value: 1 }])
  t.deepEqual((await handler.processResults())[0], [1], 'the handler keeps working')
  await handler.stop()
})

test('a throwing validateResult reports the task as failed with its arguments; the batch goes on', async (t) => {
  const handler = new ThreadPoolHandler((x: number) => x, {
    validateResult: (r) => {
      if (r === 2) throw new Error('cannot judge 2')
      return true
    },
    logger: recorder().logger,
  })
  await handler.start(1)
  handler.addTasks([1, 2, 3])
  const [results, errors] = await handler.processResults()
  t.deepEqual(results.sort(), [1, 3])
  t.is(errors.length, 1)
  t.is(errors[0]!.code, 'ERR_QDMP_HOOK_FAILED')
  t.is(errors[0]!.args, 2)
  t.is((errors[0]!.cause as Error).message, 'cannot judge 2')
  t.like(handler.stats(), { completed: 2, failed: 1 })
  await handler.stop()
})

test('a throwing validateArgs rejects that argument naming its index; the others are queued', async (t) => {
  const handler = new ThreadPoolHandler((x: number) => x * 10, {
    validateArgs: (x) => {
      if (x === 2) throw new Error('cannot judge 2')
      return true
    },
  })
  await handler.start(1)
  const error = t.throws(() => handler.addTasks([1, 2, 3])) as Error & { code: string; index: number; accepted: number }
  t.is(error.code, 'ERR_QDMP_HOOK_FAILED')
  t.is(error.index, 1)
  t.is(error.accepted, 2)
  t.regex(error.message, /index 1/)
  const [results] = await handler.processResults()
  t.deepEqual(results.sort(), [10, 30])
  t.like(handler.stats(), { submitted: 3, accepted: 2, discardedArgs: 1 })
  await handler.stop()
})
