// Spawns worker processes for ProcessPoolHandler and PoolHandler and adapts them to the
// supervisor's WorkerHandle. Tasks never pass through here: each child talks to the engine over
// a socket the engine serves; the IPC channel carries only the start message.

import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import type { ResourceLimits } from 'node:worker_threads'

import { fromErrorRecord } from './error-record'
import type { NativePoolType } from './native'
import { type Spawner, StartFailure, type WorkerExit, type WorkerHandle } from './supervisor'
import type { TargetSpec } from './target'
import type { ProcessInit } from './worker/process-entry'
import type { StartMessage } from './worker/start'

const ENTRY = join(__dirname, 'worker', 'process-entry.js')

/** The descriptor number at which each child finds the engine's socket. */
const CHANNEL_FD = 3

/** Settings applied to every worker process. */
export interface ProcessSettings {
  execArgv?: string[] | undefined
  resourceLimits?: ResourceLimits | undefined
}

/** Node flags equivalent to the V8 limits a worker thread would get. */
export function limitFlags(limits: ResourceLimits | undefined): string[] {
  if (limits === undefined) return []
  const flags: string[] = []
  if (limits.maxOldGenerationSizeMb !== undefined) flags.push(`--max-old-space-size=${limits.maxOldGenerationSizeMb}`)
  if (limits.stackSizeMb !== undefined) flags.push(`--stack-size=${Math.floor(limits.stackSizeMb * 1024)}`)
  return flags
}

function exitOf(child: ChildProcess): Promise<WorkerExit> {
  return new Promise((resolve) => {
    let done = false
    const finish = (exit: WorkerExit): void => {
      if (done) return
      done = true
      resolve(exit)
    }
    child.once('exit', (code, signal) => finish({ code, signal }))
    // A spawn that fails (no such executable, too many processes) emits 'error' and maybe no 'exit'.
    child.once('error', (error) => {
      if (child.pid === undefined) finish({ code: null, signal: null, error })
    })
  })
}

/** A spawner of worker processes served by `native`, running `target`. */
export function processSpawner(native: NativePoolType, target: TargetSpec, settings: ProcessSettings): Spawner {
  const execArgv = [...(settings.execArgv ?? process.execArgv), ...limitFlags(settings.resourceLimits)]
  return (slot, workerId): WorkerHandle => {
    const fd = native.openChannel(workerId)
    let child: ChildProcess
    try {
      child = spawn(process.execPath, [...execArgv, ENTRY], {
        stdio: ['ignore', 'inherit', 'inherit', fd, 'ipc'],
        windowsHide: true,
      })
    } finally {
      native.closeChannelFd(fd) // the child has its own copy now
    }
    if (child.pid !== undefined) native.setWorkerPid(workerId, child.pid)
    const exited = exitOf(child)
    const ready = new Promise<void>((resolve, reject) => {
      child.once('message', (message: StartMessage) => {
        if (message.type === 'ready') resolve()
        else reject(new StartFailure(message.stage, fromErrorRecord(message.error)))
      })
      void exited.then((exit) => {
        const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`
        const cause = exit.error instanceof Error ? `: ${exit.error.message}` : ''
        reject(new StartFailure('load', new Error(`the worker process ${how} while starting${cause}`, { cause: exit.error })))
      })
    })
    const init: ProcessInit = { type: 'init', slot, fd: CHANNEL_FD, target }
    child.send(init)
    return {
      ready,
      exited,
      kill: () => void child.kill('SIGKILL'),
      setRef: (ref) => (ref ? child.ref() : child.unref()),
    }
  }
}
