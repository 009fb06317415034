// The Handler API shared by every handler: start, addTasks, processResults, stop, stats. The
// engine (native core) owns the tasks; this class owns the lifecycle, the user's hooks and the
// Promises. Subclasses only say how workers are spawned.

import { availableParallelism } from 'node:os'

import { ByteWriter, decode } from './codec'
import { Collector } from './collector'
import { describeValue } from './describe'
import { ErrorCode, fromNative, QdmpError, type QdmpErrorCode, QdmpRangeError, QdmpTypeError } from './errors'
import { completeLogger, defaultLogger, type Logger } from './logger'
import { NativePool, type NativePoolType } from './native'
import { checkOptions, type HandlerOptions, type OptionCheck } from './options'
import { OutcomeQueue, type ResultsAndErrors } from './outcome-queue'
import { type Spawner, Supervisor } from './supervisor'
import { checkTargetFile, resolveTarget, type Target, type TargetSpec } from './target'

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
  /** Tasks a worker has picked up whose outcome the handler has not settled yet. */
  running: number
  /** Tasks whose result was kept. */
  completed: number
  /** Tasks reported as failed. */
  failed: number
  /** Tasks whose result `validateResult` discarded. */
  discardedResults: number
  /** Tasks returned unprocessed by `stop()`. */
  cancelled: number
}

/** Options of {@link Handler.stop}. */
export interface StopOptions {
  /** End the workers at once; the arguments of the tasks they were running are returned too. */
  force?: boolean
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

type Phase = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped'

/** Arguments per native submit call: amortises the call without delaying the first tasks. */
const SUBMIT_BATCH_TASKS = 1024
const SUBMIT_BATCH_BYTES = 1 << 20

/** A rejected argument of one `addTasks` call. */
export interface RejectedArgument {
  index: number
  code: QdmpErrorCode
  error: unknown
}

/** The base of every handler. */
export abstract class Handler<A = any, R = any> {
  readonly #native: NativePoolType
  readonly #target: TargetSpec
  readonly #options: HandlerOptions<A, R>
  readonly #logger: Logger
  readonly #queue = new OutcomeQueue<R>()
  readonly #collector: Collector<A, R>
  readonly #writer = new ByteWriter()
  #phase: Phase = 'idle'
  #supervisor: Supervisor | null = null
  #starting: Promise<void> | null = null
  #stopping: Promise<StopResult<A>> | null = null
  #forced = false
  #forceRequested = false
  #lastTaskId = 0
  #busy = false
  #warnedValidateArgs = false

  protected constructor(target: Target<A, R>, options: HandlerOptions<A, R> | undefined, checks: Record<string, OptionCheck>) {
    this.#target = resolveTarget(target)
    checkOptions(options, checks)
    this.#options = { ...options }
    this.#logger = options?.logger ? completeLogger(options.logger) : defaultLogger
    const maxRetries = options?.maxRetries
    this.#native = new NativePool(maxRetries === undefined || maxRetries === Number.POSITIVE_INFINITY ? {} : { maxRetries })
    this.#collector = new Collector(this.#native, this.#options, this.#logger, this.#queue, this.#target.kind === 'source')
  }

  /** How this handler starts a worker. */
  protected abstract spawner(poolId: number, target: TargetSpec): Spawner

  /** The number of worker slots while started, else 0. */
  get workerCount(): number {
    return this.#supervisor?.size ?? 0
  }

  /**
   * Starts `workers` workers (default: `os.availableParallelism()`) and resolves once every one
   * has loaded the target. Rejects with `ERR_QDMP_TARGET_LOAD` (naming the module and the cause)
   * when the target cannot be loaded, leaving the handler stopped and startable again.
   */
  start(workers?: number): Promise<void> {
    this.#starting = this.#start(workers)
    return this.#starting
  }

