// PoolHandler: long-lived workers with per-worker state, built once by `setup` (the Python
// library's custom pool), in child processes (default) or threads.

import { Handler } from './handler'
import type { NativePoolType } from './native'
import { type HandlerOptions, isDuration, isOneOf, type OptionCheck } from './options'
import { processSpawner } from './process-host'
import type { Spawner } from './supervisor'
import { resolveStatefulTarget, type StatefulTarget, type TargetSpec } from './target'
import type { ResultPorts } from './result-ports'
import { threadSpawner } from './thread-host'
import { processOptionChecks, threadOptionChecks, type WorkerOptions } from './worker-options'

/** Options of a {@link PoolHandler}. */
export interface PoolHandlerOptions<A = any, R = any> extends HandlerOptions<A, R>, WorkerOptions {
  /** Where workers run: `'process'` (default, as in the Python library) or `'thread'`. */
  isolation?: 'process' | 'thread'
  /**
   * Milliseconds a worker may wait for work before it exits (the Python library's sanity
   * timeout); it is started again, running `setup` again, when work arrives. Default: never.
   */
  idleTimeout?: number
}

const isolation = isOneOf('process', 'thread')

function checksFor(options: PoolHandlerOptions | undefined): Record<string, OptionCheck> {
  const base = options?.isolation === 'thread' ? threadOptionChecks : processOptionChecks
  return { ...base, isolation, idleTimeout: isDuration }
}

/**
 * Runs tasks on long-lived workers that each keep a state, computed once per worker by `setup`
 * (and again in a replacement worker). The target module exports `setup(workerId)` (sync or
 * async; optional) and the task function, called as `(args, state, workerId)`; or pass
 * `{ setup, run }` functions.
 *
 * @example
 * ```ts
 * const handler = new PoolHandler({
 *   setup: (workerId) => ({ vocabulary: new Map([['hello', 1]]), workerId }),
 *   run: (word: string, state) => state.vocabulary.get(word) ?? -1,
 * })
 * await handler.start(2)
 * ```
 */
export class PoolHandler<A = any, R = any, S = any> extends Handler<A, R> {
  readonly #settings: PoolHandlerOptions<A, R>

  constructor(target: StatefulTarget<A, R, S>, options?: PoolHandlerOptions<A, R>) {
    // Checked before use: `isolation` picks which worker options are valid.
    if (options?.isolation !== undefined) isolation(options.isolation, 'isolation')
    const idle = options?.idleTimeout
    super(resolveStatefulTarget(target), options, checksFor(options), {
      idleTimeoutMs: idle === Number.POSITIVE_INFINITY ? undefined : idle,
      sharedMemory: options?.isolation === 'thread',
    })
    this.#settings = { ...options }
  }

  /** The isolation of the workers. */
  get isolation(): 'process' | 'thread' {
    return this.#settings.isolation ?? 'process'
  }

  /** Restarts every worker's idle clock (the Python library's `reset_sanity_timer`). */
  resetSanityTimer(): void {
    this.touchWorkers()
  }

  protected spawner(native: NativePoolType, target: TargetSpec, ports: ResultPorts | null, collect: () => void): Spawner {
    const { resourceLimits, execArgv } = this.#settings
    if (this.isolation === 'thread') return threadSpawner(native.id, target, { resourceLimits, execArgv, ports: ports! })
    return processSpawner(native, target, { resourceLimits, execArgv }, collect)
  }
}
