// map() and mapSettled(): a source of arguments pulled lazily, at most `window` tasks between
// pulled and handed to the consumer, results in input order or as they finish. Memory stays
// bounded whatever the source's length: the window bounds tasks in flight and, in input order,
// the results waiting for an earlier one.

import { describeValue } from './describe'
import { ErrorCode, ProcessingException, QdmpError, QdmpRangeError, QdmpTypeError } from './errors'
import { IdTable } from './id-table'
import type { Final, Routes, Sink } from './routes'
import type { Submitter } from './submitter'

/** Options of `map()`, `mapSettled()` and `stream()`. */
export interface MapOptions {
  /** How many tasks may be pulled from the source and not yet handed to you (default 16 per worker). */
  window?: number
  /** Results in input order (default), or as they finish. */
  ordered?: boolean
  /** Aborting stops pulling the source, cancels queued tasks and ends the iteration with `ERR_QDMP_ABORTED`. */
  signal?: AbortSignal
}

/** One outcome of `mapSettled()`; `index` is the position of its arguments in the source, from 0. */
export type Settled<A, R> =
  | {
      /** The task succeeded. */
      status: 'fulfilled'
      /** Its result, accepted by `validateResult`. */
      value: R
      /** Its arguments, as pulled from the source. */
      args: A
      /** The position of its arguments in the source, from 0. */
      index: number
    }
  | {
      /** The task failed for good (a `ProcessingException`, with `code`), or could not be queued. */
      status: 'rejected'
      /** The report of the failure. */
      reason: ProcessingException
      /** Its arguments, as pulled from the source. */
      args: A
      /** The position of its arguments in the source, from 0. */
      index: number
    }
  | {
      /** A hook discarded it: `validateArgs` (no `value`) or `validateResult` (with the `value`). */
      status: 'discarded'
      /** Its arguments, as pulled from the source. */
      args: A
      /** The result `validateResult` discarded; absent when `validateArgs` discarded the arguments. */
      value?: R
      /** The position of its arguments in the source, from 0. */
      index: number
    }

/** What a map run needs from its handler. */
export interface MapEngine<A, R> {
  readonly submitter: Submitter<A>
  readonly routes: Routes<R>
  readonly workerCount: number
  /** Throws when the handler cannot take tasks now. */
  ensureRunning(operation: string): void
  /** Resolves when the bounded queue has room. */
  waitForRoom(signal: AbortSignal | undefined): Promise<void>
  /** Cancels the tasks among `ids` that are still queued (running ones finish). */
  cancelQueued(ids: number[]): void
  /** Called after tasks were queued. */
  afterSubmit(): void
}

/** The most arguments pulled from a synchronous source between two submits. */
const PULL_BATCH = 1024

/** Marks a position in the output that yields nothing (a discarded task, in `map()`). */
const SKIP = Symbol('skip')

/** What the consumer is handed for one task: a Settled (mapSettled), the bare result (map), or nothing. */
type Slot<A, R> = Settled<A, R> | R | typeof SKIP

/** Checks the options shared by map, mapSettled and stream. */
export function checkMapOptions(options: unknown, method: string): Required<Pick<MapOptions, 'ordered'>> & MapOptions {
  if (typeof options !== 'object' || options === null) {
    throw new QdmpTypeError(ErrorCode.InvalidArgument, `${method}: options must be an object, got ${describeValue(options)}`)
  }
  const { window, ordered, signal } = options as MapOptions
  if (window !== undefined && !(typeof window === 'number' && Number.isInteger(window) && window >= 1)) {
    const Err = typeof window === 'number' ? QdmpRangeError : QdmpTypeError
    throw new Err(ErrorCode.InvalidArgument, `${method}: options.window must be a positive integer, got ${describeValue(window)}`)
  }
  if (ordered !== undefined && typeof ordered !== 'boolean') {
    throw new QdmpTypeError(ErrorCode.InvalidArgument, `${method}: options.ordered must be a boolean, got ${describeValue(ordered)}`)
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new QdmpTypeError(ErrorCode.InvalidArgument, `${method}: options.signal must be an AbortSignal, got ${describeValue(signal)}`)
  }
  return { ...(options as MapOptions), ordered: ordered ?? true }
}