  async #start(workers: number | undefined): Promise<void> {
    const count = checkWorkerCount(workers)
    checkTargetFile(this.#target)
    try {
      this.#native.start()
    } catch (error) {
      throw fromNative(error)
    }
    this.#phase = 'starting'
    this.#stopping = null
    this.#forced = false
    this.#forceRequested = false
    this.#native.setNotifier(() => this.#collect())
    const supervisor = new Supervisor(this.#native, this.spawner(this.#native.id, this.#target), count, this.#logger, (slot, cause) =>
      this.#collector.exitCauses.set(slot, cause),
    )
    this.#supervisor = supervisor
    try {
      await supervisor.start(this.#target.display)
    } catch (error) {
      this.#native.stop(true)
      this.#native.close()
      this.#native.takeUnprocessed()
      this.#native.setNotifier(null)
      this.#supervisor = null
      this.#phase = 'stopped'
      throw error
    }
    this.#phase = 'running'
    this.#updateKeepAlive(this.#outstanding())
  }

  #ensureRunning(operation: string): void {
    if (this.#phase === 'running') return
    if (this.#phase === 'idle' || this.#phase === 'starting') {
      const hint = this.#phase === 'starting' ? 'await the start() call before' : 'call `await handler.start()` before'
      throw new QdmpError(ErrorCode.NotStarted, `${operation} needs a started handler; ${hint} adding tasks`)
    }
    throw new QdmpError(
      ErrorCode.Stopped,
      `${operation} cannot add tasks: the handler is ${this.#phase}; call \`await handler.start()\` to use it again`,
    )
  }

  /**
   * Queues one task per argument and returns how many were accepted. Each argument goes through
   * `validateArgs` (a falsy answer discards it) and is cloned for the workers. An argument that
   * cannot be cloned, or makes `validateArgs` throw, is not queued: the others are, and then
   * `addTasks` throws a QdmpError naming the index (`error.rejected` lists them all,
   * `error.accepted` counts the rest).
   */
  addTasks(tasks: Iterable<A>): number {
    this.#ensureRunning('addTasks()')
    if (tasks === null || typeof tasks !== 'object' || typeof (tasks as Iterable<A>)[Symbol.iterator] !== 'function') {
      throw new QdmpTypeError(
        ErrorCode.InvalidArgument,
        `addTasks() takes an iterable of task arguments (an array, Set, generator...), got ${describeValue(tasks)}; ` +
          `to add a single task, wrap it: addTasks([args])`,
      )
    }
    const rejected: RejectedArgument[] = []
    let accepted = 0
    let offered = 0
    let index = 0
    const flush = (): void => {
      if (offered === 0) return
      const writer = this.#writer
      let first: number
      try {
        first = this.#native.submit(writer.bytes(), writer.ends(), offered)
      } catch (error) {
        throw fromNative(error)
      }
      if (writer.count > 0) this.#lastTaskId = first + writer.count - 1
      accepted += writer.count
      writer.reset()
      offered = 0
    }
    this.#writer.reset()
    try {
      for (const args of tasks) {
        const at = index++
        offered++
        if (!this.#validate(args, at, rejected)) continue
        try {
          this.#writer.add(args)
        } catch (error) {
          rejected.push({ index: at, code: ErrorCode.DataClone, error })
        }
        if (this.#writer.count >= SUBMIT_BATCH_TASKS || this.#writer.length >= SUBMIT_BATCH_BYTES) flush()
      }
    } finally {
      flush()
      this.#updateKeepAlive(this.#outstanding())
    }
    if (rejected.length > 0) throw rejectedError(rejected, accepted)
    return accepted
  }

  #validate(args: A, index: number, rejected: RejectedArgument[]): boolean {
    const { validateArgs } = this.#options
    if (validateArgs === undefined) return true
    let ok: unknown
    try {
      ok = validateArgs(args)
    } catch (error) {
      rejected.push({ index, code: ErrorCode.HookFailed, error })
      return false
    }
    if (typeof ok !== 'boolean' && !this.#warnedValidateArgs) {
      this.#warnedValidateArgs = true
      this.#logger.warn(`validateArgs returned ${describeValue(ok)}, not a boolean; its truthiness decides (warned once)`)
    }
    return Boolean(ok)
  }

  /**
   * Returns results and errors not returned before, each exactly once, in completion order.
   * - No `count`: resolves once every task added so far has settled, with everything ready.
   * - `count`: resolves with at most `count` outcomes, as soon as that many are ready or nothing
   *   is outstanding.
   * - `{ wait: false }`: resolves at once with what is ready.
   */
  async processResults(count?: number, options: ProcessResultsOptions = {}): Promise<ResultsAndErrors<R>> {
    if (count !== undefined && !(typeof count === 'number' && count >= 1 && (Number.isInteger(count) || count === Number.POSITIVE_INFINITY))) {
      const Err = typeof count === 'number' ? QdmpRangeError : QdmpTypeError
      throw new Err(ErrorCode.InvalidArgument, `processResults(count): count must be a positive integer or omitted, got ${describeValue(count)}`)
    }
    if (typeof options !== 'object' || options === null || (options.wait !== undefined && typeof options.wait !== 'boolean')) {
      throw new QdmpTypeError(ErrorCode.InvalidArgument, `processResults(count, options): options.wait must be a boolean, got ${describeValue(options?.wait)}`)
    }
    this.#collect()
    if (options.wait === false) return this.#queue.take(count ?? Number.POSITIVE_INFINITY)
    return this.#queue.wait(count, this.#outstanding(), this.#lastTaskId)
  }

  /** Task counts, consistent at the moment of the call. */
  stats(): HandlerStats {
    this.#collect()
    const s = this.#native.stats()
    return {
      submitted: s.submitted,
      accepted: s.accepted,
      discardedArgs: s.discardedArgs,
      retried: s.retried,
      pending: s.pending,
      // Outcomes the engine holds but this thread has not settled yet are still in flight for the user.
      running: s.running + s.settling,
      completed: s.completed,
      failed: s.failed,
      discardedResults: s.discardedResults,
      cancelled: s.cancelled,
    }
  }

  /**
   * Stops the handler. Running tasks finish and their outcomes stay collectable; queued tasks
   * never run and their arguments are returned. With `{ force: true }` the workers are ended at
   * once and the arguments of the tasks they were running are returned too. Calling it again
   * returns the same result; `force` escalates a graceful stop in progress.
   */
  stop(options: StopOptions = {}): Promise<StopResult<A>> {
    if (typeof options !== 'object' || options === null || (options.force !== undefined && typeof options.force !== 'boolean')) {
      return Promise.reject(
        new QdmpTypeError(ErrorCode.InvalidArgument, `stop(options): options.force must be a boolean, got ${describeValue(options?.force)}`),
      )
    }
    const force = options.force === true
    if (this.#stopping !== null) {
      this.#forceRequested ||= force
      if (force && !this.#forced && this.#phase === 'stopping') this.#forceStop()
      return this.#stopping
    }
    if (this.#phase === 'idle' || this.#phase === 'stopped') return Promise.resolve({ unprocessed: [] })
    this.#forceRequested = force
    // A stop during start() waits for it: a handler whose start fails is stopped already, one
    // whose start succeeds is stopped now, and either way stop() resolves after start() settles.
    const begin = this.#phase === 'starting' ? this.#starting!.then(() => true, () => false) : Promise.resolve(true)
    this.#stopping = begin.then((started) => (started ? this.#beginStop() : { unprocessed: [] }))
    return this.#stopping
  }

  #beginStop(): Promise<StopResult<A>> {
    this.#phase = 'stopping'
    this.#native.stop(this.#forceRequested)
    if (this.#forceRequested) this.#forceStop()
    return this.#finishStop()
  }

  #forceStop(): void {
    this.#forced = true
    this.#native.stop(true)
    this.#supervisor?.killAll()
  }

  async #finishStop(): Promise<StopResult<A>> {
    await this.#supervisor?.stop(this.#forced)
    this.#collect()
    this.#native.close()
    const batch = this.#native.takeUnprocessed()
    const unprocessed: A[] = []
    let start = 0
    for (let i = 0; i < batch.ids.length; i++) {
      unprocessed.push(decode(batch.data, start, batch.ends[i]!) as A)
      start = batch.ends[i]!
      this.#queue.finished(batch.ids[i]!)
    }
    this.#native.setNotifier(null)
    this.#supervisor = null
    this.#phase = 'stopped'
    this.#queue.release(this.#outstanding())
    return { unprocessed }
  }

  #outstanding(): number {
    const s = this.#native.stats()
    return s.pending + s.running + s.settling
  }

  #collect(): void {
    // The notifier may fire while a hook run by this very method is on the stack (a hook that
    // awaits nothing cannot yield, but one that calls stats() re-enters): one pass at a time.
    if (this.#busy) return
    this.#busy = true
    try {
      this.#collector.collect()
    } finally {
      this.#busy = false
    }
    const outstanding = this.#outstanding()
    this.#queue.release(outstanding)
    this.#updateKeepAlive(outstanding)
  }

  #updateKeepAlive(outstanding: number): void {
    if (this.#phase === 'running') this.#supervisor?.setRef(outstanding > 0)
  }
}

function checkWorkerCount(workers: unknown): number {
  if (workers === undefined) return availableParallelism()
  if (typeof workers !== 'number') {
    throw new QdmpTypeError(ErrorCode.InvalidWorkerCount, `worker count must be a number, got ${describeValue(workers)}; pass a positive integer or omit it to use every core`)
  }
  if (!Number.isInteger(workers)) {
    throw new QdmpRangeError(
      ErrorCode.InvalidWorkerCount,
      `worker count must be a whole number, got ${workers}; pass a positive integer or omit it to use every core`,
    )
  }
  try {
    return NativePool.checkWorkerCount(workers)
  } catch (error) {
    throw fromNative(error)
  }
}

function rejectedError(rejected: RejectedArgument[], accepted: number): QdmpError {
  const first = rejected[0]!
  const why =
    first.code === ErrorCode.DataClone
      ? `cannot be cloned (${String((first.error as Error)?.message).replace(/\.$/, '')}); task arguments must be structured-cloneable: no functions, symbols or class instances with private state`
      : `made validateArgs throw (${describeValue(first.error)})`
  const more = rejected.length > 1 ? ` (and ${rejected.length - 1} more, listed in error.rejected)` : ''
  return new QdmpError(
    first.code,
    `addTasks(): the argument at index ${first.index} ${why}; it was not queued${more}. ` +
      `The other ${accepted} argument(s) were accepted.`,
    { index: first.index, rejected, accepted, cause: first.error },
  )
}
