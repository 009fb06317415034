// Memory on an endless stream: 10M tiny tasks through qdmp's map() with a window of 1,024, and
// piscina with the same window written by hand (2M tasks: it is ten times slower), each in a
// child process of its own; qdmp also with V8's young generation capped by a Node flag, as a
// control: qdmp's producer keeps nothing per task alive across scavenges, so the cap should change
// nothing. Reports the RSS after 1M tasks, at the end, and the peak (the kernel's high-water mark).
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

import { log } from './harness.mjs'

const WINDOW = 1024
const QDMP_TASKS = Number(process.env.QDMP_BENCH_STREAM_TASKS ?? 10_000_000)
const PISCINA_TASKS = Number(process.env.QDMP_BENCH_STREAM_BASELINE_TASKS ?? 2_000_000)
const child = fileURLToPath(new URL('./stream-child.mjs', import.meta.url))

function runChild(kind, tasks, flags = []) {
  log(`  stream: ${kind} ${flags.join(' ')}, ${tasks.toLocaleString('en-US')} tasks, window ${WINDOW} ...`)
  const out = execFileSync(process.execPath, [...flags, child, kind, String(tasks), String(WINDOW)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  const result = JSON.parse(out.trim().split('\n').pop())
  log(`  stream: ${kind}: ${JSON.stringify(result)}`)
  return result
}

export async function runStream() {
  const rows = [
    { name: 'piscina (hand-written window)', ...runChild('piscina', PISCINA_TASKS) },
    { name: 'qdmp map()', ...runChild('qdmp', QDMP_TASKS) },
    // V8 doubles the young generation (up to 16 MB semi-spaces) each time enough bytes have
    // survived scavenges; capping it with this flag shows how much of the peak is that growth.
    { name: 'qdmp map(), node --max-semi-space-size=4', ...runChild('qdmp', QDMP_TASKS, ['--max-semi-space-size=4']) },
  ]
  const lines = ['| case | tasks | RSS after 1M | RSS at the end | growth | peak RSS | rate |', '|---|---:|---:|---:|---:|---:|---:|']
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.tasks.toLocaleString('en-US')} | ${r.rssAt1M} MB | ${r.rssAtEnd} MB | ${r.rssAtEnd - r.rssAt1M} MB | ` +
        `${r.peakRss} MB | ${Math.round(r.rate).toLocaleString('en-US')} tasks/s |`,
    )
  }
  return {
    id: 'stream',
    title: `Endless stream: tiny tasks through a window of ${WINDOW}, memory (one run each, own process)`,
    markdown: lines.join('\n'),
    chart: { unit: 'MB peak RSS', better: 'lower', bars: rows.map((r) => ({ name: r.name, value: r.peakRss })) },
    results: rows,
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { title, markdown } = await runStream()
  console.log(`\n### ${title}\n\n${markdown}`)
}
