// The producer's side of settlement: drains outcomes from the engine, runs the user's hooks on
// them (validateResult, handleError, validateArgs for retries), and answers the engine with one
// decision per task. Hooks are user code: whatever they do, every drained task gets its decision.

import { ByteWriter, decode } from './codec'
import { describeValue } from './describe'
import { type ErrorRecord, fromErrorRecord } from './error-record'
import { ErrorCode, ProcessingException, QdmpError, type QdmpErrorCode, TaskTimeoutError, WorkerExitedError } from './errors'
import type { Logger } from './logger'
import { DecisionKind, type Deliveries, type NativePoolType, OutcomeKind } from './native'
import type { HandlerOptions } from './options'
import type { OutcomeQueue } from './outcome-queue'

/** Drained per native call: large enough to amortise the call, small enough to keep pauses short. */
const DRAIN_BATCH = 4096

type Settled = { kind: DecisionKind }

export class Collector<A, R> {
  readonly #native: NativePoolType
  readonly #options: HandlerOptions<A, R>
  readonly #logger: Logger
  readonly #queue: OutcomeQueue<R>
  /** Why a worker slot last exited (an uncaught error), for the WorkerExitedError of its task. */
  readonly exitCauses = new Map<number, unknown>()
  readonly #retryWriter = new ByteWriter(1024)
  /** Whether the target is a function shipped as source, which loses its closure on the way. */
  readonly #functionTarget: boolean
  #hintedClosure = false
  /** Why queued tasks are abandoned (no worker can start); set by the handler when it happens. */
  abandonReason: QdmpError | null = null

  constructor(
    native: NativePoolType,
    options: HandlerOptions<A, R>,
    logger: Logger,
    queue: OutcomeQueue<R>,
    functionTarget: boolean,
  ) {
    this.#native = native
    this.#options = options
    this.#logger = logger
    this.#queue = queue
    this.#functionTarget = functionTarget
  }

  /** Drains and settles every waiting outcome. Returns how many there were. */
  collect(): number {
    let total = 0
    for (;;) {
      const batch = this.#native.drain(DRAIN_BATCH)
      if (batch === null) return total
      total += batch.ids.length
      this.#settle(batch)
    }
  }

