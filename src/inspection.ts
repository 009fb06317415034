// The Python library's manual tracking of frozen work, done right: the running tasks (never the
// idle workers) with their real start times, and cancellation that really stops them.

import type { Cancelled } from './cancellations'
import { decode } from './codec'
import { describeValue } from './describe'
import { ErrorCode, QdmpRangeError, QdmpTypeError } from './errors'
import type { NativePoolType } from './native'
import type { PinResolver } from './transfer-codec'

const OWNER = Symbol('qdmp.owner')

/** A task a worker is running, as `checkProcessTimeout()` reports it. */
export interface RunningTask<A = unknown> {
  /** The task's id in this handler. */
  readonly taskId: number
  /** Its arguments (of the current attempt). */
  readonly args: A
  /** The slot of the worker running it. */
  readonly workerId: number
  /** When the worker picked it up. */
  readonly startedAt: Date
  /** How long it has been running, in milliseconds. */
  readonly runningMs: number
}

/** What `cancelProcesses()` did with one task. */
export interface CancelReport<A = unknown> {
  /** The task's id in this handler. */
  taskId: number
  /**
   * `'cancelled'`: it will never run again and no result of it will arrive (a running task's worker
   * was ended and replaced). `'settled'`: it had already finished; nothing was done. `'unknown'`:
   * no such task (already collected, or cancelled before). `'foreign'`: it belongs to another handler.
   */
  status: 'cancelled' | 'settled' | 'unknown' | 'foreign'
  /** Whether it was running (rather than queued) when cancelled. */
  wasRunning: boolean
  /** Its arguments, when cancelled. */
  args?: A
}

/** Checks a duration in seconds (the Python library's unit for these calls). */
export function checkSeconds(seconds: unknown, method: string): number {
  if (typeof seconds !== 'number') {
    throw new QdmpTypeError(ErrorCode.InvalidArgument, `${method}(seconds): seconds must be a number, got ${describeValue(seconds)}`)
  }
  if (!(seconds >= 0) || !Number.isFinite(seconds)) {
    throw new QdmpRangeError(ErrorCode.InvalidArgument, `${method}(seconds): seconds must be a finite number >= 0, got ${seconds}`)
  }
  return seconds
}

/** The tasks running for longer than `olderThanMs`, oldest first. */
export function runningTasks<A>(native: NativePoolType, owner: object, olderThanMs: number, resolve?: PinResolver): RunningTask<A>[] {
  const batch = native.runningTasks()
  const now = Date.now()
  const out: RunningTask<A>[] = []
  let start = 0
  for (let i = 0; i < batch.ids.length; i++) {
    const end = batch.ends[i]!
    const runningMs = batch.runningMs[i]!
    if (runningMs > olderThanMs) {
      const task: RunningTask<A> = {
        taskId: batch.ids[i]!,
        args: decode(batch.data, start, end, resolve) as A,
        workerId: batch.slots[i]!,
        startedAt: new Date(now - runningMs),
        runningMs,
      }
      Object.defineProperty(task, OWNER, { value: owner })
      out.push(task)
    }
    start = end
  }
  return out.sort((a, b) => b.runningMs - a.runningMs)
}

/** Cancels the given tasks of `owner` through `cancel`, which settles each that left. */
export function cancelTasks<A>(owner: object, tasks: unknown, cancel: (ids: number[]) => Cancelled<A>[]): CancelReport<A>[] {
  if (tasks === null || typeof tasks !== 'object' || typeof (tasks as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new QdmpTypeError(
      ErrorCode.InvalidArgument,
      `cancelProcesses(tasks) takes an iterable of tasks from checkProcessTimeout(), got ${describeValue(tasks)}`,
    )
  }
  const reports: CancelReport<A>[] = []
  const mine: { index: number; id: number }[] = []
  for (const task of tasks as Iterable<unknown>) {
    const id = typeof task === 'object' && task !== null ? (task as RunningTask).taskId : undefined
    if (typeof id !== 'number' || (task as Record<symbol, unknown>)[OWNER] !== owner) {
      reports.push({ taskId: typeof id === 'number' ? id : Number.NaN, status: 'foreign', wasRunning: false })
      continue
    }
    mine.push({ index: reports.length, id })
    reports.push({ taskId: id, status: 'unknown', wasRunning: false })
  }
  if (mine.length === 0) return reports
  const outcomes = cancel(mine.map((m) => m.id))
  mine.forEach(({ index, id }, i) => {
    const outcome = outcomes[i]!
    reports[index] =
      'args' in outcome
        ? { taskId: id, status: 'cancelled', wasRunning: outcome.kind === 'running', args: outcome.args }
        : { taskId: id, status: outcome.kind === 'settled' ? 'settled' : 'unknown', wasRunning: false }
  })
  return reports
}
