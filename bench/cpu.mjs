// Efficiency on CPU-bound tasks of about 1 ms each: 4,000 tasks, at most 256 in flight, 2 workers.
// The ideal is 2 workers × the inline loop's rate (measured in the same rounds); each pool's
// figure is its share of that ideal. Two bare threads with no per-task messages show how much
// of the ideal this machine allows at all.
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'

import { log, measure, median, rateBars, ROUNDS } from './harness.mjs'
import { mapCase, poolCases, TASKS as TASKS_FILE, threadPools } from './pools.mjs'
import { spin } from './tasks/tasks.cjs'

const TASKS = 4_000
const IN_FLIGHT = 256
const WORKERS = 2

/** Spin rounds that take about 1 ms inline here. */
function calibrate() {
  let rounds = 100_000
  for (let i = 0; i < 5; i++) spin(rounds) // JIT first
  for (;;) {
    const times = []
    for (let i = 0; i < 9; i++) {
      const t = performance.now()
      spin(rounds)
      times.push(performance.now() - t)
    }
    const ms = median(times)
    if (Math.abs(ms - 1) < 0.05) return rounds
    rounds = Math.round(rounds / ms)
  }
}

// The ceiling a pool can approach here: two bare threads, each handed half the tasks in one
// message, with no per-task traffic at all.
const bareWorker = `
const { parentPort } = require('node:worker_threads')
const { spin } = require(${JSON.stringify(TASKS_FILE)})
for (let i = 0; i < 200; i++) spin(1000)
parentPort.on('message', ({ count, rounds }) => {
  let h = 0
  for (let i = 0; i < count; i++) h ^= spin(rounds)
  parentPort.postMessage(h)
})`

const bareThreads = (rounds) => ({
  name: 'bare threads (no pool)',
  setup: () => Array.from({ length: WORKERS }, () => new Worker(bareWorker, { eval: true })),
  run: async (workers) => {
    const share = TASKS / WORKERS
    await Promise.all(
      workers.map((w) => new Promise((resolve) => { w.once('message', resolve); w.postMessage({ count: share, rounds }) })),
    )
    return TASKS
  },
  teardown: (workers) => Promise.all(workers.map((w) => w.terminate())),
})

export async function runCpu() {
  const rounds = calibrate()
  log(`cpu: ${TASKS} tasks of spin(${rounds}) (~1 ms), ${WORKERS} workers, at most ${IN_FLIGHT} in flight, ${ROUNDS} rounds`)
  let sink = 0
  const item = () => [rounds]
  const cases = [
    {
      name: 'inline loop',
      setup: () => null,
      run: () => {
        for (let i = 0; i < TASKS; i++) sink ^= spin(rounds)
        return TASKS
      },
    },
    bareThreads(rounds),
    ...poolCases(threadPools, { task: 'spin', workers: WORKERS, warmArg: () => 1000, count: TASKS, inFlight: IN_FLIGHT, argOf: item }),
    mapCase(threadPools, {
      task: 'spin',
      workers: WORKERS,
      warmArg: () => 1000,
      source: () => Array.from({ length: TASKS }, () => rounds),
      window: IN_FLIGHT,
      onResult: (r) => (sink ^= r),
    }),
  ]
  const results = await measure(cases)
  const ideal = WORKERS * results[0].median
  const lines = ['| case | median | rounds | share of ideal |', '|---|---:|---|---:|']
  lines.push(`| ideal (${WORKERS} × inline) | ${Math.round(ideal).toLocaleString('en-US')} tasks/s | | 1.00 |`)
  for (const r of results) {
    lines.push(`| ${r.name} | ${Math.round(r.median).toLocaleString('en-US')} tasks/s | ${r.rates.map((x) => Math.round(x)).join(' ')} | ${(r.median / ideal).toFixed(3)} |`)
  }
  return {
    id: 'cpu',
    title: `CPU-bound tasks of ~1 ms: ${TASKS.toLocaleString('en-US')} tasks, ${WORKERS} workers, at most ${IN_FLIGHT} in flight`,
    markdown: lines.join('\n'),
    chart: {
      unit: 'share of ideal (2 × inline)',
      better: 'higher',
      bars: rateBars(results.slice(1)).map((b) => ({ ...b, value: b.value / ideal })),
    },
    results,
    sink,
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { title, markdown } = await runCpu()
  console.log(`\n### ${title}\n\n${markdown}`)
}