  #settle(batch: Deliveries): void {
    const { ids, kinds, data, ends } = batch
    const decisions = new Uint8Array(ids.length)
    this.#retryWriter.reset()
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!
      const outStart = i === 0 ? 0 : ends[2 * i - 1]!
      const outEnd = ends[2 * i]!
      let settled: Settled
      try {
        if (kinds[i] === OutcomeKind.Value) {
          settled = this.#onValue(id, decode(data, outStart, outEnd) as R)
        } else if (kinds[i] === OutcomeKind.Abandoned) {
          // No worker can run it: a retry would be abandoned again, so the hook is not asked.
          const args = decode(data, outEnd, ends[2 * i + 1]!) as A
          const reason = this.abandonReason ?? new QdmpError(ErrorCode.Internal, 'no worker can start')
          this.#fail(new ProcessingException(reason, reason.stack, args, { code: reason.code }))
          settled = { kind: DecisionKind.Failed }
        } else {
          const args = decode(data, outEnd, ends[2 * i + 1]!) as A
          const error = this.#failureError(kinds[i]!, batch.slots[i]!, data, outStart, outEnd)
          settled = this.#onFailure(error, args, batch.canRetry[i] === 1)
        }
      } catch (bug) {
        // Only a bug in qdmp gets here (hooks are guarded); the task must still settle.
        this.#logger.error(`internal error while settling task ${id}; it is reported as failed`, bug)
        this.#fail(new ProcessingException(bug, undefined, undefined, { code: ErrorCode.Internal }))
        settled = { kind: DecisionKind.Failed }
      }
      decisions[i] = settled.kind
    }
    this.#native.settle(ids, decisions, this.#retryWriter.bytes(), this.#retryWriter.ends())
    for (let i = 0; i < ids.length; i++) {
      if (decisions[i] !== DecisionKind.Retry) this.#queue.finished(ids[i]!)
    }
  }

  #failureError(kind: number, slot: number, data: Uint8Array, start: number, end: number): Error {
    if (kind === OutcomeKind.Thrown) return fromErrorRecord(decode(data, start, end) as ErrorRecord)
    const detail = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8', start, end))
    if (kind === OutcomeKind.WorkerExited) {
      const cause = this.exitCauses.get(slot)
      this.exitCauses.delete(slot)
      return new WorkerExitedError(slot, detail.code, detail.signal, cause)
    }
    return new TaskTimeoutError(slot, Math.round(detail.limitMs))
  }

  #onValue(id: number, value: R): Settled {
    const { validateResult } = this.#options
    if (validateResult !== undefined) {
      let keep: unknown
      try {
        keep = validateResult(value)
      } catch (cause) {
        const args = this.#argsOf(id)
        const error = new QdmpError(ErrorCode.HookFailed, `validateResult threw: ${describeValue(cause)}`, { cause })
        this.#logger.warn(`validateResult threw for a result; the task is reported as failed`, cause)
        this.#fail(new ProcessingException(error, error.stack, args, { code: ErrorCode.HookFailed, cause }))
        return { kind: DecisionKind.Failed }
      }
      if (!keep) return { kind: DecisionKind.DiscardedResult }
    }
    this.#queue.push({ ok: true, value })
    return { kind: DecisionKind.Completed }
  }

  #argsOf(id: number): A | undefined {
    const bytes = this.#native.taskArgs(id)
    return bytes === null ? undefined : (decode(bytes) as A)
  }

  #fail(error: ProcessingException): void {
    this.#queue.push({ ok: false, error })
  }

  #hintClosure(error: Error): void {
    if (!this.#functionTarget || this.#hintedClosure || !(error instanceof ReferenceError)) return
    this.#hintedClosure = true
    this.#logger.warn(
      `the task function threw "${error.message}". A function target runs in the workers from its source ` +
        `text, without its surrounding scope: it cannot use closures or require(). Pass values in the task ` +
        `arguments, load modules with await import() inside it, or use a module target. (Warned once.)`,
    )
  }

  #onFailure(error: Error, args: A, canRetry: boolean): Settled {
    this.#hintClosure(error)
    const traceback = error.stack ?? ''
    const code: QdmpErrorCode = error instanceof QdmpError ? error.code : ErrorCode.TaskFailed
    const report = (options: { code?: QdmpErrorCode; cause?: unknown } = {}): Settled => {
      this.#fail(new ProcessingException(error, traceback, args, { code, ...options }))
      return { kind: DecisionKind.Failed }
    }
    const { handleError } = this.#options
    if (handleError === undefined) return report()

    let decision: unknown
    try {
      decision = handleError(error, args, traceback)
    } catch (cause) {
      this.#logger.warn(`handleError threw; the failure is reported with the default ProcessingException`, cause)
      return report({ code: ErrorCode.HookFailed, cause })
    }
    if (!Array.isArray(decision) || decision.length !== 3 || typeof decision[0] !== 'boolean') {
      const cause = new QdmpError(
        ErrorCode.HookFailed,
        `handleError must return [enqueue: boolean, newArgs, exception], got ${describeValue(decision)}`,
        { returned: decision },
      )
      this.#logger.warn(cause.message)
      return report({ code: ErrorCode.HookFailed, cause })
    }
    const [enqueue, newArgs, exception] = decision as [boolean, A, unknown]
    if (!enqueue) {
      if (exception instanceof ProcessingException) {
        this.#fail(exception)
        return { kind: DecisionKind.Failed }
      }
      const cause = new QdmpError(
        ErrorCode.HookFailed,
        `handleError returned [false, _, ${describeValue(exception)}]; when not retrying, the third element ` +
          `must be a ProcessingException (or PoolFutureException) to report`,
        { returned: exception },
      )
      this.#logger.warn(cause.message)
      return report({ code: ErrorCode.HookFailed, cause })
    }
    if (!canRetry) {
      const cause = new QdmpError(
        ErrorCode.RetryLimit,
        `handleError asked to retry, but the task was already re-submitted options.maxRetries ` +
          `(${this.#options.maxRetries}) times; raise maxRetries to allow more attempts`,
      )
      return report({ code: ErrorCode.RetryLimit, cause })
    }
    return this.#retry(newArgs, report)
  }

  #retry(newArgs: A, report: (options: { code: QdmpErrorCode; cause: unknown }) => Settled): Settled {
    const rejected = (why: string, cause?: unknown): Settled =>
      report({
        code: ErrorCode.RetryRejected,
        cause: new QdmpError(ErrorCode.RetryRejected, `the retry arguments ${why}; the failure is reported instead`, {
          args: newArgs,
          ...(cause === undefined ? {} : { cause }),
        }),
      })
    const { validateArgs } = this.#options
    if (validateArgs !== undefined) {
      let ok: unknown
      try {
        ok = validateArgs(newArgs)
      } catch (cause) {
        this.#logger.warn(`validateArgs threw on the arguments of a retry`, cause)
        return rejected('made validateArgs throw', cause)
      }
      if (!ok) return rejected('were rejected by validateArgs')
    }
    try {
      // Retry payloads are taken in decision order, and add() leaves the writer unchanged on failure.
      this.#retryWriter.add(newArgs)
    } catch (cause) {
      return rejected(`cannot be cloned (${(cause as Error).message})`, cause)
    }
    return { kind: DecisionKind.Retry }
  }
}
