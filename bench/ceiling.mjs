// How far this machine scales an ML job at all, with no pool and nothing shared: the job's inline
// loop in one process alone, then in two processes at once (started together once both are
// warm), trial after trial. Per trial, the two processes' throughput against the one's is
// 2 × (the one's time) / (the slower of the two's time): what any two workers could reach here
// on this job at best, whatever carries the work to them. The ML sections (ml.mjs) report it.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { log, median } from './harness.mjs'

const child = fileURLToPath(new URL('./ceiling-child.mjs', import.meta.url))
export const CEILING_TRIALS = Number(process.env.QDMP_BENCH_CEILING_TRIALS ?? 7)

/**
 * Forks `count` processes of the job over `items` and, once all are warm, starts their timed
 * passes together; their seconds.
 */
async function timeTogether(task, items, passes, count) {
  const options = { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }
  const children = Array.from({ length: count }, () => fork(child, [], options))
  const message = (c) =>
    new Promise((resolve, reject) => {
      c.once('message', resolve)
      c.once('exit', (code) => reject(new Error(`ceiling: a child of ${task} exited with code ${code} before answering`)))
    })
  const ready = children.map(message)
  for (const c of children) c.send({ task, items, passes })
  await Promise.all(ready)
  const answers = children.map(message)
  for (const c of children) c.send('go')
  return (await Promise.all(answers)).map((answer) => answer.seconds)
}

/**
 * `trials` pairs of runs of `task`'s inline loop over `items` (`passes` passes each): one process
 * alone, then two at once. Returns each trial's ratio (2 × alone / slower of the pair), their
 * median, and the median rates of the process alone and of the two together, in items per second.
 */
export async function machineCeiling(task, items, passes, trials = CEILING_TRIALS) {
  const ratios = []
  const aloneRates = []
  const pairRates = []
  for (let trial = 1; trial <= trials; trial++) {
    const [alone] = await timeTogether(task, items, passes, 1)
    aloneRates.push((items.length * passes) / alone)
    const pair = await timeTogether(task, items, passes, 2)
    ratios.push((2 * alone) / Math.max(...pair))
    pairRates.push((2 * items.length * passes) / Math.max(...pair))
    log(`  ceiling ${trial}/${trials}  ${task}: alone ${alone.toFixed(2)} s, two at once ${pair.map((s) => s.toFixed(2)).join(' and ')} s: ${ratios.at(-1).toFixed(2)}×`)
  }
  return { ratios, median: median(ratios), aloneRate: median(aloneRates), pairRate: median(pairRates) }
}
