// Moving large arguments: 2,000 tasks, each a fresh 1 MiB Float32Array that the producer fills
// and moves (transfers, not copies) to a worker, which reads it; at most 64 in flight, 2 workers.
import { fileURLToPath } from 'node:url'

import { log, measure, rateBars, rateTable, ROUNDS } from './harness.mjs'
import { poolCases, threadPools } from './pools.mjs'
import { sumFloats } from './tasks/tasks.cjs'

const TASKS = 2_000
const IN_FLIGHT = 64
const WORKERS = 2
const FLOATS = (1 << 20) / 4

/** A fresh 1 MiB array as a producer would build it (decoded samples, say). */
function payload(i) {
  const values = new Float32Array(FLOATS)
  for (let j = 0; j < FLOATS; j += 1024) values[j] = i + j
  return values
}

export async function runPayload() {
  log(`payload: ${TASKS} tasks of a 1 MiB Float32Array moved, ${WORKERS} workers, at most ${IN_FLIGHT} in flight, ${ROUNDS} rounds`)
  let sink = 0
  const moved = (i) => {
    const values = payload(i)
    return [values, [values.buffer]]
  }
  const warmArg = () => new Float32Array(16)
  const cases = [
    {
      name: 'inline loop',
      setup: () => null,
      run: () => {
        for (let i = 0; i < TASKS; i++) sink += sumFloats(payload(i))
        return TASKS
      },
    },
    ...poolCases(threadPools, { task: 'sumFloats', workers: WORKERS, warmArg, count: TASKS, inFlight: IN_FLIGHT, argOf: moved }),
  ]
  const results = await measure(cases)
  return {
    id: 'payload',
    title: `1 MiB Float32Array per task, moved not copied: ${TASKS.toLocaleString('en-US')} tasks, ${WORKERS} workers, at most ${IN_FLIGHT} in flight`,
    markdown: rateTable(results, 'piscina'),
    chart: { unit: 'tasks/s', better: 'higher', bars: rateBars(results.slice(1)) },
    results,
    sink,
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { title, markdown } = await runPayload()
  console.log(`\n### ${title}\n\n${markdown}`)
}
