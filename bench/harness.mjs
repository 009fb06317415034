// Runs benchmark cases in interleaved rounds (so machine noise hits every case alike) and
// reports medians and ratios against a baseline measured in the same run.

/** Median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * Runs every case `rounds` times, round-robin. A case is `{ name, setup, run, teardown }`:
 * `setup()` once (pool start, warm-up), `run()` per round returning the number of tasks done,
 * `teardown()` once. Returns `{ name, rates, median }` per case, rates in tasks per second.
 */
export async function measure(cases, { rounds = 5, log = console.error } = {}) {
  const state = []
  for (const c of cases) state.push({ c, ctx: await c.setup(), rates: [] })
  for (let round = 1; round <= rounds; round++) {
    for (const s of state) {
      const started = process.hrtime.bigint()
      const tasks = await s.c.run(s.ctx)
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      s.rates.push(tasks / seconds)
      log(`round ${round}/${rounds}  ${s.c.name.padEnd(24)} ${formatRate(tasks / seconds)}`)
    }
  }
  for (const s of state) await s.c.teardown?.(s.ctx)
  return state.map((s) => ({ name: s.c.name, rates: s.rates, median: median(s.rates) }))
}

export function formatRate(rate) {
  return `${Math.round(rate).toLocaleString('en-US')} tasks/s`
}

/** A Markdown table of medians, with each case's ratio to `baseline`. */
export function table(results, baseline) {
  const base = results.find((r) => r.name === baseline)
  const lines = ['| case | median | runs | vs ' + baseline + ' |', '|---|---:|---|---:|']
  for (const r of results) {
    const runs = r.rates.map((x) => Math.round(x / 1000) + 'k').join(' ')
    const ratio = base ? (r.median / base.median).toFixed(2) + '×' : '–'
    lines.push(`| ${r.name} | ${formatRate(r.median)} | ${runs} | ${ratio} |`)
  }
  return lines.join('\n')
}
