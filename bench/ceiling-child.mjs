// One process of the machine-ceiling check (ceiling.mjs), forked with an advanced-serialization
// IPC channel: given `{ task, items, passes }`, runs the ML job's inline loop over the items
// twice untimed, says 'ready', and on 'go' times `passes` more passes and sends the seconds.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

process.once('message', ({ task, items, passes }) => {
  const fn = require('./tasks/tasks.cjs')[task]
  let sink = 0
  const pass = () => {
    for (const item of items) sink += fn(item).length
  }
  pass()
  pass()
  process.once('message', () => {
    const started = process.hrtime.bigint()
    for (let i = 0; i < passes; i++) pass()
    process.send({ seconds: Number(process.hrtime.bigint() - started) / 1e9, sink }, () => process.disconnect())
  })
  process.send('ready')
})
