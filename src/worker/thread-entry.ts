// The entry module of every worker thread: prepare (load the target, run setup), tell the
// producer, then run tasks from the engine until retired.

import { parentPort, workerData } from 'node:worker_threads'

import { WorkerPort } from '../native'
import type { TargetSpec } from '../target'
import { runTasks } from './run-loop'
import { prepareWorker } from './start'

/** What the producer passes to each worker thread. */
export interface ThreadWorkerData {
  poolId: number
  workerId: number
  slot: number
  target: TargetSpec
}

async function main(): Promise<void> {
  const { poolId, workerId, slot, target } = workerData as ThreadWorkerData
  const { message, run } = await prepareWorker(target, slot)
  parentPort!.postMessage(message)
  if (run === undefined) return
  await runTasks(WorkerPort.attach(poolId, workerId), run)
  // Retired. Timers or sockets the target left open must not keep a retired worker alive.
  process.exit(0)
}

void main()
