// The entry module of every worker thread: load the target, tell the producer it is ready (or why
// it is not), then run tasks from the engine until retired.

import { parentPort, workerData } from 'node:worker_threads'

import { toErrorRecord } from '../error-record'
import { WorkerPort } from '../native'
import type { TargetSpec } from '../target'
import { loadTarget } from './load-target'
import { runTasks } from './run-loop'

/** What the producer passes to each worker thread. */
export interface ThreadWorkerData {
  poolId: number
  workerId: number
  target: TargetSpec
}

/** Messages from a worker thread to its producer (control only; tasks go through the engine). */
export type ThreadMessage = { type: 'ready' } | { type: 'load-error'; error: ReturnType<typeof toErrorRecord> }

async function main(): Promise<void> {
  const { poolId, workerId, target } = workerData as ThreadWorkerData
  let fn: (args: unknown) => unknown
  try {
    fn = await loadTarget(target)
  } catch (error) {
    parentPort!.postMessage({ type: 'load-error', error: toErrorRecord(error) } satisfies ThreadMessage)
    return
  }
  parentPort!.postMessage({ type: 'ready' } satisfies ThreadMessage)
  await runTasks(WorkerPort.attach(poolId, workerId), fn)
  // Retired. Timers or sockets the target left open must not keep a retired worker alive.
  process.exit(0)
}

void main()
