// Spawns worker threads for a ThreadPoolHandler and adapts them to the supervisor's WorkerHandle.

import { join } from 'node:path'
import { type ResourceLimits, Worker } from 'node:worker_threads'

import { fromErrorRecord } from './error-record'
import type { ResultPorts } from './result-ports'
import { type Spawner, StartFailure, type WorkerExit, type WorkerHandle } from './supervisor'
import type { TargetSpec } from './target'
import type { StartMessage } from './worker/start'
import type { ThreadWorkerData } from './worker/thread-entry'

const ENTRY = join(__dirname, 'worker', 'thread-entry.js')

/** Settings applied to every worker thread. */
export interface ThreadSettings {
  resourceLimits?: ResourceLimits | undefined
  execArgv?: string[] | undefined
  /** The producer's ends of the workers' result ports. */
  ports: ResultPorts
}

/** A spawner of worker threads attached to engine `poolId`, running `target`. */
export function threadSpawner(poolId: number, target: TargetSpec, settings: ThreadSettings): Spawner {
  return (slot, workerId): WorkerHandle => {
    const results = settings.ports.open(workerId)
    const workerData: ThreadWorkerData = { poolId, workerId, slot, target, results }
    const worker = new Worker(ENTRY, {
      workerData,
      transferList: [results],
      name: `qdmp worker ${slot}`,
      ...(settings.resourceLimits ? { resourceLimits: settings.resourceLimits } : {}),
      ...(settings.execArgv ? { execArgv: settings.execArgv } : {}),
    })
    let uncaught: unknown
    worker.on('error', (error) => {
      uncaught = error
    })
    const exited = new Promise<WorkerExit>((resolve) => {
      worker.once('exit', (code) => {
        settings.ports.closed(workerId)
        resolve({ code, signal: null, ...(uncaught === undefined ? {} : { error: uncaught }) })
      })
    })
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: StartMessage): void => {
        worker.off('message', onMessage)
        if (message.type === 'ready') resolve()
        else reject(new StartFailure(message.stage, fromErrorRecord(message.error)))
      }
      worker.on('message', onMessage)
      void exited.then((exit) => {
        const cause = exit.error instanceof Error ? `: ${exit.error.message}` : ''
        const error = new Error(`the worker exited with code ${exit.code} while starting${cause}`, { cause: exit.error })
        reject(new StartFailure('load', error))
      })
    })
    return {
      ready,
      exited,
      kill: () => void worker.terminate(),
      setRef: (ref) => (ref ? worker.ref() : worker.unref()),
    }
  }
}
