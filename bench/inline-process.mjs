// An ML job's inline loop on one thread, in a process of its own (inline-child.mjs) that is
// given the items and warmed before anything is timed: a clean single thread, for the ML
// sections' baseline (ml.mjs) and the machine's ceiling (ceiling.mjs).
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const script = fileURLToPath(new URL('./inline-child.mjs', import.meta.url))

/** A warm process running `task`'s inline loop over `items`: `run(passes)` resolves with the seconds; `close()` ends it. */
export async function inlineProcess(task, items) {
  const proc = fork(script, [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const answer = () =>
    new Promise((resolve, reject) => {
      const exited = (code) => reject(new Error(`an inline process of ${task} exited with code ${code} before answering`))
      proc.once('exit', exited)
      proc.once('message', (message) => {
        proc.off('exit', exited)
        resolve(message)
      })
    })
  const ready = answer()
  proc.send({ task, items })
  await ready
  return {
    run: async (passes) => {
      const done = answer()
      proc.send({ passes })
      return (await done).seconds
    },
    close: () => proc.disconnect(),
  }
}
