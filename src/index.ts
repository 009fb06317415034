// The public API of qdmp. Re-exports only.

export {
  ErrorCode,
  PoolFutureException,
  ProcessingException,
  QdmpError,
  QdmpRangeError,
  QdmpTypeError,
  TaskTimeoutError,
  ThrownValueError,
  WorkerExitedError,
} from './errors'
export type { ErrorDetails, ProcessingExceptionOptions, QdmpErrorCode } from './errors'
export type { HandlerStats, ProcessResultsOptions, ResultOutcome, StopOptions, StopResult } from './handler-types'
export { Handler } from './handler'
export type { CancelReport, RunningTask } from './inspection'
export type { Logger } from './logger'
export type { MapOptions, Settled } from './map'
export { move } from './move'
export type { MovedResult } from './move'
export type { ErrorDecision, HandlerOptions } from './options'
export type { Outcome, ResultsAndErrors } from './outcome-queue'
export { PoolHandler } from './pool-handler'
export type { PoolHandlerOptions } from './pool-handler'
export { ProcessPoolHandler } from './process-pool-handler'
export type { ProcessPoolOptions } from './process-pool-handler'
export type { RunOptions, SubmitOptions } from './single'
export type { StreamOptions } from './stream'
export type { RejectedArgument } from './submitter'
export type { ProcessReport } from './supervisor'
export type { NamedExport, StatefulFunctions, StatefulTarget, StatefulTaskFunction, Target, TaskFunction } from './target'
export { ThreadPoolHandler } from './thread-pool-handler'
export type { ThreadPoolOptions } from './thread-pool-handler'
export type { WorkerOptions } from './worker-options'
