import test from 'ava'

import { type ProcessingException, QdmpError, ThrownValueError, WorkerExitedError } from '../dist/index.mjs'

import { fixture, poolKinds } from './helpers.js'

type Failure = { kind: string; value?: unknown; code?: number }

for (const { name, make: Pool, options } of poolKinds) {
  async function failureOf(args: Failure): Promise<ProcessingException> {
    const handler = new Pool<Failure>(fixture('failures.mjs'), { ...options, logger: {} })
    await handler.start(1)
    handler.addTasks([args])
    const [results, errors] = await handler.processResults()
    await handler.stop()
    if (errors.length !== 1) throw new Error(`expected one error, got ${JSON.stringify(results)}`)
    return errors[0]!
  }

  test(`${name}: a thrown error keeps its class name, message, stack and own properties such as code`, async (t) => {
    const report = await failureOf({ kind: 'throw-code' })
    const error = report.exception as Error & { code: string; path: string }
    t.true(error instanceof Error)
    t.is(error.message, 'no such file')
    t.is(error.code, 'ENOENT')
    t.is(error.path, '/nope')
    t.regex(error.stack!, /failures\.mjs/)
  })

  test(`${name}: built-in error classes come back as themselves; user classes keep their name`, async (t) => {
    t.true((await failureOf({ kind: 'throw-type', value: 1 })).exception instanceof TypeError)
    t.is(((await failureOf({ kind: 'throw-class' })).exception as Error).name, 'FileExistsError')
    t.is(((await failureOf({ kind: 'throw-value-error', value: 1 })).exception as Error).name, 'ValueError')
  })

  test(`${name}: a thrown non-Error value is wrapped with the value kept, not lost`, async (t) => {
    const fromString = (await failureOf({ kind: 'throw-string' })).exception
    t.true(fromString instanceof ThrownValueError)
    t.is((fromString as ThrownValueError).value, 'just a string')
    t.is((fromString as ThrownValueError).code, 'ERR_QDMP_THROWN_VALUE')
    const fromNumber = (await failureOf({ kind: 'throw-number' })).exception as ThrownValueError
    t.is(fromNumber.value, 42)
    t.regex(fromNumber.message, /42/)
    t.false(fromNumber.stack!.includes('error-record'), 'no stack pointing into qdmp itself')
    const fromObject = (await failureOf({ kind: 'throw-object' })).exception as ThrownValueError
    t.deepEqual(fromObject.value, { reason: 'not an Error', code: 7, path: ['a', 'b'] })
    t.is(fromObject.message, "the target threw a non-Error value: { reason: 'not an Error', code: 7, path: [ 'a', 'b' ] }", 'its contents, not [object Object]')
    const wide = (await failureOf({ kind: 'throw-wide-object' })).exception as ThrownValueError
    t.true(wide.message.length < 1100 && wide.message.endsWith('…'), `a message of ${wide.message.length} characters`)
    t.is(Object.keys(wide.value as object).length, 3000, 'the value itself is whole')
    const emoji = (await failureOf({ kind: 'throw-emoji-string' })).exception as ThrownValueError
    const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
    t.false(lone.test(emoji.message), 'the cut falls between characters, not inside one')
  })

  test(`${name}: a result that cannot be cloned is reported with ERR_QDMP_DATA_CLONE and the arguments`, async (t) => {
    const report = await failureOf({ kind: 'uncloneable-result' })
    t.is(report.code, 'ERR_QDMP_DATA_CLONE')
    t.true(report.exception instanceof QdmpError)
    t.deepEqual(report.args, { kind: 'uncloneable-result' })
    t.regex((report.exception as Error).message, /result cannot be cloned/)
  })

  test(`${name}: process.exit() in the target fails the task with WorkerExitedError, and a new worker takes over`, async (t) => {
    const warnings: string[] = []
    const handler = new Pool<Failure>(fixture('failures.mjs'), { ...options, logger: { warn: (m: string) => warnings.push(m) } })
    await handler.start(1)
    handler.addTasks([{ kind: 'exit', code: 7 }, { kind: 'ok', value: 'after' }])
    const [results, errors] = await handler.processResults()
    t.deepEqual(results, ['after'], 'the queued task ran on the replacement worker')
    t.is(errors.length, 1)
    t.is(errors[0]!.code, 'ERR_QDMP_WORKER_EXITED')
    const exited = errors[0]!.exception as WorkerExitedError
    t.true(exited instanceof WorkerExitedError)
    t.is(exited.exitCode, 7)
    t.is(exited.workerId, 0)
    t.deepEqual(errors[0]!.args, { kind: 'exit', code: 7 })
    t.true(warnings.some((w) => w.includes('worker 0 exited with code 7')))
    t.is(handler.workerCount, 1)
    await handler.stop()
  })

  test(`${name}: an uncaught error in a callback kills the worker; the task is reported (threads: with that error as cause)`, async (t) => {
    const handler = new Pool<Failure>(fixture('failures.mjs'), { ...options, logger: {} })
    await handler.start(1)
    handler.addTasks([{ kind: 'uncaught' }])
    const [, [report]] = await handler.processResults()
    const exited = report!.exception as WorkerExitedError
    t.is(exited.code, 'ERR_QDMP_WORKER_EXITED')
    t.is(exited.exitCode, 1)
    // A thread's uncaught error reaches the producer as an 'error' event; a process prints it to its stderr.
    if (name === 'threads') t.is((exited.cause as Error).message, 'uncaught in a callback')
    handler.addTasks([{ kind: 'ok', value: 1 }])
    t.deepEqual((await handler.processResults())[0], [1])
    await handler.stop()
  })

  test(`${name}: a promise that can never settle fails its task with ERR_QDMP_TASK_STALLED; the worker lives on`, async (t) => {
    const warnings: string[] = []
    const handler = new Pool<Failure>(fixture('failures.mjs'), { ...options, logger: { warn: (m: string) => warnings.push(m) } })
    await handler.start(1)
    handler.addTasks([{ kind: 'never' }, { kind: 'ok', value: 'next' }])
    const [results, errors] = await handler.processResults()
    t.deepEqual(results, ['next'])
    t.is(errors[0]!.code, 'ERR_QDMP_TASK_STALLED')
    t.regex((errors[0]!.exception as Error).message, /can never settle/)
    t.deepEqual(warnings, [], 'no worker exited')
    await handler.stop()
  })

  test(`${name}: handleError can retry a task whose worker died`, async (t) => {
    let crashes = 0
    const handler = new Pool<Failure>(fixture('failures.mjs'), { ...options, 
      logger: {},
      handleError: (error) => {
        crashes++
        return error instanceof WorkerExitedError ? [true, { kind: 'ok', value: 'second try' }, null] : [false, null, null]
      },
    })
    await handler.start(2)
    handler.addTasks([{ kind: 'exit' }])
    t.deepEqual(await handler.processResults(), [['second try'], []])
    t.is(crashes, 1)
    await handler.stop()
  })

}
