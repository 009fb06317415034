// The Handler API shared by every handler: start, addTasks, processResults, stop, stats, and the
// tracking of frozen work. The engine (native core) owns the tasks; this class owns the
// lifecycle, the user's hooks and the Promises. Subclasses only say how workers are spawned.

import type { Duplex } from 'node:stream'

import { type Cancelled, Cancellations } from './cancellations'
import { Collector, type Counts } from './collector'
import { fromNative, type QdmpError } from './errors'
import { checkCanAddTasks, checkProcessResultsArgs, checkStopOptions, checkWorkerCount, type Phase } from './handler-checks'
import type { EngineSettings, HandlerStats, ProcessResultsOptions, ResultOutcome, StopOptions, StopResult } from './handler-types'
import { type CancelReport, cancelTasks, checkSeconds, type RunningTask, runningTasks } from './inspection'
import { completeLogger, defaultLogger, type Logger } from './logger'
import { checkMapOptions, type MapOptions, MapRun, type Settled } from './map'
import { NativePool, type NativePoolType } from './native'
import { RoomWaiters } from './room-waiters'
import { checkOptions, type HandlerOptions, type OptionCheck } from './options'
import { OutcomeQueue, type ResultsAndErrors } from './outcome-queue'
import { Pins } from './pins'
import { ResultPorts } from './result-ports'
import { Routes } from './routes'
import { runOne, type RunOptions, type SingleEngine, submitOne, type SubmitOptions } from './single'
import { handlerStream, type StreamOptions } from './stream'
import { Submitter } from './submitter'
import { type ProcessReport, type Spawner, Supervisor } from './supervisor'
import { checkTargetFile, type TargetSpec } from './target'

/** The base of every handler. */
export abstract class Handler<A = any, R = any> {
  readonly #native: NativePoolType
  readonly #target: TargetSpec
  readonly #logger: Logger
  readonly #queue = new OutcomeQueue<R>()
  readonly #routes = new Routes<R>()
  /** Buffers moved to workers (threads only). */
  readonly #pins: Pins | null
  /** The result ports of worker threads, for values moved back (threads only). */
  readonly #ports: ResultPorts | null
  readonly #collector: Collector<A, R>
  readonly #cancellations: Cancellations<A, R>
  readonly #submitter: Submitter<A>
  /** What run(), submit(), map() and stream() use of this handler. */
  readonly #engine: SingleEngine<A, R>
  /** Calls waiting for room in the bounded queue. */
  readonly #roomWaiters = new RoomWaiters()
  #phase: Phase = 'idle'
  /** The current workers, or the last ones after a stop (for `checkProcesses`). */
  #supervisor: Supervisor | null = null
  #starting: Promise<void> | null = null
  #stopping: Promise<StopResult<A>> | null = null
  #forced = false
  #forceRequested = false
  /** Set when no worker can start: queued tasks fail with it, new ones are refused. */
  #broken: QdmpError | null = null
  #busy = false