/** The error a run ends with when its signal aborts. */
export function abortError(signal: AbortSignal, what: string): QdmpError {
  return new QdmpError(ErrorCode.Aborted, `${what} was aborted`, { cause: signal.reason })
}

function openSource<A>(source: unknown, method: string): Iterator<A> | AsyncIterator<A> {
  if (source !== null && typeof source === 'object') {
    const asyncIterate = (source as AsyncIterable<A>)[Symbol.asyncIterator]
    if (typeof asyncIterate === 'function') return asyncIterate.call(source)
    const iterate = (source as Iterable<A>)[Symbol.iterator]
    if (typeof iterate === 'function') return iterate.call(source)
  }
  throw new QdmpTypeError(
    ErrorCode.InvalidArgument,
    `${method} takes an iterable or async iterable of task arguments, got ${describeValue(source)}`,
  )
}

/** One run of map() (`settled = false`) or mapSettled() (`settled = true`). */
export class MapRun<A, R, T> implements AsyncIterableIterator<T>, Sink<R> {
  readonly #engine: MapEngine<A, R>
  readonly #settled: boolean
  readonly #window: number
  readonly #ordered: boolean
  readonly #signal: AbortSignal | undefined
  readonly #method: string
  readonly #iterator: Iterator<A> | AsyncIterator<A>
  readonly #isAsync: boolean
  // The bookkeeping of tasks in flight and outcomes waiting is kept in IdTables, not Maps, and in
  // parallel tables rather than an object per task: on an endless stream, nothing per task may
  // outlive a scavenge, or V8 grows the young generation (see id-table.ts).
  /** Tasks in flight: id -> position in the input. */
  readonly #seqOf = new IdTable<number>()
  /** The arguments of tasks in flight, by position in the input. */
  readonly #argsAt = new IdTable<A>()
  /** Outcomes not yet handed out, keyed by position (ordered) or by order of arrival. */
  readonly #ready = new IdTable<Slot<A, R>>()
  /** The key of the next outcome to hand out, and (unordered) of the next to arrive. */
  #nextKey = 0
  #arrivals = 0
  /** Where a synchronous source's arguments are pulled, reused (a new array per pull would outlive scavenges). */
  readonly #pulledArgs: A[]
  #pulled = 0
  #consumed = 0
  #sourceDone = false
  #pumping = false
  #pumpScheduled = false
  #finished = false
  #failure: unknown = undefined
  #waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null
  readonly #onAbort = (): void => this.#fail(abortError(this.#signal!, this.#method))

