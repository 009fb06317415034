// ThreadPoolHandler: the Handler API with targets running in worker_threads.

import type { ResourceLimits } from 'node:worker_threads'

import { describeValue } from './describe'
import { ErrorCode, QdmpRangeError, QdmpTypeError } from './errors'
import { Handler } from './handler'
import { handlerOptionChecks, type HandlerOptions, type OptionCheck } from './options'
import type { Spawner } from './supervisor'
import type { Target, TargetSpec } from './target'
import { threadSpawner } from './thread-host'

/** Options of a {@link ThreadPoolHandler}. */
export interface ThreadPoolOptions<A = any, R = any> extends HandlerOptions<A, R> {
  /** V8 heap and stack limits of each worker thread; a worker that exceeds them exits (its task fails with `ERR_QDMP_WORKER_EXITED`). */
  resourceLimits?: ResourceLimits
  /**
   * Node options of each worker thread. Default: the process's own `process.execArgv`, so a
   * TypeScript loader given to `node` reaches the workers. Pass `[]` to start workers without it
   * when the targets are plain JavaScript (loaders can cost a second per worker start).
   */
  execArgv?: string[]
}

const RESOURCE_LIMITS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb']

const isResourceLimits: OptionCheck = (value, name) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new QdmpTypeError(ErrorCode.InvalidOption, `options.${name} must be an object, got ${describeValue(value)}`, { option: name })
  }
  for (const [key, limit] of Object.entries(value)) {
    if (!RESOURCE_LIMITS.includes(key)) {
      throw new QdmpTypeError(
        ErrorCode.InvalidOption,
        `options.${name}.${key} is not a resource limit; known: ${RESOURCE_LIMITS.join(', ')}`,
        { option: name },
      )
    }
    if (limit !== undefined && !(typeof limit === 'number' && Number.isFinite(limit) && limit > 0)) {
      throw new QdmpRangeError(ErrorCode.InvalidOption, `options.${name}.${key} must be a positive number of megabytes, got ${describeValue(limit)}`, {
        option: name,
      })
    }
  }
}

const isStringArray: OptionCheck = (value, name) => {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new QdmpTypeError(ErrorCode.InvalidOption, `options.${name} must be an array of strings, got ${describeValue(value)}`, {
      option: name,
    })
  }
}

const threadOptionChecks: Record<string, OptionCheck> = {
  ...handlerOptionChecks,
  resourceLimits: isResourceLimits,
  execArgv: isStringArray,
}

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
  readonly #settings: ThreadPoolOptions<A, R>

  constructor(target: Target<A, R>, options?: ThreadPoolOptions<A, R>) {
    super(target, options, threadOptionChecks)
    this.#settings = { ...options }
  }

  protected spawner(poolId: number, target: TargetSpec): Spawner {
    const { resourceLimits, execArgv } = this.#settings
    return threadSpawner(poolId, target, { resourceLimits, execArgv })
  }
}
