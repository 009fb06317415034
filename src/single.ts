// run() and submit(): one task at a time. run() is the Promise of one task's result (the idiom of
// piscina's users), through the same hooks as every task; submit() queues one task for
// processResults()/results() and waits, rather than fails, while the bounded queue is full.

import { bufferList } from './buffer-list'
import { describeValue } from './describe'
import { ErrorCode, QdmpError, QdmpTypeError } from './errors'
import { abortError, type MapEngine } from './map'
import type { Final } from './routes'
import { type Offered, offeredAt, refusedBecause, type RejectedArgument } from './submitter'

/** Options of `run()`. */
export interface RunOptions {
  /** Aborting cancels the task (a running one's worker is ended) and rejects with `ERR_QDMP_ABORTED`. */
  signal?: AbortSignal
  /**
   * `ArrayBuffer`s (or views of them) in the arguments to move to the worker instead of copying,
   * as with `postMessage`: they are detached here and arrive intact. Worker threads read them in
   * place, without a copy; child processes receive a copy.
   */
  transfer?: readonly (ArrayBuffer | ArrayBufferView)[]
}

/** Options of `submit()`. */
export interface SubmitOptions {
  /** Aborting while waiting for room rejects with `ERR_QDMP_ABORTED`; the task is not queued. */
  signal?: AbortSignal
}

/** What one-task calls need from their handler, beyond what map needs. */
export interface SingleEngine<A, R> extends MapEngine<A, R> {
  /**
   * Cancels tasks, running ones too (their workers are ended). Each one cancelled is settled as
   * `cancelled` before this returns; one that already settled is left as it is.
   */
  cancel(ids: number[]): void
}

export function checkSignal(options: unknown, method: string): AbortSignal | undefined {
  if (typeof options !== 'object' || options === null) {
    throw new QdmpTypeError(ErrorCode.InvalidArgument, `${method}: options must be an object, got ${describeValue(options)}`)
  }
  const { signal } = options as { signal?: unknown }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new QdmpTypeError(ErrorCode.InvalidArgument, `${method}: options.signal must be an AbortSignal, got ${describeValue(signal)}`)
  }
  return signal
}

function rejectedArgument(method: string, rejected: RejectedArgument): QdmpError {
  return new QdmpError(rejected.code, `${method}: the arguments ${refusedBecause(rejected)}; the task was not queued`, {
    cause: rejected.error,
  })
}

/** Waits for room in the bounded queue, then offers one argument (moving `transfer`). */
async function offerOne<A, R>(
  engine: MapEngine<A, R>,
  args: A,
  signal: AbortSignal | undefined,
  method: string,
  transfer?: ArrayBuffer[],
): Promise<Offered> {
  for (;;) {
    engine.ensureRunning(method)
    if (signal?.aborted) throw abortError(signal, method)
    if (engine.submitter.room() > 0) break
    await engine.waitForRoom(signal)
  }
  const offered = transfer === undefined ? offeredAt(engine.submitter.offer([args]), 0, 0) : engine.submitter.offerMoved(args, transfer)
  engine.afterSubmit()
  if ('rejected' in offered) throw rejectedArgument(method, offered.rejected)
  return offered
}

/** `handler.submit(args)`: resolves `true` once queued, `false` when validateArgs discarded it. */
export async function submitOne<A, R>(engine: MapEngine<A, R>, args: A, options: SubmitOptions): Promise<boolean> {
  const signal = checkSignal(options, 'submit()')
  return 'id' in (await offerOne(engine, args, signal, 'submit()'))
}

/** `handler.run(args)`: the task's result, or its final failure. */
export async function runOne<A, R>(engine: SingleEngine<A, R>, args: A, options: RunOptions): Promise<R> {
  const signal = checkSignal(options, 'run()')
  const transfer = options.transfer === undefined ? undefined : bufferList(options.transfer, 'run(): options.transfer')
  const offered = await offerOne(engine, args, signal, 'run()', transfer)
  if (!('id' in offered)) {
    throw new QdmpError(ErrorCode.Discarded, `run(): validateArgs discarded the arguments ${describeValue(args)}; the task did not run`, {
      args,
    })
  }
  const { id } = offered
  return new Promise<R>((resolve, reject) => {
    // A task still queued or running is settled as cancelled within the cancel, and its sink
    // below rejects with the abort; one that already settled keeps its outcome.
    const onAbort = (): void => engine.cancel([id])
    signal?.addEventListener('abort', onAbort, { once: true })
    engine.routes.set(id, {
      settle(_id: number, final: Final<R>): void {
        signal?.removeEventListener('abort', onAbort)
        switch (final.kind) {
          case 'fulfilled':
            return resolve(final.value)
          case 'rejected':
            return reject(final.error)
          case 'discarded':
            return reject(
              new QdmpError(ErrorCode.Discarded, `run(): validateResult discarded the result ${describeValue(final.value)}`, {
                value: final.value,
              }),
            )
          case 'cancelled':
            if (signal?.aborted) return reject(abortError(signal, 'run()'))
            return reject(new QdmpError(ErrorCode.Cancelled, `run(): the task was cancelled before it settled (stop() or cancelProcesses())`))
        }
      },
    })
  })
}