  constructor(engine: MapEngine<A, R>, source: unknown, options: MapOptions & { ordered: boolean }, settled: boolean, method: string) {
    engine.ensureRunning(method)
    this.#engine = engine
    this.#settled = settled
    this.#method = method
    this.#iterator = openSource<A>(source, method)
    this.#isAsync = typeof (source as AsyncIterable<A>)[Symbol.asyncIterator] === 'function'
    this.#window = options.window ?? Math.max(16, 16 * engine.workerCount)
    this.#pulledArgs = new Array<A>(this.#isAsync ? 0 : Math.min(this.#window, PULL_BATCH)).fill(undefined as A)
    this.#ordered = options.ordered
    this.#signal = options.signal
    if (this.#signal?.aborted) this.#onAbort()
    else this.#signal?.addEventListener('abort', this.#onAbort, { once: true })
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#waiter !== null) {
      return Promise.reject(new QdmpError(ErrorCode.InvalidArgument, `${this.#method}: next() called before the previous next() settled`))
    }
    const ready = this.#poll()
    if (ready !== null) return ready
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject }
    })
  }

  /** Ends the iteration early (a `break` out of `for await`): stops pulling, cancels queued tasks. */
  return(): Promise<IteratorResult<T>> {
    this.#finish()
    return Promise.resolve({ done: true, value: undefined })
  }

  /** Settles the current waiter when an outcome, the end, or a failure is due. */
  #wake(): void {
    const waiter = this.#waiter
    if (waiter === null) return
    const ready = this.#poll()
    if (ready === null) return
    this.#waiter = null
    ready.then(waiter.resolve, waiter.reject)
  }

  /**
   * Runs the pump soon, not now: poll() and wake() are reached from inside the pump and the
   * collector, and pumping there would re-enter them.
   */
  #schedulePump(): void {
    if (this.#pumpScheduled || this.#pumping || this.#sourceDone || this.#finished) return
    // Refill in batches, once a quarter of the window is free (or nothing is in flight): topping
    // up one task per result would let the queue run dry and workers sleep between tasks.
    const free = this.#window - (this.#pulled - this.#consumed)
    if (free < Math.max(1, this.#window >> 2) && this.#seqOf.size > 0) return
    this.#pumpScheduled = true
    queueMicrotask(() => {
      this.#pumpScheduled = false
      void this.#pump()
    })
  }

  /** The next iterator result, if one is due now. */
  #poll(): Promise<IteratorResult<T>> | null {
    if (this.#failure !== undefined) {
      const failure = this.#failure
      this.#failure = undefined
      this.#finish()
      return Promise.reject(failure)
    }
    if (this.#finished) return Promise.resolve({ done: true, value: undefined })
    while (this.#ready.has(this.#nextKey)) {
      const slot = this.#ready.get(this.#nextKey) as Slot<A, R>
      this.#ready.delete(this.#nextKey++)
      this.#consumed++
      if (slot !== SKIP) {
        this.#schedulePump()
        return Promise.resolve({ done: false, value: slot as T })
      }
    }
    if (this.#sourceDone && !this.#pumping && this.#seqOf.size === 0 && this.#pulled === this.#consumed) {
      this.#finish()
      return Promise.resolve({ done: true, value: undefined })
    }
    this.#schedulePump()
    return null
  }

  #place(seq: number, slot: Slot<A, R>): void {
    this.#ready.set(this.#ordered ? seq : this.#arrivals++, slot)
  }

  /** A task of this run ended (called by the collector, through the routes). */
  settle(id: number, final: Final<R>): void {
    const seq = this.#seqOf.get(id)
    if (seq === undefined) return
    this.#seqOf.delete(id)
    const args = this.#argsAt.get(seq) as A
    this.#argsAt.delete(seq)
    if (this.#finished) return // the consumer left: outcomes of tasks that were running are dropped
    switch (final.kind) {
      case 'fulfilled':
        this.#place(seq, this.#settled ? { status: 'fulfilled', value: final.value, args, index: seq } : final.value)
        break
      case 'discarded':
        this.#place(seq, this.#settled ? { status: 'discarded', args, value: final.value, index: seq } : SKIP)
        break
      case 'rejected':
        if (this.#settled) this.#place(seq, { status: 'rejected', reason: final.error, args, index: seq })
        else this.#failure = final.error // like Promise.all: the first failure ends the run
        break
      case 'cancelled': {
        const error = new QdmpError(ErrorCode.Cancelled, `the task was cancelled before it settled (stop() or cancelProcesses())`)
        const report = new ProcessingException(error, error.stack, args, { code: ErrorCode.Cancelled })
        if (this.#settled) this.#place(seq, { status: 'rejected', reason: report, args, index: seq })
        else this.#failure = report
        break
      }
    }
    this.#wake()
  }

  #fail(error: unknown): void {
    if (this.#finished) return
    this.#failure ??= error
    this.#wake()
  }

  /** Stops pulling, cancels what is still queued, and lets running tasks finish unheard. */
  #finish(): void {
    if (this.#finished) return
    this.#finished = true
    this.#signal?.removeEventListener('abort', this.#onAbort)
    if (!this.#sourceDone) {
      this.#sourceDone = true
      try {
        const closing = this.#iterator.return?.()
        if (closing instanceof Promise) closing.catch(() => {})
      } catch {
        // a source that fails to close has nothing left to give us anyway
      }
    }
    if (this.#seqOf.size > 0) this.#engine.cancelQueued(this.#seqOf.keys())
    this.#ready.clear()
  }

  /** Pulls from the source while the window has room, and queues what it pulls. */
  async #pump(): Promise<void> {
    if (this.#pumping || this.#sourceDone || this.#finished) return
    this.#pumping = true
    try {
      while (!this.#finished && !this.#sourceDone) {
        const room = this.#window - (this.#pulled - this.#consumed)
        if (room <= 0) break
        let queueRoom = this.#engine.submitter.room()
        if (queueRoom === 0) {
          await this.#engine.waitForRoom(this.#signal)
          continue
        }
        if (this.#isAsync) {
          const batch = await this.#pullAsync(Math.min(room, queueRoom))
          if (batch.length > 0 && !this.#finished) this.#queue(batch, batch.length)
        } else {
          const count = this.#pullSync(Math.min(room, queueRoom))
          if (count > 0 && !this.#finished) this.#queue(this.#pulledArgs, count)
          this.#pulledArgs.fill(undefined as A, 0, count)
        }
        this.#wake()
      }
    } catch (error) {
      // A source or a hook that threw mid-batch left arguments here; they must not stay reachable.
      this.#pulledArgs.fill(undefined as A)
      this.#sourceDone = true // a source that threw is done
      this.#fail(error)
    } finally {
      this.#pumping = false
    }
    this.#wake()
  }

  /** Pulls up to `max` arguments into #pulledArgs; returns how many. */
  #pullSync(max: number): number {
    const iterator = this.#iterator as Iterator<A>
    const batch = this.#pulledArgs
    const limit = Math.min(max, batch.length)
    let count = 0
    while (count < limit) {
      const step = iterator.next()
      if (step.done === true) {
        this.#sourceDone = true
        break
      }
      batch[count++] = step.value
    }
    return count
  }

  async #pullAsync(max: number): Promise<A[]> {
    const iterator = this.#iterator as AsyncIterator<A>
    const batch: A[] = []
    // Small batches while workers may be idle (start fast), larger ones once work is in flight.
    const limit = Math.min(max, this.#seqOf.size < 4 ? 1 : 64)
    while (batch.length < limit) {
      const step = await iterator.next()
      if (this.#finished) break
      if (step.done === true) {
        this.#sourceDone = true
        break
      }
      batch.push(step.value)
    }
    return batch
  }

  #queue(batch: A[], count: number): void {
    const { first, refused } = this.#engine.submitter.offer(batch, count)
    let id = first
    // In map(), a refused argument ends the run, but only once every task of the batch is
    // registered: the end cancels the queued ones, and one registered after it would run unheard.
    let failure: ProcessingException | undefined
    for (let i = 0; i < count; i++) {
      const seq = this.#pulled++
      const args = batch[i]!
      const result = refused?.get(i)
      if (result === undefined) {
        this.#seqOf.set(id, seq)
        this.#argsAt.set(seq, args)
        this.#engine.routes.set(id++, this)
      } else if ('discarded' in result) {
        this.#place(seq, this.#settled ? { status: 'discarded', args, index: seq } : SKIP)
      } else {
        const { code, error } = result.rejected
        const cause = new QdmpError(code, `the arguments could not be queued: ${describeValue(error)}`, { cause: error })
        const report = new ProcessingException(cause, cause.stack, args, { code })
        if (this.#settled) this.#place(seq, { status: 'rejected', reason: report, args, index: seq })
        else failure ??= report
      }
    }
    this.#engine.afterSubmit()
    if (failure !== undefined) this.#fail(failure)
  }
}
