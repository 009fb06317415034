// `npm run bench`: every benchmark, one after the other, then one Markdown report on stdout.
import { runTiny } from './tiny.mjs'

const sections = []
for (const bench of [runTiny]) {
  const { title, markdown } = await bench()
  sections.push(`### ${title}\n\n${markdown}`)
}
console.log(`\n## qdmp benchmarks (${new Date().toISOString().slice(0, 10)}, Node ${process.version})\n`)
console.log(sections.join('\n\n'))
