// The process of inline-process.mjs, forked with an advanced-serialization IPC channel: given
// `{ task, items }`, runs the ML job's inline loop over the items twice untimed and says 'ready';
// then each `{ passes }` runs that many passes, timed, and is answered with the seconds.
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
