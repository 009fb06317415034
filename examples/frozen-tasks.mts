// Twin of the Python README's recipe for frozen tasks: find the tasks running for too long,
// cancel them, and resubmit their arguments. Here cancelling really stops them (their workers are
// ended and replaced, no late result arrives), and nothing is lost. `taskTimeout` does all of
// this for you; this is the manual way, for when the limit depends on the task.
import { ThreadPoolHandler } from 'qdmp'

// A task that freezes on its first try for one input: a stand-in for a stuck download.
const handler = new ThreadPoolHandler(async (job: { n: number; retry: boolean }) => {
  if (job.n === 7 && !job.retry) await new Promise((resolve) => setTimeout(resolve, 3_600_000))
  return job.n ** 2
})
await handler.start(2)
handler.addTasks([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => ({ n, retry: false })))
const [done] = await handler.processResults(8) // all but the frozen one

let frozen = handler.checkProcessTimeout(0.05) // running for more than 50 ms
while (frozen.length === 0) {
  await new Promise((resolve) => setTimeout(resolve, 10))
  frozen = handler.checkProcessTimeout(0.05)
}
console.log('frozen:', frozen.map((task) => JSON.stringify(task.args)).join(' '))
const cancelled = handler.cancelProcesses(frozen)
console.log('cancelled:', cancelled.map((report) => report.status).join(' '))
handler.addTasks(frozen.map((task) => ({ ...task.args, retry: true })))
const [rest, errors] = await handler.processResults()
await handler.stop()

console.log('results:', [...done, ...rest].sort((a, b) => a - b).join(' '))
console.log('errors:', errors.length, 'cancelled:', handler.stats().cancelled)
