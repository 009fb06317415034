// Soak: 100k tasks of which 1% crash their worker (process.exit) and 0.1% hang (an endless loop,
// ended by taskTimeout), on every handler. Checks that every task is reported exactly once (zero
// lost, zero duplicated) and reports how long workers took to be replaced.
import { fileURLToPath } from 'node:url'

import { PoolHandler, ProcessPoolHandler, ThreadPoolHandler } from '../dist/index.mjs'
import { median } from './harness.mjs'

const TASKS = Number(process.env.QDMP_SOAK_TASKS ?? 100_000)
const CRASH = 0.01
const HANG = 0.001
const TIMEOUT_MS = 250
const IN_FLIGHT = 2048
const chaos = fileURLToPath(new URL('./tasks/chaos.cjs', import.meta.url))

/** A small seeded generator, so every handler gets the same mix. */
function random(seed) {
  let x = seed >>> 0
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

const jobs = (() => {
  const next = random(20261124)
  return Array.from({ length: TASKS }, (_, id) => {
    const r = next()
    return { id, crash: r < CRASH, hang: r >= CRASH && r < CRASH + HANG }
  })
})()

const handlers = [
  ['ThreadPoolHandler', (o) => new ThreadPoolHandler(chaos, o)],
  ['ProcessPoolHandler', (o) => new ProcessPoolHandler(chaos, o)],
  ['PoolHandler (process)', (o) => new PoolHandler(chaos, { ...o, isolation: 'process' })],
  ['PoolHandler (thread)', (o) => new PoolHandler(chaos, { ...o, isolation: 'thread' })],
]

async function soak(name, make) {
  const replaced = []
  const handler = make({
    execArgv: [],
    taskTimeout: TIMEOUT_MS,
    logger: { debug: (m) => { const r = /replaced in ([\d.]+) ms/.exec(m); if (r) replaced.push(Number(r[1])) } },
  })
  await handler.start(2)
  const seen = new Uint8Array(TASKS)
  let duplicated = 0
  let crashed = 0
  let timedOut = 0
  let sent = 0
  let done = 0
  const began = performance.now()
  const add = (n) => {
    handler.addTasks(jobs.slice(sent, sent + n))
    sent += n
  }
  const mark = (id) => {
    if (seen[id]++) duplicated++
  }
  add(Math.min(IN_FLIGHT, TASKS))
  while (done < TASKS) {
    const [results, errors] = await handler.processResults(IN_FLIGHT / 4)
    for (const id of results) mark(id)
    for (const error of errors) {
      mark(error.args.id)
      if (error.code === 'ERR_QDMP_WORKER_EXITED') crashed++
      else if (error.code === 'ERR_QDMP_TASK_TIMEOUT') timedOut++
      else throw error
    }
    const n = results.length + errors.length
    done += n
    if (sent < TASKS) add(Math.min(TASKS - sent, n))
  }
  const seconds = (performance.now() - began) / 1000
  const stats = handler.stats()
  await handler.stop()
  const lost = seen.reduce((count, times) => count + (times === 0 ? 1 : 0), 0)
  return {
    name,
    seconds,
    lost,
    duplicated,
    crashed,
    timedOut,
    consistent: stats.accepted === stats.completed + stats.failed + stats.discardedResults + stats.cancelled,
    replacements: replaced.length,
    medianMs: median(replaced),
    maxMs: Math.max(...replaced),
  }
}

export async function runSoak() {
  const expectedCrashes = jobs.filter((j) => j.crash).length
  const expectedHangs = jobs.filter((j) => j.hang).length
  console.error(`soak: ${TASKS} tasks, ${expectedCrashes} crash, ${expectedHangs} hang (taskTimeout ${TIMEOUT_MS} ms), 2 workers`)
  const rows = []
  for (const [name, make] of handlers) {
    const r = await soak(name, make)
    console.error(`${name}: ${JSON.stringify(r)}`)
    rows.push(r)
  }
  const lines = [
    '| handler | wall time | lost | duplicated | crashes reported | time-outs reported | accounting | replacements | replacement median | replacement max |',
    '|---|---:|---:|---:|---:|---:|---|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.seconds.toFixed(1)} s | ${r.lost} | ${r.duplicated} | ${r.crashed}/${expectedCrashes} | ${r.timedOut}/${expectedHangs} | ${r.consistent ? 'consistent' : 'INCONSISTENT'} | ${r.replacements} | ${r.medianMs.toFixed(1)} ms | ${r.maxMs.toFixed(1)} ms |`,
    ),
  ]
  return { title: `Soak: ${TASKS.toLocaleString('en-US')} tasks, 1% crashes, 0.1% hangs`, markdown: lines.join('\n') }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { title, markdown } = await runSoak()
  console.log(`\n### ${title}\n\n${markdown}`)
}
