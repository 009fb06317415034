// The entry module of every worker process: attach to the producer's engine through the socket
// inherited as fd 3, prepare (load the target, run setup), tell the producer over the IPC
// channel, then run tasks until retired. The process exits with its producer, even mid-task.

import { RemotePort } from '../native'
import type { TargetSpec } from '../target'
import { runTasks } from './run-loop'
import { prepareWorker } from './start'

/** The one message the producer sends a new worker process. */
export interface ProcessInit {
  type: 'init'
  slot: number
  /** The descriptor of the engine's socket in this process. */
  fd: number
  target: TargetSpec
}

async function main(init: ProcessInit): Promise<void> {
  const port = RemotePort.open(init.fd)
  const { message, run } = await prepareWorker(init.target, init.slot)
  // The IPC channel only carries this message: close it once sent, so that it keeps nothing alive.
  await new Promise<void>((resolve) => process.send!(message, () => resolve()))
  process.disconnect()
  if (run === undefined) process.exit(1)
  await runTasks(port, run)
  process.exit(0)
}

// Ctrl-C in a terminal signals the whole foreground process group, workers included. Whether a
// Ctrl-C stops work is the producer's decision (it stops its handler, or exits, and its workers
// with it), so a worker does not die of it mid-task.
process.on('SIGINT', () => {})

process.once('message', (init: ProcessInit) => void main(init))
