// What every worker does before its first task, thread or process: load the target, run setup,
// and produce the message that tells the producer it is ready or why it is not.

import { type ErrorRecord, toErrorRecord } from '../error-record'
import type { TargetSpec } from '../target'
import { loadRunner, StartError } from './load-target'

/** A worker's first (and only) control message to its producer; tasks go through the engine. */
export type StartMessage = { type: 'ready' } | { type: 'start-error'; stage: 'load' | 'setup'; error: ErrorRecord }

/** Prepares the worker; `run` is absent when it could not start. */
export async function prepareWorker(
  target: TargetSpec,
  workerId: number,
): Promise<{ message: StartMessage; run?: (args: unknown) => unknown }> {
  try {
    const run = await loadRunner(target, workerId)
    return { message: { type: 'ready' }, run }
  } catch (error) {
    const failure = error instanceof StartError ? error : new StartError('load', error)
    return { message: { type: 'start-error', stage: failure.stage, error: toErrorRecord(failure.error) } }
  }
}
