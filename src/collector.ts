// The producer's side of settlement: drains outcomes from the engine, runs the user's hooks on
// them (validateResult, handleError, validateArgs for retries), and answers the engine with one
// decision per task. Hooks are user code: whatever they do, every drained task gets its decision.

import { ByteWriter, decode, type PortedFetcher } from './codec'
import { describeValue } from './describe'
import { type ErrorRecord, fromErrorRecord } from './error-record'
import { ErrorCode, ProcessingException, QdmpError, type QdmpErrorCode, TaskTimeoutError, WorkerExitedError } from './errors'
import type { Logger } from './logger'
import { DecisionKind, type NativePoolType, OutcomeKind } from './native'
import type { HandlerOptions } from './options'
import type { OutcomeQueue } from './outcome-queue'
import type { Pins } from './pins'
import type { ResultPorts } from './result-ports'
import type { Final, Routes } from './routes'

/** Drained per native call: large enough to amortise the call, small enough to keep pauses short. */
const DRAIN_BATCH = 4096

/** Bytes of one delivery's header in an exchange buffer (the binding's `DELIVERY_HEADER`). */
const HEADER = 28
/** Bytes before the terminations (the binding's `EXCHANGE_HEADER`). */
const EXCHANGE_HEADER = 48

/** What the engine reported at the end of a collection. */
export interface Counts {
  pending: number
  running: number
  settling: number
  /** Room in the bounded queue (`Infinity` without `maxQueue`). */
  room: number
}

