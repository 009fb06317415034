// Runs benchmark cases in interleaved rounds (so machine noise hits every case alike) and
// reports medians and ratios against a baseline measured in the same run.

// Nine: on this shared 2-core machine the medians of five moved a ratio by up to 0.1 from one
// full run to the next, enough to put a target on either side of its line.
export const ROUNDS = Number(process.env.QDMP_BENCH_ROUNDS ?? 9)
export const log = (...parts) => console.error(...parts)

/** Median of a list of numbers. */
export function median(values) {
  return percentile(values, 50)
}

/** The `p`th percentile (nearest rank) of a list of numbers. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b)
  if (p === 50) {
    const mid = sorted.length >> 1
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  }
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

/**
 * Runs every case `rounds` times, round-robin. A case is `{ name, setup, run, teardown }`
 * (`name` a string, or a function of the context `setup()` returned):
 * `setup()` once (pool start, warm-up), `run(ctx)` per round returning the number of tasks done,
 * `teardown(ctx)` once. Returns `{ name, rates, median }` per case, rates in tasks per second.
 */
export async function measure(cases, { rounds = ROUNDS } = {}) {
  const state = []
  for (const c of cases) {
    const ctx = await c.setup()
    state.push({ c, ctx, name: typeof c.name === 'function' ? c.name(ctx) : c.name, rates: [] })
  }
  for (let round = 1; round <= rounds; round++) {
    for (const s of state) {
      const started = process.hrtime.bigint()
      const tasks = await s.c.run(s.ctx)
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      s.rates.push(tasks / seconds)
      log(`  round ${round}/${rounds}  ${s.name.padEnd(30)} ${formatRate(tasks / seconds)}`)
    }
  }
  for (const s of state) await closeWithin(s.name, () => s.c.teardown?.(s.ctx))
  return state.map((s) => ({ name: s.name, rates: s.rates, median: median(s.rates) }))
}

const CLOSE_LIMIT_MS = 15_000
const unclosed = []

/**
 * Closes a pool whose figures are taken, waiting at most 15 s. A close that never settles once
 * ended a full run with Node's exit code 13 (nothing left to keep the process alive) before the
 * report was printed: poolifier's `destroy()` after the payload rounds, on 2026-11-25. Its
 * figures stand, so the run names it and goes on; `unclosedPools()` lists such pools.
 */
export async function closeWithin(name, close) {
  log(`  closing ${name}`)
  let timer
  const limit = new Promise((resolve) => {
    timer = setTimeout(resolve, CLOSE_LIMIT_MS, 'unsettled')
  })
  try {
    if ((await Promise.race([close(), limit])) === 'unsettled') {
      log(`  ${name}: closing did not settle in ${CLOSE_LIMIT_MS / 1000} s; its figures stand, going on without it`)
      unclosed.push(name)
    }
  } finally {
    clearTimeout(timer)
  }
}

/** The pools whose close never settled (`closeWithin`). */
export function unclosedPools() {
  return [...unclosed]
}

export function formatRate(rate) {
  return `${Math.round(rate).toLocaleString('en-US')} tasks/s`
}

function compact(rate) {
  if (rate >= 1e6) return (rate / 1e6).toFixed(1) + 'M'
  if (rate >= 1e4) return Math.round(rate / 1000) + 'k'
  if (rate >= 1e3) return (rate / 1000).toFixed(1) + 'k'
  return String(Math.round(rate))
}

/** A Markdown table of median rates, with each case's ratio to `baseline`. */
export function rateTable(results, baseline) {
  const base = results.find((r) => r.name === baseline)
  const lines = [`| case | median | rounds | vs ${baseline} |`, '|---|---:|---|---:|']
  for (const r of results) {
    const ratio = base ? (r.median / base.median).toFixed(2) + '×' : '–'
    lines.push(`| ${r.name} | ${formatRate(r.median)} | ${r.rates.map(compact).join(' ')} | ${ratio} |`)
  }
  return lines.join('\n')
}

/** Chart data for rates: one bar per case. */
export function rateBars(results) {
  return results.map((r) => ({ name: r.name, value: r.median }))
}
