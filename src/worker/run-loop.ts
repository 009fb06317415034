// The loop every worker runs: report the last outcome and take the next task in one call to the
// engine, run it, repeat. The same loop serves worker threads and child processes; only the port
// (in-process engine or connection to the producer's engine) differs.

import { ByteWriter, decode } from '../codec'
import { toErrorRecord } from '../error-record'
import { ErrorCode, QdmpError } from '../errors'
import { isMovedResult } from '../move'
import { WorkerSignal } from '../native'

/** The engine as a worker sees it. */
export interface TaskPort {
  /** The memory where `next()` writes a task's arguments; the same for the port's life. */
  inbox(): Uint8Array
  /**
   * Reports the last outcome (if `bytes`), then waits up to `waitMs` for a task. Returns the
   * length of its arguments at the start of the inbox, a `WorkerSignal` (negative), or, for
   * arguments too large for the inbox, a `Buffer` holding them.
   */
  next(failed: boolean, bytes: Uint8Array | null, waitMs: number): number | Buffer
  /** Views of the memory the current task's moved buffers live in (threads only). */
  attachments?(): Uint8Array[]
  /** The task settled: detaches those views and gives their memory back (threads only). */
  endLease?(buffers: ArrayBuffer[]): void
}

/**
 * Sends a value marked with move() to the producer, buffers transferred; returns what the
 * outcome must say to find it there. Worker threads have one; child processes copy instead.
 */
export type SendMoved = (value: unknown, transfer: ArrayBuffer[]) => { workerId: number; sequence: number }

/** How long one wait for work blocks before the worker lets its event loop turn. */
const IDLE_WAIT_MS = 50
/** Busy workers still let their event loop turn this often, so timers and I/O of the target run. */
const YIELD_EVERY_MS = 10

const turnEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<unknown>).then === 'function'
}

/**
 * Awaits a task's promise; rejects if the worker's event loop empties first. A promise nothing
 * can settle any more (no timer, no I/O pending) would otherwise let the worker exit mid-task,
 * reported only as an exit with code 0.
 */
function settleOrStall(promise: PromiseLike<unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const stalled = (): void =>
      reject(
        new QdmpError(
          ErrorCode.TaskStalled,
          `the task returned a promise that can never settle: the worker had no timer, I/O or other work ` +
            `left that could settle it. Check that every code path of the task resolves or rejects.`,
        ),
      )
    process.once('beforeExit', stalled)
    Promise.resolve(promise).then(
      (value) => {
        process.off('beforeExit', stalled)
        resolve(value)
      },
      (error: unknown) => {
        process.off('beforeExit', stalled)
        reject(error)
      },
    )
  })
}

/** Runs tasks until the engine retires this worker. */
export async function runTasks(port: TaskPort, fn: (args: unknown) => unknown, sendMoved?: SendMoved): Promise<void> {
  const writer = new ByteWriter()
  const view = port.inbox()
  // The inbox is rewritten by the next call; decode() copies everything out of it before that.
  const inbox = Buffer.from(view.buffer, view.byteOffset, view.byteLength)
  // Moved buffers are viewed in place, leased to the task: their views come in the order the
  // producer listed them, and are detached once the task has settled and its result is encoded.
  let leased: ArrayBuffer[] = []
  const moved = (): ArrayBuffer[] => {
    leased = (port.attachments?.() ?? []).map((view) => view.buffer as ArrayBuffer)
    return leased
  }
  let failed = false
  let outcome: Uint8Array | null = null
  let lastTurn = performance.now()
  for (;;) {
    const next = port.next(failed, outcome, IDLE_WAIT_MS)
    outcome = null
    if (typeof next === 'number' && next < 0) {
      if (next === WorkerSignal.Retire) return
      await turnEventLoop()
      lastTurn = performance.now()
      continue
    }
    writer.reset()
    try {
      let result = fn(typeof next === 'number' ? decode(inbox, 0, next, moved) : decode(next, 0, next.length, moved))
      if (isThenable(result)) result = await settleOrStall(result)
      const moving = isMovedResult(result) ? result : null
      if (moving !== null && sendMoved !== undefined && moving.transfer.some((buffer) => leased.includes(buffer))) {
        // The producer's memory, lent for this task only: moving it on would outlive the loan.
        throw new QdmpError(
          ErrorCode.InvalidArgument,
          `move(): a buffer this task received with \`transfer\` is only lent to the task and cannot be moved back; ` +
            `return a copy instead, e.g. move(view.slice())`,
        )
      }
      try {
        if (moving === null) writer.add(result)
        else if (sendMoved === undefined) writer.add(moving.value) // child processes copy
        else {
          const { workerId, sequence } = sendMoved(moving.value, moving.transfer)
          writer.addPorted(workerId, sequence)
        }
        failed = false
      } catch (cause) {
        const error = new QdmpError(
          ErrorCode.DataClone,
          `the task's result cannot be cloned to the producer (${(cause as Error).message}); ` +
            `return plain data: no functions, symbols, WeakMaps or native handles (a class instance arrives as a plain object of its own fields)`,
        )
        writer.add(toErrorRecord(error))
        failed = true
      }
    } catch (thrown) {
      writer.reset()
      writer.add(toErrorRecord(thrown))
      failed = true
    }
    outcome = writer.bytes()
    if (leased.length > 0) {
      port.endLease?.(leased)
      leased = []
    }
    if (performance.now() - lastTurn >= YIELD_EVERY_MS) {
      await turnEventLoop()
      lastTurn = performance.now()
    }
  }
}
