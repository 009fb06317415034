// One streaming run in its own process, so that its memory is all that its RSS shows:
// `node bench/stream-child.mjs <qdmp|piscina> <tasks> <window>`. Prints one JSON line: the RSS
// after 1M tasks and at the end, the peak RSS, and the rate.
import { readFileSync } from 'node:fs'

import { pump, threadPools } from './pools.mjs'

const [kind, total, window] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])]
const CHECKPOINT = 1_000_000
const mb = (bytes) => Math.round(bytes / 2 ** 20)

// The kernel's high-water mark of this process's RSS. Not resourceUsage().maxRSS: Linux carries
// that over from the parent through fork and exec, so a child of a big bench process would
// report its parent's peak.
function peakRss() {
  const line = readFileSync('/proc/self/status', 'utf8').match(/^VmHWM:\s+(\d+) kB/m)
  return line ? Math.round(Number(line[1]) / 1024) : mb(process.memoryUsage.rss())
}

function* numbers(count) {
  for (let i = 0; i < count; i++) yield i
}

const pool = await threadPools[kind]('square', 2, () => 3)
let rssAtCheckpoint = null
const checkpoint = (done) => {
  if (done === CHECKPOINT) rssAtCheckpoint = process.memoryUsage.rss()
}
const started = performance.now()
let done = 0
if (kind === 'qdmp') {
  for await (const _ of pool.handler.map(numbers(total), { window })) checkpoint(++done)
} else {
  // piscina has no lazy source: a hand-written window of promises, as its users write it.
  await pump((arg) => pool.call(arg).then(() => checkpoint(++done)), total, window, (i) => [i])
}
const seconds = (performance.now() - started) / 1000
const result = {
  tasks: done,
  rate: done / seconds,
  rssAt1M: mb(rssAtCheckpoint),
  rssAtEnd: mb(process.memoryUsage.rss()),
  peakRss: peakRss(),
}
await pool.close()
console.log(JSON.stringify(result))
