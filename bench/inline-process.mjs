// An ML job's inline loop in a process of its own, forked with an advanced-serialization IPC
// channel: given `{ task, items }`, runs the loop over the items twice untimed and says 'ready';
// then each `{ passes }` runs that many passes, timed, and is answered with the seconds. A clean
// single thread, for the ML sections' baseline (ml.mjs) and the machine's ceiling (ceiling.mjs).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

process.once('message', ({ task, items }) => {
  const fn = require('./tasks/tasks.cjs')[task]
  let sink = 0
  const pass = () => {
    for (const item of items) sink += fn(item).length
  }
  pass()
  pass()
  process.on('message', ({ passes }) => {
    const started = process.hrtime.bigint()
    for (let i = 0; i < passes; i++) pass()
    process.send({ seconds: Number(process.hrtime.bigint() - started) / 1e9, sink })
  })
  process.send('ready')
})
