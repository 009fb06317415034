// The shapes the Handler API takes and returns, apart from the class that implements them.

import type { ProcessingException } from './errors'

/** Counts of tasks by state. Every accepted task is in exactly one of `pending`, `running`, `completed`, `failed`, `discardedResults`, `cancelled`. */
export interface HandlerStats {
  /** Arguments given to `addTasks`. */
  submitted: number
  /** Arguments that became tasks (`submitted - discardedArgs`). */
  accepted: number
  /** Arguments discarded by `validateArgs` or refused (uncloneable, hook threw). */
  discardedArgs: number
  /** Re-submissions by `handleError` (not a state: a retried task is pending again). */
  retried: number
  /** Tasks waiting for a worker. */
  pending: number
  /**
   * Tasks handed to a worker whose outcome the handler has not settled yet: running, or held by a
   * worker process to start next (see the README, "Threads, processes or `PoolHandler`?").
   */
  running: number
  /** Tasks whose result was kept. */
  completed: number
  /** Tasks reported as failed. */
  failed: number
  /** Tasks whose result `validateResult` discarded. */
  discardedResults: number
  /** Tasks returned unprocessed by `stop()` or cancelled by `cancelProcesses()`. */
  cancelled: number
}

/** Options of {@link Handler.stop}. */
export interface StopOptions {
  /** End the workers at once; the arguments of the tasks they were running are returned too. */
  force?: boolean
  /** Wait at most this many milliseconds for running tasks, then stop as with `force`. */
  timeout?: number
  /** Aborting turns a graceful stop into a forced one. */
  signal?: AbortSignal
}

/** An outcome of `results()`: a task added with `addTasks` or `submit`. */
export type ResultOutcome<R> =
  | {
      /** The task succeeded. */
      status: 'fulfilled'
      /** Its result (accepted by `validateResult`). */
      value: R
    }
  | {
      /** The task failed for good. */
      status: 'rejected'
      /** The report of the failure. */
      reason: ProcessingException
    }

/** What {@link Handler.stop} resolves with. */
export interface StopResult<A> {
  /** Arguments of the tasks that never finished: queued ones (and, forced, running ones). */
  unprocessed: A[]
}

/** Options of {@link Handler.processResults}. */
export interface ProcessResultsOptions {
  /** `false`: return what is ready now, without waiting. Default `true`. */
  wait?: boolean
}

/**
 * Engine settings a subclass adds to the shared options.
 * @internal
 */
export interface EngineSettings {
  idleTimeoutMs?: number | undefined
  /** Whether workers share this process's memory (threads), so moved buffers can be viewed in place. */
  sharedMemory?: boolean
}
