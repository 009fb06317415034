// How far this machine scales an ML job at all, with no pool and nothing shared: the job's inline
// loop in one process alone, then in two processes at once (started together once both are
// warm), trial after trial. Per trial, the two processes' throughput against the one's is
// 2 × (the one's time) / (the slower of the two's time): what any two workers could reach here
// on this job at best, whatever carries the work to them. The ML sections (ml.mjs) report it.
import { log, median } from './harness.mjs'
import { inlineProcess } from './inline-process.mjs'

export const CEILING_TRIALS = Number(process.env.QDMP_BENCH_CEILING_TRIALS ?? 7)

/** Times `passes` passes in each of `count` warm inline processes, started together; their seconds. */
async function timeTogether(task, items, passes, count) {
  const processes = await Promise.all(Array.from({ length: count }, () => inlineProcess(task, items)))
  try {
    return await Promise.all(processes.map((p) => p.run(passes)))
  } finally {
    for (const p of processes) p.close()
  }
}

/**
 * `trials` pairs of runs of `task`'s inline loop over `items` (`passes` passes each): one process
 * alone, then two at once. Returns each trial's ratio (2 × alone / slower of the pair), their
 * median, and the median rate of the two together, in items per second.
 */
export async function machineCeiling(task, items, passes, trials = CEILING_TRIALS) {
  const ratios = []
  const pairRates = []
  for (let trial = 1; trial <= trials; trial++) {
    const [alone] = await timeTogether(task, items, passes, 1)
    const pair = await timeTogether(task, items, passes, 2)
    ratios.push((2 * alone) / Math.max(...pair))
    pairRates.push((2 * items.length * passes) / Math.max(...pair))
    log(`  ceiling ${trial}/${trials}  ${task}: alone ${alone.toFixed(2)} s, two at once ${pair.map((s) => s.toFixed(2)).join(' and ')} s: ${ratios.at(-1).toFixed(2)}×`)
  }
  return { ratios, median: median(ratios), pairRate: median(pairRates) }
}
