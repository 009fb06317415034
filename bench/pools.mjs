// One adapter per pool, so every benchmark drives each pool the same way: `open(task, workers)`
// starts a pool that runs the named function of tasks/tasks.cjs and warms it; the adapter's
// `call(arg, transfer)` runs one task (moving the `transfer` buffers where the pool can) and
// `close()` shuts the pool down. Each adapter loads its pool's library when it opens, so that a
// process measuring one pool's memory (stream-child.mjs) holds no other pool's code.
import { fileURLToPath } from 'node:url'

const qdmp = () => import('../dist/index.mjs')

const here = (file) => fileURLToPath(new URL(`./tasks/${file}`, import.meta.url))
export const TASKS = here('tasks.cjs')

/** Runs `count` tasks through `call`, keeping at most `inFlight` outstanding. */
export function pump(call, count, inFlight, argOf) {
  return new Promise((resolve, reject) => {
    let sent = 0
    let done = 0
    const next = () => {
      while (sent < count && sent - done < inFlight) {
        const [arg, transfer] = argOf(sent++)
        call(arg, transfer).then(() => {
          if (++done === count) resolve(count)
          else next()
        }, reject)
      }
    }
    next()
  })
}

/** Runs warm-up tasks on every worker before anything is timed (loads the task, JITs the path). */
async function warm(call, arg) {
  for (let i = 0; i < 3; i++) await Promise.all(Array.from({ length: 64 }, () => call(arg())))
}

async function opened(name, call, close, warmArg) {
  await warm(call, warmArg)
  return { name, call, close }
}

export const threadPools = {
  async piscina(task, workers, warmArg) {
    const { Piscina } = await import('piscina')
    const pool = new Piscina({ filename: TASKS, name: task, minThreads: workers, maxThreads: workers, idleTimeout: 60_000 })
    const call = (arg, transfer) => pool.run(arg, transfer ? { transferList: transfer } : undefined)
    return opened('piscina', call, () => pool.destroy(), warmArg)
  },
  async tinypool(task, workers, warmArg) {
    const { Tinypool } = await import('tinypool')
    const pool = new Tinypool({ filename: TASKS, name: task, minThreads: workers, maxThreads: workers, idleTimeout: 60_000 })
    const call = (arg, transfer) => pool.run(arg, transfer ? { transferList: transfer } : undefined)
    return opened('tinypool', call, () => pool.destroy(), warmArg)
  },
  async workerpool(task, workers, warmArg) {
    const { default: workerpool } = await import('workerpool')
    const pool = workerpool.pool(here('workerpool-worker.cjs'), { minWorkers: workers, maxWorkers: workers, workerType: 'thread' })
    const call = (arg, transfer) => pool.exec(task, [arg], transfer ? { transfer } : undefined)
    return opened('workerpool', call, () => pool.terminate(), warmArg)
  },
  async poolifier(task, workers, warmArg) {
    const { FixedThreadPool } = await import('poolifier')
    const pool = new FixedThreadPool(workers, here('poolifier-thread.cjs'))
    const call = (arg, transfer) => pool.execute(arg, task, undefined, transfer)
    return opened('poolifier', call, () => pool.destroy(), warmArg)
  },
  async qdmp(task, workers, warmArg) {
    const { ThreadPoolHandler } = await qdmp()
    const handler = new ThreadPoolHandler({ filename: TASKS, name: task })
    await handler.start(workers)
    const call = (arg, transfer) => handler.run(arg, transfer ? { transfer } : undefined)
    const pool = await opened('qdmp', call, () => handler.stop(), warmArg)
    return { ...pool, handler }
  },
}

export const processPools = {
  async workerpool(task, workers, warmArg) {
    const { default: workerpool } = await import('workerpool')
    const pool = workerpool.pool(here('workerpool-worker.cjs'), {
      minWorkers: workers,
      maxWorkers: workers,
      workerType: 'process',
      forkOpts: { execArgv: [] },
    })
    const call = (arg) => pool.exec(task, [arg])
    return opened('workerpool (process)', call, () => pool.terminate(), warmArg)
  },
  async tinypool(task, workers, warmArg) {
    const { Tinypool } = await import('tinypool')
    const pool = new Tinypool({ filename: TASKS, name: task, minThreads: workers, maxThreads: workers, runtime: 'child_process', idleTimeout: 60_000 })
    const call = (arg) => pool.run(arg)
    return opened('tinypool (child_process)', call, () => pool.destroy(), warmArg)
  },
  async poolifier(task, workers, warmArg) {
    const { FixedClusterPool } = await import('poolifier')
    const pool = new FixedClusterPool(workers, here('poolifier-cluster.cjs'))
    const call = (arg) => pool.execute(arg, task)
    return opened('poolifier (cluster)', call, () => pool.destroy(), warmArg)
  },
  async qdmp(task, workers, warmArg) {
    const { ProcessPoolHandler } = await qdmp()
    const handler = new ProcessPoolHandler({ filename: TASKS, name: task }, { execArgv: [] })
    await handler.start(workers)
    const call = (arg) => handler.run(arg)
    const pool = await opened('qdmp ProcessPoolHandler', call, () => handler.stop(), warmArg)
    return { ...pool, handler }
  },
}

/** Opens every pool of `pools` for `task`, one after the other (each warmed). */
export async function openAll(pools, task, workers, warmArg) {
  const opened = []
  for (const open of Object.values(pools)) opened.push(await open(task, workers, warmArg))
  return opened
}

/**
 * A benchmark case per pool of `pools` (qdmp's named "run()"): each opens its pool for `task`,
 * readies it with `prepare`, and runs `count` tasks with at most `inFlight` outstanding, the
 * arguments from `argOf(i)` and each result handed to `onResult`.
 */
export function poolCases(pools, { task, workers, warmArg, count, inFlight, argOf, prepare = (pool) => pool, onResult }) {
  return Object.entries(pools).map(([key, open]) => ({
    name: (pool) => (key === 'qdmp' ? `${pool.name} run()` : pool.name),
    setup: async () => prepare(await open(task, workers, warmArg)),
    run: (pool) => pump(onResult ? (arg, transfer) => pool.call(arg, transfer).then(onResult) : pool.call, count, inFlight, argOf),
    teardown: (pool) => pool.close(),
  }))
}

/** The case of qdmp's map() over `source()`, unordered, with a window of `window`. */
export function mapCase(pools, { task, workers, warmArg, source, window, prepare = (pool) => pool, onResult = () => {} }) {
  return {
    name: (pool) => `${pool.name} map()`,
    setup: async () => prepare(await pools.qdmp(task, workers, warmArg)),
    run: async ({ handler }) => {
      let n = 0
      for await (const result of handler.map(source(), { window, ordered: false })) {
        onResult(result)
        n++
      }
      return n
    },
    teardown: (pool) => pool.close(),
  }
}
