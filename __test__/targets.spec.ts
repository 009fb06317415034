import { pathToFileURL } from 'node:url'

import test from 'ava'

import { PoolHandler, ProcessPoolHandler, QdmpError, type Target, ThreadPoolHandler } from '../dist/index.mjs'

import { fixture } from './helpers.js'

async function squares(target: Target<number, number>): Promise<number[]> {
  const handler = new ThreadPoolHandler<number, number>(target)
  await handler.start(1)
  handler.addTasks([2, 3])
  const [results, errors] = await handler.processResults()
  await handler.stop()
  if (errors.length > 0) throw errors[0]
  return results.sort((a, b) => a - b)
}

for (const file of ['square.js', 'square.mjs', 'square.cjs', 'square.ts']) {
  test(`a module target's default export runs: ${file}`, async (t) => {
    t.deepEqual(await squares(fixture(file)), [4, 9])
  })
}

test('a file URL and a file: string are accepted as targets', async (t) => {
  t.deepEqual(await squares(pathToFileURL(fixture('square.mjs'))), [4, 9])
  t.deepEqual(await squares(pathToFileURL(fixture('square.mjs')).href), [4, 9])
})

test('{ filename, name } runs a named export, sync or async', async (t) => {
  const cube = new ThreadPoolHandler({ filename: fixture('named.mjs'), name: 'cube' })
  await cube.start(1)
  cube.addTasks([2])
  t.deepEqual(await cube.processResults(), [[8], []])
  await cube.stop()

  const double = new ThreadPoolHandler({ filename: fixture('named.mjs'), name: 'slowDouble' })
  await double.start(2)
  double.addTasks([1, 2, 3])
  const [results] = await double.processResults()
  t.deepEqual(results.sort(), [2, 4, 6])
  await double.stop()
})

test('a self-contained function target runs in the workers, arrow, async or method shorthand', async (t) => {
  t.deepEqual(await squares((x: number) => x * x), [4, 9])
  t.deepEqual(
    await squares(async function square(x: number) {
      return x * x
    }),
    [4, 9],
  )
  const methods = {
    square(x: number) {
      return x * x
    },
  }
  t.deepEqual(await squares(methods.square), [4, 9])
})

test('a function target cannot see its closure: the task fails naming the variable, with a hint logged once', async (t) => {
  const factor = 3
  const warnings: string[] = []
  const handler = new ThreadPoolHandler((x: number) => x * factor, { logger: { warn: (m: string) => warnings.push(m) } })
  await handler.start(1)
  handler.addTasks([1, 2])
  const [, errors] = await handler.processResults()
  await handler.stop()
  t.is(errors.length, 2)
  t.is((errors[0]!.exception as Error).name, 'ReferenceError')
  t.regex((errors[0]!.exception as Error).message, /factor/)
  t.is(warnings.length, 1)
  t.regex(warnings[0]!, /without its surrounding scope.*module target/)
})

test('a native or bound function is refused at construction with ERR_QDMP_INVALID_TARGET', (t) => {
  for (const target of [Math.max, ((x: number) => x).bind(null)]) {
    const error = t.throws(() => new ThreadPoolHandler(target), { instanceOf: TypeError })
    t.is((error as unknown as QdmpError).code, 'ERR_QDMP_INVALID_TARGET')
    t.true(error instanceof QdmpError)
  }
})

test('a target of the wrong type is refused with ERR_QDMP_INVALID_TARGET', (t) => {
  for (const target of [42, '', null, { filename: 'x.js' }, { name: 'x' }]) {
    const error = t.throws(() => new ThreadPoolHandler(target as never))
    t.is((error as QdmpError).code, 'ERR_QDMP_INVALID_TARGET', String(target))
  }
})

test('start() rejects naming the path when the target module does not exist, and the handler can start again', async (t) => {
  const missing = fixture('does-not-exist.mjs')
  const handler = new ThreadPoolHandler(missing)
  const error = await t.throwsAsync(handler.start(1))
  t.is((error as QdmpError).code, 'ERR_QDMP_TARGET_LOAD')
  t.true(error!.message.includes(missing))
  t.is(handler.workerCount, 0)
  const again = await t.throwsAsync(handler.start(1))
  t.is((again as QdmpError).code, 'ERR_QDMP_TARGET_LOAD', 'the failed start left no half-started state behind')
})

