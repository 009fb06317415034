// Throughput on tiny tasks (x => x * x): 200k tasks on 2 workers with at most 4096 in flight,
// through qdmp's ThreadPoolHandler and piscina, beside the plain inline loop on the main thread.
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'

import { Piscina } from 'piscina'

import { ThreadPoolHandler } from '../dist/index.mjs'
import { measure, table } from './harness.mjs'

const TASKS = Number(process.env.QDMP_BENCH_TASKS ?? 200_000)
const IN_FLIGHT = 4096
const WORKERS = 2
const ROUNDS = Number(process.env.QDMP_BENCH_ROUNDS ?? 5)
const square = fileURLToPath(new URL('./tasks/square.cjs', import.meta.url))

let sink = 0

const inline = {
  name: 'inline loop',
  setup: () => require_square(),
  run: (fn) => {
    const results = new Array(TASKS)
    for (let i = 0; i < TASKS; i++) results[i] = fn(i)
    sink += results[TASKS - 1]
    return TASKS
  },
}

function require_square() {
  return (x) => x * x
}

const piscina = {
  name: 'piscina',
  setup: async () => {
    const pool = new Piscina({ filename: square, minThreads: WORKERS, maxThreads: WORKERS })
    await Promise.all(Array.from({ length: 100 }, (_, i) => pool.run(i))) // warm every thread
    return pool
  },
  run: (pool) =>
    new Promise((resolve, reject) => {
      let sent = 0
      let done = 0
      const pump = () => {
        while (sent < TASKS && sent - done < IN_FLIGHT) {
          pool.run(sent++).then((r) => {
            sink += r
            if (++done === TASKS) resolve(TASKS)
            else pump()
          }, reject)
        }
      }
      pump()
    }),
  teardown: (pool) => pool.destroy(),
}

const qdmp = {
  name: 'qdmp ThreadPoolHandler',
  setup: async () => {
    const handler = new ThreadPoolHandler(square)
    await handler.start(WORKERS)
    handler.addTasks(Array.from({ length: 100 }, (_, i) => i))
    await handler.processResults()
    return handler
  },
  run: async (handler) => {
    let sent = 0
    let done = 0
    const add = (n) => {
      const batch = new Array(n)
      for (let i = 0; i < n; i++) batch[i] = sent++
      handler.addTasks(batch)
    }
    add(Math.min(IN_FLIGHT, TASKS))
    while (done < TASKS) {
      const [results, errors] = await handler.processResults(IN_FLIGHT / 4)
      if (errors.length > 0) throw errors[0]
      done += results.length
      sink += results.length
      const room = Math.min(TASKS - sent, results.length)
      if (room > 0) add(room)
    }
    return TASKS
  },
  teardown: (handler) => handler.stop(),
}

export async function runTiny() {
  console.error(`tiny: ${TASKS} tasks, ${WORKERS} workers, ${IN_FLIGHT} in flight, ${ROUNDS} rounds, ${availableParallelism()} cores`)
  const results = await measure([inline, piscina, qdmp], { rounds: ROUNDS })
  return { title: `Tiny tasks (x => x * x), ${TASKS.toLocaleString('en-US')} tasks, ${WORKERS} workers`, results, markdown: table(results, 'piscina'), sink }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { title, markdown } = await runTiny()
  console.log(`\n### ${title}\n\n${markdown}`)
}
