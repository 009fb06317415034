// The entry module of every worker thread: prepare (load the target, run setup), tell the
// producer, then run tasks from the engine until retired.

import { type MessagePort, parentPort, workerData } from 'node:worker_threads'

import { WorkerPort } from '../native'
import { portedMessage } from '../result-ports'
import type { TargetSpec } from '../target'
import { runTasks, type SendMoved } from './run-loop'
import { prepareWorker } from './start'

/** What the producer passes to each worker thread. */
export interface ThreadWorkerData {
  poolId: number
  workerId: number
  slot: number
  target: TargetSpec
  /** Where results marked with move() go, buffers transferred (see ResultPorts). */
  results: MessagePort
}

async function main(): Promise<void> {
  const { poolId, workerId, slot, target, results } = workerData as ThreadWorkerData
  const { message, run } = await prepareWorker(target, slot)
  parentPort!.postMessage(message)
  if (run === undefined) return
  let sequence = 0
  const sendMoved: SendMoved = (value, transfer) => {
    const { message, transferList } = portedMessage(sequence, value, transfer)
    results.postMessage(message, transferList)
    return { workerId, sequence: sequence++ }
  }
  await runTasks(WorkerPort.attach(poolId, workerId), run, sendMoved)
  // Retired. Timers or sockets the target left open must not keep a retired worker alive.
  process.exit(0)
}

void main()
