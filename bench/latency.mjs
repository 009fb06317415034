// Round-trip latency: one task at a time (x => x * x), each awaited before the next is sent,
// on 2 workers, after each pool has made WARM_CALLS such calls untimed. Each round gives a
// median and a 99th percentile of its calls' times; reported are the medians of those over the
// rounds.
import { fileURLToPath } from 'node:url'

import { closeWithin, log, median, percentile, ROUNDS } from './harness.mjs'
import { processPools, threadPools } from './pools.mjs'

const CALLS = Number(process.env.QDMP_BENCH_CALLS ?? 5_000)
const WORKERS = 2
// Untimed sequential calls each pool makes before its rounds. V8 compiles a function only after
// it has run many times, and a call path that runs once per round trip took about 15,000 calls to
// be fully compiled (`--trace-opt`): without these, the first rounds time the JIT at work.
const WARM_CALLS = Number(process.env.QDMP_BENCH_WARM_CALLS ?? 20_000)

/** Times `CALLS` sequential calls per round, rounds interleaved across pools. */
export async function measureLatency(pools) {
  const opened = []
  for (const [key, open] of Object.entries(pools)) {
    const pool = await open('square', WORKERS, () => 3)
    for (let i = 0; i < WARM_CALLS; i++) await pool.call(i)
    opened.push({ key, pool, medians: [], p99s: [] })
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const o of opened) {
      const times = new Float64Array(CALLS)
      for (let i = 0; i < CALLS; i++) {
        const started = process.hrtime.bigint()
        await o.pool.call(i)
        times[i] = Number(process.hrtime.bigint() - started) / 1e3
      }
      o.medians.push(median(times))
      o.p99s.push(percentile(times, 99))
      log(`  round ${round}/${ROUNDS}  ${o.pool.name.padEnd(30)} median ${median(times).toFixed(1)} µs  p99 ${percentile(times, 99).toFixed(1)} µs`)
    }
  }
  for (const o of opened) await closeWithin(o.pool.name, o.pool.close)
  return opened.map((o) => ({
    key: o.key,
    name: o.pool.name,
    median: median(o.medians),
    p99: median(o.p99s),
    medians: o.medians,
    p99s: o.p99s,
  }))
}

/** A Markdown table of latencies with ratios to `baseline` (lower is better). */
export function latencyTable(results, baseline) {
  const base = results.find((r) => r.key === baseline)
  const lines = [
    `| case | median | p99 | per round (median/p99) | median vs ${base.name} | p99 vs ${base.name} |`,
    '|---|---:|---:|---|---:|---:|',
  ]
  for (const r of results) {
    lines.push(
      `| ${r.name} | ${r.median.toFixed(1)} µs | ${r.p99.toFixed(1)} µs | ${r.medians.map((m, i) => `${m.toFixed(0)}/${r.p99s[i].toFixed(0)}`).join(' ')} | ` +
        `${(r.median / base.median).toFixed(2)}× | ${(r.p99 / base.p99).toFixed(2)}× |`,
    )
  }
  return lines.join('\n')
}

const latencyBars = (results) => results.map((r) => ({ name: r.name, value: r.median, extra: r.p99 }))

export async function runLatency() {
  log(`latency: ${CALLS} sequential calls per round after ${WARM_CALLS} untimed, ${WORKERS} workers, ${ROUNDS} rounds`)
  const results = await measureLatency(threadPools)
  return {
    id: 'latency',
    title: `Round-trip latency, one task at a time (${CALLS.toLocaleString('en-US')} calls per round after ${WARM_CALLS.toLocaleString('en-US')} untimed, ${WORKERS} workers)`,
    markdown: latencyTable(results, 'piscina'),
    chart: { unit: 'µs (median; p99 in the label)', better: 'lower', bars: latencyBars(results) },
    results,
  }
}

export async function runProcessLatency() {
  log(`process latency: ${CALLS} sequential calls per round after ${WARM_CALLS} untimed, ${WORKERS} workers, ${ROUNDS} rounds`)
  const results = await measureLatency(processPools)
  return {
    id: 'process-latency',
    title: `Process workers: round-trip latency, one task at a time (${CALLS.toLocaleString('en-US')} calls per round after ${WARM_CALLS.toLocaleString('en-US')} untimed)`,
    markdown: latencyTable(results, 'workerpool'),
    chart: { unit: 'µs (median; p99 in the label)', better: 'lower', bars: latencyBars(results) },
    results,
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const which = process.argv[2] === 'process' ? runProcessLatency : runLatency
  const { title, markdown } = await which()
  console.log(`\n### ${title}\n\n${markdown}`)
}
