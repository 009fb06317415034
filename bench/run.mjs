// `npm run bench`: every benchmark, one after the other, then one Markdown report on stdout and
// the chart in bench/chart.svg. `npm run bench -- tiny latency` runs only the named ones.
import { writeFileSync } from 'node:fs'
import { availableParallelism, cpus, totalmem } from 'node:os'

import { drawChart } from './chart.mjs'
import { runCpu } from './cpu.mjs'
import { log, ROUNDS, unclosedPools } from './harness.mjs'
import { runProcessLatency, runLatency } from './latency.mjs'
import { runPayload } from './payload.mjs'
import { runStream } from './stream.mjs'
import { runProcessTiny, runTiny } from './tiny.mjs'
import { runImages, runTokenize } from './ml.mjs'

const benches = {
  tiny: runTiny,
  latency: runLatency,
  cpu: runCpu,
  payload: runPayload,
  stream: runStream,
  'process-tiny': runProcessTiny,
  'process-latency': runProcessLatency,
  tokenize: runTokenize,
  images: runImages,
}

const wanted = process.argv.slice(2)
const unknown = wanted.filter((name) => !(name in benches))
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; the benchmarks are: ${Object.keys(benches).join(', ')}`)
  process.exit(2)
}

const sections = []
for (const [name, bench] of Object.entries(benches)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue
  log(`\n== ${name}`)
  sections.push(await bench())
}

const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`
const caption = `qdmp benchmarks: Node ${process.version}, ${machine}, medians of ${ROUNDS} rounds`
console.log(`\n## ${caption} (${new Date().toISOString().slice(0, 10)})\n`)
console.log(sections.map((s) => `### ${s.title}\n\n${s.markdown}`).join('\n\n'))
if (wanted.length === 0) {
  const chart = new URL('./chart.svg', import.meta.url)
  writeFileSync(chart, drawChart(sections, caption))
  log(`\nchart written to bench/chart.svg`)
}
const unclosed = unclosedPools()
if (unclosed.length > 0) {
  // Their workers may still hold the event loop; the report is out, so the run ends here.
  log(`\nnot closed: ${unclosed.join(', ')}; exiting`)
  process.exit(0)
}
