// The public API of qdmp. Re-exports only.

export {
  ErrorCode,
  PoolFutureException,
  ProcessingException,
  QdmpError,
  QdmpRangeError,
  QdmpTypeError,
  ThrownValueError,
  WorkerExitedError,
} from './errors'
export type { ErrorDetails, ProcessingExceptionOptions, QdmpErrorCode } from './errors'
export type { HandlerStats, ProcessResultsOptions, RejectedArgument, StopOptions, StopResult } from './handler'
export { Handler } from './handler'
export type { Logger } from './logger'
export type { ErrorDecision, HandlerOptions } from './options'
export type { Outcome, ResultsAndErrors } from './outcome-queue'
export type { NamedExport, Target, TaskFunction } from './target'
export { ThreadPoolHandler } from './thread-pool-handler'
export type { ThreadPoolOptions } from './thread-pool-handler'
