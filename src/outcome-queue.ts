// Settled outcomes waiting for the user, and the processResults() calls waiting for outcomes.
// Each outcome leaves exactly once: whoever takes it removes it.

import type { ProcessingException } from './errors'

/** One settled task, as the user sees it. */
export type Outcome<R> =
  | {
      /** The task succeeded. */
      ok: true
      /** Its result. */
      value: R
    }
  | {
      /** The task failed for good. */
      ok: false
      /** The report of the failure. */
      error: ProcessingException
    }

/** What processResults() resolves with: results and errors, each in completion order. */
export type ResultsAndErrors<R> = [results: R[], errors: ProcessingException[]]

interface Waiter<R> {
  /** Resolve once this many outcomes are ready (count waiters). */
  count: number
  /** Drain waiters: resolve once every task with an id up to `mark` has finished... */
  mark: number | null
  /** ...which is when this reaches 0. */
  remaining: number
  resolve: (value: ResultsAndErrors<R>) => void
}

export class OutcomeQueue<R> {
  // A FIFO as an array plus a head index: shift() is O(n) on large arrays, and this queue may hold
  // the outcomes of millions of tasks between two processResults() calls.
  #items: Outcome<R>[] = []
  #head = 0
  #waiters: Waiter<R>[] = []
  /** results() iterators waiting for one outcome each; `null` tells them the handler stopped. */
  #nextWaiters: ((outcome: Outcome<R> | null) => void)[] = []
  #closed = false

  get size(): number {
    return this.#items.length - this.#head
  }

  push(outcome: Outcome<R>): void {
    this.#items.push(outcome)
  }

  /** Removes up to `max` outcomes, oldest first, split into results and errors. */
  take(max: number): ResultsAndErrors<R> {
    const end = Math.min(this.#items.length, this.#head + max)
    const results: R[] = []
    const errors: ProcessingException[] = []
    for (let i = this.#head; i < end; i++) {
      const outcome = this.#items[i]!
      if (outcome.ok) results.push(outcome.value)
      else errors.push(outcome.error)
    }
    this.#head = end
    if (this.#head === this.#items.length) {
      this.#items = []
      this.#head = 0
    } else if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return [results, errors]
  }

  /**
   * Waits for `count` outcomes (or until nothing is outstanding), or, with no count, until every
   * task accepted so far (ids up to `lastTaskId`, `outstanding` of them unfinished) has finished.
   */
  wait(count: number | undefined, outstanding: number, lastTaskId: number): Promise<ResultsAndErrors<R>> {
    return new Promise((resolve) => {
      const drain = count === undefined
      const waiter: Waiter<R> = {
        count: drain ? Number.POSITIVE_INFINITY : count,
        mark: drain ? lastTaskId : null,
        remaining: drain ? outstanding : 0,
        resolve,
      }
      this.#waiters.push(waiter)
      this.release(outstanding)
    })
  }

  /** The next outcome, once there is one; `null` once the handler has stopped and none is left. */
  next(): Promise<Outcome<R> | null> {
    if (this.size > 0) return Promise.resolve(this.#takeOne())
    if (this.#closed) return Promise.resolve(null)
    return new Promise((resolve) => this.#nextWaiters.push(resolve))
  }

  #takeOne(): Outcome<R> {
    const outcome = this.#items[this.#head++]!
    if (this.#head === this.#items.length) {
      this.#items = []
      this.#head = 0
    }
    return outcome
  }

  /** The handler stopped: results() iterators end once they have taken what is left. */
  close(): void {
    this.#closed = true
    this.#serveNext()
  }

  /** The handler started (again). */
  open(): void {
    this.#closed = false
  }

  #serveNext(): void {
    while (this.#nextWaiters.length > 0 && (this.size > 0 || this.#closed)) {
      this.#nextWaiters.shift()!(this.size > 0 ? this.#takeOne() : null)
    }
  }

  /** Task `id` left the engine for good (settled or cancelled). */
  finished(id: number): void {
    for (const waiter of this.#waiters) {
      if (waiter.mark !== null && id <= waiter.mark) waiter.remaining--
    }
  }

  /** Resolves, in call order, every waiter whose condition holds; `outstanding` = unfinished tasks. */
  release(outstanding: number): void {
    this.#serveNext()
    if (this.#waiters.length === 0) return
    const still: Waiter<R>[] = []
    for (const waiter of this.#waiters) {
      const ready = waiter.mark !== null ? waiter.remaining <= 0 : this.size >= waiter.count || outstanding === 0
      if (ready) waiter.resolve(this.take(waiter.count))
      else still.push(waiter)
    }
    this.#waiters = still
  }
}
