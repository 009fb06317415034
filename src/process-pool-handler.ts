// ProcessPoolHandler: the Handler API with targets running in child processes.

import { Handler } from './handler'
import type { NativePoolType } from './native'
import type { HandlerOptions } from './options'
import { processSpawner } from './process-host'
import type { Spawner } from './supervisor'
import { resolveTarget, type Target, type TargetSpec } from './target'
import { processOptionChecks, type WorkerOptions } from './worker-options'

/** Options of a {@link ProcessPoolHandler}. */
export interface ProcessPoolOptions<A = any, R = any> extends HandlerOptions<A, R>, WorkerOptions {}

/**
 * Runs a target function in a pool of child processes: the same API and semantics as
 * {@link ThreadPoolHandler}, with the isolation of a process. Choose it for native code that may
 * crash the process, memory that must go back to the operating system, or work that must be
 * killable at any point. The queue, scheduling and time limits stay in this process's native core;
 * each child talks to it over a socket that this thread's event loop reads, and the core answers
 * on it directly. A producer that blocks its event loop for long leaves the processes idle once
 * they have run the tasks they hold.
 *
 * Needs a Unix system (Linux, macOS).
 */
export class ProcessPoolHandler<A = any, R = any> extends Handler<A, R> {
  readonly #settings: WorkerOptions

  constructor(target: Target<A, R>, options?: ProcessPoolOptions<A, R>) {
    super(resolveTarget(target), options, processOptionChecks)
    this.#settings = { ...options }
  }

  protected spawner(native: NativePoolType, target: TargetSpec, _ports: unknown, collect: () => void): Spawner {
    const { resourceLimits, execArgv } = this.#settings
    return processSpawner(native, target, { resourceLimits, execArgv }, collect)
  }
}
