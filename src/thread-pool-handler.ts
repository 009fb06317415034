// ThreadPoolHandler: the Handler API with targets running in worker_threads.

import { Handler } from './handler'
import type { NativePoolType } from './native'
import type { HandlerOptions } from './options'
import type { Spawner } from './supervisor'
import { resolveTarget, type Target, type TargetSpec } from './target'
import type { ResultPorts } from './result-ports'
import { threadSpawner } from './thread-host'
import { threadOptionChecks, type WorkerOptions } from './worker-options'

/** Options of a {@link ThreadPoolHandler}. */
export interface ThreadPoolOptions<A = any, R = any> extends HandlerOptions<A, R>, WorkerOptions {}

/**
 * Runs a target function in a pool of worker threads.
 *
 * @example
 * ```ts
 * const handler = new ThreadPoolHandler((x: number) => x * x)
 * await handler.start(2)
 * handler.addTasks([1, 2, 3])
 * const [results, errors] = await handler.processResults()
 * await handler.stop()
 * ```
 */
export class ThreadPoolHandler<A = any, R = any> extends Handler<A, R> {
  readonly #settings: WorkerOptions

  constructor(target: Target<A, R>, options?: ThreadPoolOptions<A, R>) {
    super(resolveTarget(target), options, threadOptionChecks, { sharedMemory: true })
    this.#settings = { ...options }
  }

  protected spawner(native: NativePoolType, target: TargetSpec, ports: ResultPorts | null): Spawner {
    const { resourceLimits, execArgv } = this.#settings
    return threadSpawner(native.id, target, { resourceLimits, execArgv, ports: ports! })
  }
}
