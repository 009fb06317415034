// Where a task's final outcome goes. Tasks added with addTasks/submit go to the shared outcome
// queue (processResults, results()); tasks of run(), map() and stream() go to the consumer that
// submitted them, through a Sink registered under the task's id.

import type { ProcessingException } from './errors'
import { IdTable } from './id-table'

/** How a task ended for good, as a consumer sees it. */
export type Final<R> =
  | { kind: 'fulfilled'; value: R }
  | { kind: 'rejected'; error: ProcessingException }
  /** validateResult discarded the result. */
  | { kind: 'discarded'; value: R }
  /** It left without an outcome: stop() before it ran, or cancelProcesses(). */
  | { kind: 'cancelled'; args: unknown }

/** A consumer of the final outcomes of its own tasks. */
export interface Sink<R> {
  settle(id: number, final: Final<R>): void
}

/** The sinks of the tasks that have one (most tasks have none and cost nothing here). */
export class Routes<R> {
  readonly #sinks = new IdTable<Sink<R>>()

  set(id: number, sink: Sink<R>): void {
    this.#sinks.set(id, sink)
  }

  /** Whether task `id` has a sink (such tasks are not handed back by stop()). */
  has(id: number): boolean {
    return this.#sinks.has(id)
  }

  /** Removes and returns the sink of task `id`, if any. */
  take(id: number): Sink<R> | undefined {
    const sink = this.#sinks.get(id)
    if (sink !== undefined) this.#sinks.delete(id)
    return sink
  }

  /** Forgets task `id` without telling its sink (the consumer gave up on it). */
  drop(id: number): void {
    this.#sinks.delete(id)
  }
}
