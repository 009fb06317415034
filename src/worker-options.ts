// Options about the workers themselves (Node flags, memory limits), shared by every handler, and
// their checks. Child processes take the limits as Node flags, so they accept fewer of them.

import type { ResourceLimits } from 'node:worker_threads'

import { describeValue } from './describe'
import { ErrorCode, QdmpRangeError, QdmpTypeError } from './errors'
import { handlerOptionChecks, type OptionCheck } from './options'

/** Options about the workers' runtime. */
export interface WorkerOptions {
  /**
   * V8 heap and stack limits of each worker; a worker that exceeds them exits and its task fails
   * with `ERR_QDMP_WORKER_EXITED`. Child processes support `maxOldGenerationSizeMb` and `stackSizeMb`.
   */
  resourceLimits?: ResourceLimits
  /**
   * Node options of each worker. Default: the process's own `process.execArgv`, so a TypeScript
   * loader given to `node` reaches the workers; child processes leave out the options that choose
   * what a process runs (`-e`, `-p`, `--test`, `--watch`, ...) and the inspector's, from their
   * execArgv and from the NODE_OPTIONS they inherit. Pass `[]` to start workers without any when
   * the targets are plain JavaScript (loaders can cost a second per worker start).
   */
  execArgv?: string[]
}

const THREAD_LIMITS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb']
const PROCESS_LIMITS = ['maxOldGenerationSizeMb', 'stackSizeMb']

function resourceLimits(known: string[], where: string): OptionCheck {
  return (value, name) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new QdmpTypeError(ErrorCode.InvalidOption, `options.${name} must be an object, got ${describeValue(value)}`, { option: name })
    }
    for (const [key, limit] of Object.entries(value)) {
      if (!known.includes(key)) {
        throw new QdmpTypeError(
          ErrorCode.InvalidOption,
          `options.${name}.${key} is not a resource limit ${where}; known: ${known.join(', ')}`,
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
}

export const isStringArray: OptionCheck = (value, name) => {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new QdmpTypeError(ErrorCode.InvalidOption, `options.${name} must be an array of strings, got ${describeValue(value)}`, {
      option: name,
    })
  }
}

/** Checks of a handler whose workers are threads. */
export const threadOptionChecks: Record<string, OptionCheck> = {
  ...handlerOptionChecks,
  resourceLimits: resourceLimits(THREAD_LIMITS, 'of worker threads'),
  execArgv: isStringArray,
}

/** Checks of a handler whose workers are child processes. */
export const processOptionChecks: Record<string, OptionCheck> = {
  ...handlerOptionChecks,
  resourceLimits: resourceLimits(PROCESS_LIMITS, 'child processes support'),
  execArgv: isStringArray,
}