export class Collector<A, R> {
  readonly #native: NativePoolType
  readonly #options: HandlerOptions<A, R>
  readonly #logger: Logger
  readonly #queue: OutcomeQueue<R>
  readonly #routes: Routes<R>
  readonly #pins: Pins | null
  /** Takes results that worker threads moved back (see ResultPorts). */
  readonly #fetchPorted: PortedFetcher | undefined
  /** Why a worker slot last exited (an uncaught error), for the WorkerExitedError of its task. */
  readonly exitCauses = new Map<number, unknown>()
  readonly #retryWriter = new ByteWriter(1024)
  /** Where the engine writes its answer to exchange(); read before the next exchange. */
  readonly #mailbox: Buffer
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
    routes: Routes<R>,
    functionTarget: boolean,
    pins: Pins | null,
    ports: ResultPorts | null,
  ) {
    this.#pins = pins
    this.#fetchPorted = ports === null ? undefined : (workerId, sequence) => ports.take(workerId, sequence)
    this.#native = native
    this.#options = options
    this.#logger = logger
    this.#queue = queue
    this.#routes = routes
    this.#functionTarget = functionTarget
    const view = native.mailbox()
    this.#mailbox = Buffer.from(view.buffer, view.byteOffset, view.byteLength)
  }

  // The ids, decisions and "reached a worker" flags of one batch, from #settle to the next
  // exchange. Kept across batches (collect() never runs re-entered: the handler guards it), since
  // three new arrays per batch would be garbage that outlives scavenges on an endless stream.
  readonly #ids = new Float64Array(DRAIN_BATCH)
  readonly #decisions = new Uint8Array(DRAIN_BATCH)
  readonly #reached = new Uint8Array(DRAIN_BATCH)

  /** Counts reported by the last collect(). */
  readonly counts: Counts = { pending: 0, running: 0, settling: 0, room: Number.POSITIVE_INFINITY }
  /** `[pending, running, settling, room]`, as currentCounts() last read them. */
  readonly #countsBuffer = new Float64Array(4)

  /** The engine's counts now, read without collecting anything. */
  currentCounts(): Counts {
    const b = this.#countsBuffer
    this.#native.counts(b)
    return { pending: b[0]!, running: b[1]!, settling: b[2]!, room: b[3]! }
  }

  /**
   * Settles every waiting outcome, one native round trip per batch: each exchange applies the
   * decisions on the previous batch and drains the next. Calls `terminate` with the workers the
   * engine interrupted.
   */
  collect(terminate: (workerIds: Float64Array) => void): void {
    const ids = this.#ids
    const decisions = this.#decisions
    const reached = this.#reached
    let decided = 0
    for (;;) {
      const answer = this.#native.exchange(ids.subarray(0, decided), decisions.subarray(0, decided), this.#retryWriter.bytes(), this.#retryWriter.ends(), DRAIN_BATCH)
      const buffer = typeof answer === 'number' ? this.#mailbox : answer
      for (let i = 0; i < decided; i++) {
        if (decisions[i] === DecisionKind.Retry) continue
        this.#queue.finished(ids[i]!)
        this.#pins?.finished(ids[i]!, reached[i] === 1)
      }
      const count = buffer.readUInt32LE(0)
      const terminations = buffer.readUInt32LE(4)
      const released = buffer.readUInt32LE(44)
      this.counts.pending = buffer.readDoubleLE(8)
      this.counts.running = buffer.readDoubleLE(16)
      this.counts.settling = buffer.readDoubleLE(24)
      this.counts.room = buffer.readDoubleLE(32)
      if (buffer.readUInt32LE(40) === 0xffffffff) this.#logger.error('internal error: the engine refused a decision on a task')
      if (terminations > 0) {
        terminate(new Float64Array(buffer.buffer.slice(buffer.byteOffset + EXCHANGE_HEADER, buffer.byteOffset + EXCHANGE_HEADER + 8 * terminations)))
      }
      for (let i = 0; i < released; i++) this.#pins?.givenBack(buffer.readDoubleLE(EXCHANGE_HEADER + 8 * (terminations + i)))
      if (count === 0) return
      this.#settle(buffer, EXCHANGE_HEADER + 8 * (terminations + released), count)
      decided = count
    }
  }

  /**
   * Decides on `count` deliveries of an exchange buffer, whose headers start at `first` (id f64,
   * attempt u32, slot u32, outcome length u32, argument length u32, kind u8, can-retry u8,
   * padding), followed by the outcome and argument bytes of each delivery in turn. Leaves the
   * ids and decisions for the next exchange in #ids and #decisions (retry payloads in
   * #retryWriter), and in #reached 1 for each task a worker was handed (its moved buffers come
   * back from that worker).
   */
  #settle(batch: Buffer, first: number, count: number): void {
    const ids = this.#ids
    const decisions = this.#decisions
    const reached = this.#reached.fill(1, 0, count)
    this.#retryWriter.reset()
    let position = first + count * HEADER
    for (let i = 0; i < count; i++) {
      const h = first + i * HEADER
      const id = batch.readDoubleLE(h)
      const slot = batch.readUInt32LE(h + 12)
      const outStart = position
      const outEnd = outStart + batch.readUInt32LE(h + 16)
      const argsEnd = outEnd + batch.readUInt32LE(h + 20)
      const kind = batch[h + 24]!
      position = argsEnd
      ids[i] = id
      let settled: DecisionKind
      try {
        if (kind === OutcomeKind.Value) {
          settled = this.#onValue(id, decode(batch, outStart, outEnd, undefined, this.#fetchPorted) as R)
        } else if (kind === OutcomeKind.Abandoned) {
          // No worker can run it: a retry would be abandoned again, so the hook is not asked.
          const args = decode(batch, outEnd, argsEnd, this.#pins?.resolve) as A
          reached[i] = 0
          const reason = this.abandonReason ?? new QdmpError(ErrorCode.Internal, 'no worker can start')
          this.#fail(id, new ProcessingException(reason, reason.stack, args, { code: reason.code }))
          settled = DecisionKind.Failed
        } else {
          const args = decode(batch, outEnd, argsEnd, this.#pins?.resolve) as A
          const error = this.#failureError(kind, slot, batch, outStart, outEnd)
          settled = this.#onFailure(id, error, args, batch[h + 25] === 1)
        }
      } catch (bug) {
        // Only a bug in qdmp gets here (hooks are guarded); the task must still settle.
        this.#logger.error(`internal error while settling task ${id}; it is reported as failed`, bug)
        this.#fail(id, new ProcessingException(bug, undefined, undefined, { code: ErrorCode.Internal }))
        settled = DecisionKind.Failed
      }
      decisions[i] = settled
    }
  }

  #failureError(kind: number, slot: number, data: Buffer, start: number, end: number): Error {
    if (kind === OutcomeKind.Thrown) return fromErrorRecord(decode(data, start, end) as ErrorRecord)
    const detail = JSON.parse(data.toString('utf8', start, end))
    if (kind === OutcomeKind.WorkerExited) {
      const cause = this.exitCauses.get(slot)
      this.exitCauses.delete(slot)
      return new WorkerExitedError(slot, detail.code, detail.signal, cause)
    }
    return new TaskTimeoutError(slot, Math.round(detail.limitMs))
  }

  #onValue(id: number, value: R): DecisionKind {
    const { validateResult } = this.#options
    if (validateResult !== undefined) {
      let keep: unknown
      try {
        keep = validateResult(value)
      } catch (cause) {
        const args = this.#argsOf(id)
        const error = new QdmpError(ErrorCode.HookFailed, `validateResult threw: ${describeValue(cause)}`, { cause })
        this.#logger.warn(`validateResult threw for a result; the task is reported as failed`, cause)
        this.#fail(id, new ProcessingException(error, error.stack, args, { code: ErrorCode.HookFailed, cause }))
        return DecisionKind.Failed
      }
      if (!keep) {
        this.#deliver(id, { kind: 'discarded', value })
        return DecisionKind.DiscardedResult
      }
    }
    this.#deliver(id, { kind: 'fulfilled', value })
    return DecisionKind.Completed
  }

  /** Hands a task's final outcome to its consumer: its sink, or else the shared queue. */
  #deliver(id: number, final: Final<R>): void {
    const sink = this.#routes.take(id)
    if (sink !== undefined) sink.settle(id, final)
    else if (final.kind === 'fulfilled') this.#queue.push({ ok: true, value: final.value })
    else if (final.kind === 'rejected') this.#queue.push({ ok: false, error: final.error })
    // A discarded result of the shared queue is only counted (stats().discardedResults).
  }

  #argsOf(id: number): A | undefined {
    const bytes = this.#native.taskArgs(id)
    return bytes === null ? undefined : (decode(bytes, 0, bytes.length, this.#pins?.resolve) as A)
  }

  #fail(id: number, error: ProcessingException): void {
    this.#deliver(id, { kind: 'rejected', error })
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

  #onFailure(id: number, error: Error, args: A, canRetry: boolean): DecisionKind {
    this.#hintClosure(error)
    const traceback = error.stack ?? ''
    const code: QdmpErrorCode = error instanceof QdmpError ? error.code : ErrorCode.TaskFailed
    const report = (options: { code?: QdmpErrorCode; cause?: unknown } = {}): DecisionKind => {
      this.#fail(id, new ProcessingException(error, traceback, args, { code, ...options }))
      return DecisionKind.Failed
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
        this.#fail(id, exception)
        return DecisionKind.Failed
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

  #retry(newArgs: A, report: (options: { code: QdmpErrorCode; cause: unknown }) => DecisionKind): DecisionKind {
    const rejected = (why: string, cause?: unknown): DecisionKind =>
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
    return DecisionKind.Retry
  }
}