test('start() rejects naming the path and the cause when the module throws while loading', async (t) => {
  const handler = new ThreadPoolHandler(fixture('throws-at-load.mjs'))
  const error = await t.throwsAsync(handler.start(2))
  t.is((error as QdmpError).code, 'ERR_QDMP_TARGET_LOAD')
  t.true(error!.message.includes('throws-at-load.mjs'))
  t.true(error!.message.includes('this module refuses to load'))
  t.is((error!.cause as Error).message, 'this module refuses to load')
})

test('start() rejects naming the export when the module lacks it or it is not a function', async (t) => {
  const noDefault = new ThreadPoolHandler(fixture('no-default.mjs'))
  const e1 = await t.throwsAsync(noDefault.start(1))
  t.is((e1 as QdmpError).code, 'ERR_QDMP_TARGET_LOAD')
  t.regex(e1!.message, /no-default\.mjs: the default export is not a function \(found: undefined\); the module exports: helper$/)

  const notFn = new ThreadPoolHandler({ filename: fixture('named.mjs'), name: 'notAFunction' })
  const e2 = await t.throwsAsync(notFn.start(1))
  t.regex(e2!.message, /named\.mjs \(export notAFunction\): the export "notAFunction" is not a function \(found: number\)/)

  const missing = new ThreadPoolHandler({ filename: fixture('named.mjs'), name: 'nope' })
  const e3 = await t.throwsAsync(missing.start(1))
  t.regex(e3!.message, /"nope".*cube, notAFunction, slowDouble/)
})

test('execArgv controls the workers\' Node options: without the TypeScript loader a .ts target cannot load', async (t) => {
  const plain = new ThreadPoolHandler<number, number>(fixture('square.mjs'), { execArgv: [] })
  await plain.start(1)
  plain.addTasks([5])
  t.deepEqual(await plain.processResults(), [[25], []])
  await plain.stop()
  const ts = new ThreadPoolHandler<number, number>(fixture('square.ts'), { execArgv: [] })
  const error = await t.throwsAsync(ts.start(1))
  t.is((error as QdmpError).code, 'ERR_QDMP_TARGET_LOAD')
  t.regex(error!.message, /square\.ts.*needs a TypeScript loader/)
})

test('child processes inherit the TypeScript loader by default, so .ts targets run in ProcessPoolHandler and PoolHandler', async (t) => {
  for (const handler of [
    new ProcessPoolHandler<number, number>(fixture('square.ts')),
    new PoolHandler<number, number>(fixture('square.ts')),
  ]) {
    await handler.start(1)
    handler.addTasks([6])
    t.deepEqual(await handler.processResults(), [[36], []])
    await handler.stop()
  }
})

for (const [name, make] of [
  ['ProcessPoolHandler', (target: string) => new ProcessPoolHandler(target, { execArgv: [] })],
  ['PoolHandler', (target: string) => new PoolHandler(target, { execArgv: [] })],
] as const) {
  test(`${name}: start() rejects naming the path and cause for a missing module, a missing export, or one that throws`, async (t) => {
    const missing = await t.throwsAsync(make(fixture('does-not-exist.mjs')).start(2))
    t.is((missing as QdmpError).code, 'ERR_QDMP_TARGET_LOAD')
    t.true(missing!.message.includes(fixture('does-not-exist.mjs')))
    const throws = await t.throwsAsync(make(fixture('throws-at-load.mjs')).start(2))
    t.is((throws as QdmpError).code, 'ERR_QDMP_TARGET_LOAD')
    t.regex(throws!.message, /throws-at-load\.mjs: this module refuses to load/)
    const noExport = await t.throwsAsync(make(fixture('no-default.mjs')).start(2))
    t.regex(noExport!.message, /no-default\.mjs: the default export is not a function/)
  })
}
