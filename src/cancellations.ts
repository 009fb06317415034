// Tasks that leave the engine without an outcome: cancelled (an aborted run(), a map() left
// early, cancelProcesses()) or never run before a stop. Each is settled here, once, the same way
// whichever call took it out: the outcome queue stops waiting for it, the consumer that submitted
// it (run(), map(), stream()) hears that it was cancelled, with its arguments, and what was
// moved for it is released.

import { decode } from './codec'
import type { NativePoolType } from './native'
import type { OutcomeQueue } from './outcome-queue'
import type { Pins } from './pins'
import type { Routes } from './routes'

/** What a cancel did with each task, by the engine's answer (`CancelResults.kinds`). */
const KINDS = ['queued', 'running', 'settled', 'unknown', 'left running'] as const

/**
 * One task a cancel asked for: cancelled, with its arguments, when it was queued or running (it
 * will never settle otherwise); else what it was, left alone.
 */
export type Cancelled<A> = { kind: 'queued' | 'running'; args: A } | { kind: 'settled' | 'unknown' | 'left running' }

/** Settles the tasks that a cancel or a stop takes out of the engine. */
export class Cancellations<A, R> {
  readonly #native: NativePoolType
  readonly #queue: OutcomeQueue<R>
  readonly #routes: Routes<R>
  readonly #pins: Pins | null

  constructor(native: NativePoolType, queue: OutcomeQueue<R>, routes: Routes<R>, pins: Pins | null) {
    this.#native = native
    this.#queue = queue
    this.#routes = routes
    this.#pins = pins
  }

  /**
   * Cancels tasks `ids` (running ones too, their workers ended, when `running`) and settles each
   * one that left; returns what happened to each, in the order asked.
   */
  cancel(ids: readonly number[], running: boolean): Cancelled<A>[] {
    if (ids.length === 0) return []
    const result = this.#native.cancel(Float64Array.from(ids), running)
    let start = 0
    return ids.map((id, i) => {
      const end = result.args.ends[i]!
      const kind = KINDS[result.kinds[i]!]!
      const taskStart = start
      start = end
      if (kind !== 'queued' && kind !== 'running') return { kind }
      const args = decode(result.args.data, taskStart, end, this.#pins?.resolve) as A
      this.#settle(id, args)
      this.#pins?.finished(id, kind === 'running')
      return { kind, args }
    })
  }

  /**
   * After a stop, the tasks that never ran: those of run(), map() and stream() are settled as
   * cancelled; the arguments of the others are returned, in queue order, for stop() to hand back.
   */
  takeUnprocessed(): A[] {
    const batch = this.#native.takeUnprocessed()
    const unprocessed: A[] = []
    let start = 0
    for (let i = 0; i < batch.ids.length; i++) {
      const id = batch.ids[i]!
      const args = decode(batch.data, start, batch.ends[i]!, this.#pins?.resolve) as A
      start = batch.ends[i]!
      if (!this.#settle(id, args)) unprocessed.push(args)
    }
    return unprocessed
  }

  /** Settles task `id` as cancelled; false when no consumer of its own waits for it (addTasks, submit). */
  #settle(id: number, args: A): boolean {
    this.#queue.finished(id)
    const sink = this.#routes.take(id)
    sink?.settle(id, { kind: 'cancelled', args })
    return sink !== undefined
  }
}