  /** @internal Subclasses pass their target, options, option checks and engine settings. */
  protected constructor(
    target: TargetSpec,
    options: HandlerOptions<A, R> | undefined,
    checks: Record<string, OptionCheck>,
    engine: EngineSettings = {},
  ) {
    this.#target = target
    checkOptions(options, checks)
    const settings: HandlerOptions<A, R> = { ...options }
    this.#logger = options?.logger ? completeLogger(options.logger) : defaultLogger
    const limit = (value: number | undefined): number | undefined =>
      value === undefined || value === Number.POSITIVE_INFINITY ? undefined : value
    this.#native = new NativePool({
      maxRetries: limit(settings.maxRetries),
      maxQueue: limit(settings.maxQueue),
      taskTimeoutMs: limit(settings.taskTimeout),
      idleTimeoutMs: limit(engine.idleTimeoutMs),
    })
    this.#pins = engine.sharedMemory === true ? new Pins(this.#logger) : null
    this.#ports = engine.sharedMemory === true ? new ResultPorts() : null
    this.#collector = new Collector(this.#native, settings, this.#logger, this.#queue, this.#routes, target.kind === 'source', this.#pins, this.#ports)
    this.#cancellations = new Cancellations(this.#native, this.#queue, this.#routes, this.#pins)
    this.#submitter = new Submitter(this.#native, settings.validateArgs, this.#logger, this.#pins)
    this.#engine = {
      submitter: this.#submitter,
      routes: this.#routes,
      get workerCount(): number {
        return workers()
      },
      ensureRunning: (operation) => this.#ensureRunning(operation),
      waitForRoom: (signal) => this.#waitForRoom(signal),
      cancelQueued: (ids) => void this.#cancel(ids, false),
      cancel: (ids) => void this.#cancel(ids, true),
      afterSubmit: () => this.#afterChange(),
    }
    const workers = (): number => this.workerCount
  }

  /**
   * @internal How this handler starts a worker. `collect` takes the engine's waiting outcomes
   * at once, for hosts that learn of them on this thread (child processes' channels).
   */
  protected abstract spawner(native: NativePoolType, target: TargetSpec, ports: ResultPorts | null, collect: () => void): Spawner

  /** The number of worker slots while started, else 0. */
  get workerCount(): number {
    return this.#phase === 'idle' || this.#phase === 'stopped' ? 0 : (this.#supervisor?.size ?? 0)
  }

  /**
   * Starts `workers` workers (default: `os.availableParallelism()`) and resolves once every one
   * is ready. Rejects with `ERR_QDMP_TARGET_LOAD` (naming the module and the cause) when the
   * target cannot be loaded, or `ERR_QDMP_SETUP_FAILED` when a `setup` throws, leaving the
   * handler stopped and startable again.
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
    this.#broken = null
    this.#queue.open()
    this.#native.setNotifier(() => this.#collect())
    const supervisor = new Supervisor(
      this.#native,
      this.spawner(this.#native, this.#target, this.#ports, () => this.#collect()),
      count,
      this.#logger,
      {
        onExitCause: (slot, cause) => this.#collector.exitCauses.set(slot, cause),
        onWorkerExit: () => this.#collect(),
        onBroken: (error) => this.#onBroken(error),
      },
      this.#target.display,
    )
    this.#supervisor = supervisor
    try {
      await supervisor.start()
    } catch (error) {
      this.#native.stop(true)
      this.#native.close()
      this.#native.takeUnprocessed()
      this.#native.setNotifier(null)
      this.#phase = 'stopped'
      throw error
    }
    this.#phase = 'running'
    this.#updateKeepAlive(this.#outstanding())
  }

  #onBroken(error: QdmpError): void {
    this.#broken = error
    this.#collector.abandonReason = error
    this.#logger.error(`no worker can start; queued tasks fail with ${error.code} until the handler is restarted`)
    this.#native.abandonQueued()
    this.#collect()
  }

  #ensureRunning(operation: string): void {
    checkCanAddTasks(operation, this.#phase, this.#broken)
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
    try {
      return this.#submitter.add(tasks)
    } finally {
      this.#afterChange()
    }
  }

  /**
   * Queues one task for `processResults()`/`results()`, waiting while the bounded queue
   * (`maxQueue`) is full: it never rejects for being full. Resolves `true` once queued, `false`
   * when `validateArgs` discarded the arguments.
   */
  submit(args: A, options: SubmitOptions = {}): Promise<boolean> {
    return submitOne(this.#engine, args, options)
  }

  /**
   * Runs one task and resolves with its result (after `validateResult`), through the same hooks
   * as every task: `handleError` may retry it. Rejects with the final `ProcessingException`, or
   * `ERR_QDMP_DISCARDED` when a hook discarded it, or `ERR_QDMP_ABORTED` when `signal` aborts.
   */
  run(args: A, options: RunOptions = {}): Promise<R> {
    return runOne(this.#engine, args, options)
  }

  /**
   * Runs a task per argument of `source` (an iterable or async iterable, pulled lazily: at most
   * `window` tasks between pulled and handed to you) and yields the results, in input order by
   * default. A failure that `handleError` does not retry ends the iteration by throwing its
   * `ProcessingException`; results that `validateResult` discards are skipped. Breaking out of
   * the loop, or aborting `signal`, stops pulling and cancels the queued tasks.
   *
   * @example
   * ```ts
   * for await (const tokens of handler.map(readLines('corpus.txt'), { window: 256 })) write(tokens)
   * ```
   */
  map(source: Iterable<A> | AsyncIterable<A>, options: MapOptions = {}): AsyncIterableIterator<R> {
    return new MapRun<A, R, R>(this.#engine, source, checkMapOptions(options, 'map()'), false, 'map()')
  }

  /** Like {@link Handler.map}, but yields every outcome: fulfilled, rejected, or discarded. */
  mapSettled(source: Iterable<A> | AsyncIterable<A>, options: MapOptions = {}): AsyncIterableIterator<Settled<A, R>> {
    return new MapRun<A, R, Settled<A, R>>(this.#engine, source, checkMapOptions(options, 'mapSettled()'), true, 'mapSettled()')
  }

  /**
   * The outcomes of tasks added with `addTasks` or `submit`, as they settle, for long-running
   * producer-consumer loops. Each outcome is delivered once, to whichever of `processResults()`
   * and a `results()` iterator takes it first. The iteration ends once the handler has stopped
   * and nothing is left.
   */
  async *results(): AsyncIterableIterator<ResultOutcome<R>> {
    for (;;) {
      this.#collect()
      const outcome = await this.#queue.next()
      if (outcome === null) return
      yield outcome.ok ? { status: 'fulfilled', value: outcome.value } : { status: 'rejected', reason: outcome.error }
    }
  }

  /**
   * An object-mode `Duplex`: write task arguments, read results (in input order by default).
   * It works in `stream.pipeline`, with backpressure both ways: a slow reader pauses the writer.
   */
  stream(options: StreamOptions = {}): Duplex {
    return handlerStream(this.#engine, options)
  }

  /**
   * Returns results and errors not returned before, each exactly once, in completion order.
   * - No `count`: resolves once every task added so far has settled, with everything ready.
   * - `count`: resolves with at most `count` outcomes, as soon as that many are ready or nothing
   *   is outstanding.
   * - `{ wait: false }`: resolves at once with what is ready.
   */
  async processResults(count?: number, options: ProcessResultsOptions = {}): Promise<ResultsAndErrors<R>> {
    checkProcessResultsArgs(count, options)
    this.#collect()
    if (options.wait === false) return this.#queue.take(count ?? Number.POSITIVE_INFINITY)
    return this.#queue.wait(count, this.#outstanding(), this.#submitter.lastTaskId)
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
   * The tasks running for longer than `seconds`, each with its arguments, worker and real start
   * time (when a worker picked it up). Idle workers are never reported.
   */
  checkProcessTimeout(seconds: number): RunningTask<A>[] {
    return runningTasks<A>(this.#native, this, checkSeconds(seconds, 'checkProcessTimeout') * 1000, this.#pins?.resolve)
  }

  /**
   * Ends the tasks running for longer than `seconds`: their workers are terminated and replaced,
   * and each task goes to `handleError` with a `TaskTimeoutError` (nothing is lost). Returns how many.
   */
  restartTimedOutChildren(seconds: number): number {
    const count = this.#native.interruptOlderThan(checkSeconds(seconds, 'restartTimedOutChildren') * 1000)
    this.#collect()
    return count
  }

  /**
   * Cancels tasks reported by `checkProcessTimeout()`: a queued one never runs, a running one's
   * worker is terminated and replaced; no result of a cancelled task ever arrives. Tasks already
   * settled, or from another handler, are left alone and reported as such.
   */
  cancelProcesses(tasks: Iterable<RunningTask<A>>): CancelReport<A>[] {
    return cancelTasks<A>(this, tasks, (ids) => this.#cancel(ids, true))
  }

  /** Per worker slot: whether its last worker exited, and how (`null` while one runs). */
  checkProcesses(): ProcessReport {
    return this.#supervisor?.report() ?? { error: false, allError: false, exited: false, allExited: false, exitCodes: [] }
  }

  /** Restarts the idle clocks of every worker (see `idleTimeout`). */
  protected touchWorkers(): void {
    this.#native.touchWorkers()
  }

  /**
   * Stops the handler. Running tasks finish and their outcomes stay collectable; queued tasks
   * never run and their arguments are returned. With `{ force: true }` the workers are ended at
   * once and the arguments of the tasks they were running are returned too; `{ timeout }` waits
   * that long for running tasks before forcing. Calling it again returns the same result; `force`
   * escalates a graceful stop in progress.
   */
  stop(options: StopOptions = {}): Promise<StopResult<A>> {
    const bad = checkStopOptions(options)
    if (bad !== null) return Promise.reject(bad)
    const force = options.force === true
    if (this.#stopping !== null) {
      if (force) this.#escalate()
      return this.#stopping
    }
    if (this.#phase === 'idle' || this.#phase === 'stopped') return Promise.resolve({ unprocessed: [] })
    this.#forceRequested = force
    if (options.timeout !== undefined && !force) {
      setTimeout(() => this.#escalate(), options.timeout).unref()
    }
    if (options.signal !== undefined && !force) {
      if (options.signal.aborted) this.#forceRequested = true
      else options.signal.addEventListener('abort', () => this.#escalate(), { once: true })
    }
    // A stop during start() waits for it: a handler whose start fails is stopped already, one
    // whose start succeeds is stopped now, and either way stop() resolves after start() settles.
    // A running handler stops taking queued tasks now, not a microtask later: a worker that
    // finishes in between must not pick up a task the caller meant to get back.
    if (this.#phase !== 'starting') {
      this.#stopping = this.#beginStop()
      return this.#stopping
    }
    this.#stopping = this.#starting!.then(
      () => this.#beginStop(),
      () => ({ unprocessed: [] }),
    )
    return this.#stopping
  }

  #escalate(): void {
    this.#forceRequested = true
    if (!this.#forced && this.#phase === 'stopping') this.#forceStop()
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
    const unprocessed = this.#cancellations.takeUnprocessed()
    this.#native.setNotifier(null)
    // Every worker has exited: no view of a moved buffer is left.
    this.#pins?.clear()
    this.#ports?.clear()
    this.#phase = 'stopped'
    this.#queue.release(this.#outstanding())
    this.#queue.close()
    this.#roomWaiters.wakeAll()
    return { unprocessed }
  }

  /** Cancels tasks (running ones too with `running`), each settled as cancelled; what became of each. */
  #cancel(ids: number[], running: boolean): Cancelled<A>[] {
    if (ids.length === 0) return []
    const outcomes = this.#cancellations.cancel(ids, running)
    this.#collect()
    return outcomes
  }

  /** Resolves when the bounded queue has room (or the handler stops), or rejects on `signal`. */
  #waitForRoom(signal: AbortSignal | undefined): Promise<void> {
    if (this.#native.wantRoom() > 0 || this.#phase !== 'running') return Promise.resolve()
    return this.#roomWaiters.wait(signal)
  }

  #outstanding(): number {
    const { pending, running, settling } = this.#collector.currentCounts()
    return pending + running + settling
  }

  #collect(): void {
    // The notifier may fire while a hook run by this very method is on the stack (a hook that
    // calls stats() re-enters): one pass at a time.
    if (this.#busy) return
    this.#busy = true
    try {
      this.#collector.collect((workerIds) => this.#supervisor?.terminate(workerIds))
      this.#ports?.collected()
    } finally {
      this.#busy = false
    }
    this.#afterChange(this.#collector.counts)
  }

  /** After tasks were added, settled or re-queued: wake waiters, workers and keep-alive. */
  #afterChange(counts: Counts = this.#collector.currentCounts()): void {
    const { pending, running, settling, room } = counts
    const outstanding = pending + running + settling
    this.#queue.release(outstanding)
    this.#updateKeepAlive(outstanding)
    if (room > 0) this.#roomWaiters.wakeAll()
    if (pending > 0 && this.#phase === 'running') {
      // Retries re-queued while no worker can start would wait for ever: fail them too.
      if (this.#broken !== null) this.#native.abandonQueued()
      else this.#supervisor?.ensureWorkers()
    }
  }

  #updateKeepAlive(outstanding: number): void {
    if (this.#phase === 'running') this.#supervisor?.setRef(outstanding > 0)
  }
}
