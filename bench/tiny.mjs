// Throughput on tiny tasks (x => x * x): 200k tasks on 2 workers with at most 4096 in flight,
// through every thread pool (or 50k through every process pool), beside the plain inline loop
// on the main thread.
import { fileURLToPath } from 'node:url'

import { log, measure, rateBars, rateTable, ROUNDS } from './harness.mjs'
import { mapCase, poolCases, processPools, threadPools } from './pools.mjs'
import { square } from './tasks/tasks.cjs'

const TASKS = Number(process.env.QDMP_BENCH_TASKS ?? 200_000)
const PROCESS_TASKS = Number(process.env.QDMP_BENCH_PROCESS_TASKS ?? 50_000)
const IN_FLIGHT = 4096
const WORKERS = 2

let sink = 0
const item = (i) => [i]

function* numbers(count) {
  for (let i = 0; i < count; i++) yield i
}

/** The cases for one family of pools: each driven by one promise per task, as its users do, and qdmp's map() besides. */
function throughputCases(pools, tasks) {
  const inline = {
    name: 'inline loop',
    setup: () => null,
    run: () => {
      for (let i = 0; i < tasks; i++) sink += square(i)
      return tasks
    },
  }
  const common = { task: 'square', workers: WORKERS, warmArg: () => 3 }
  return [
    inline,
    ...poolCases(pools, { ...common, count: tasks, inFlight: IN_FLIGHT, argOf: item }),
    mapCase(pools, { ...common, source: () => numbers(tasks), window: IN_FLIGHT, onResult: (r) => (sink += r) }),
  ]
}

export async function runTiny() {
  log(`tiny: ${TASKS} tasks, ${WORKERS} workers, at most ${IN_FLIGHT} in flight, ${ROUNDS} rounds`)
  const results = await measure(throughputCases(threadPools, TASKS))
  return {
    id: 'tiny',
    title: `Tiny tasks (x => x * x): ${TASKS.toLocaleString('en-US')} tasks, ${WORKERS} workers, at most ${IN_FLIGHT} in flight`,
    markdown: rateTable(results, 'piscina'),
    chart: { unit: 'tasks/s', better: 'higher', bars: rateBars(results.filter((r) => r.name !== 'inline loop')) },
    results,
    sink,
  }
}

export async function runProcessTiny() {
  log(`process tiny: ${PROCESS_TASKS} tasks, ${WORKERS} worker processes, at most ${IN_FLIGHT} in flight, ${ROUNDS} rounds`)
  const results = await measure(throughputCases(processPools, PROCESS_TASKS))
  return {
    id: 'process-tiny',
    title: `Process workers, tiny tasks: ${PROCESS_TASKS.toLocaleString('en-US')} tasks, ${WORKERS} child processes, at most ${IN_FLIGHT} in flight`,
    markdown: rateTable(results, 'workerpool (process)'),
    chart: { unit: 'tasks/s', better: 'higher', bars: rateBars(results.filter((r) => r.name !== 'inline loop')) },
    results,
    sink,
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { title, markdown } = await (process.argv[2] === 'process' ? runProcessTiny : runTiny)()
  console.log(`\n### ${title}\n\n${markdown}`)
}
