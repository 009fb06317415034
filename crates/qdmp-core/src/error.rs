//! Every condition a qdmp user can meet, each with a stable `ERR_QDMP_*` code, declared once here.
//!
//! The closed list of codes is [`ErrorCode`]. The binding re-exports it to JavaScript (through
//! [`for_each_error_code!`](crate::for_each_error_code)), so the TypeScript layer raises the same
//! codes for the conditions it detects itself (option types, cloning, user hooks). [`Error`] holds the
//! conditions the core detects, with the values involved, and says what to do about each.

use std::fmt;

/// Calls `$callback! { Variant = "ERR_QDMP_..." => "what it means", ... }` with every error code, so
/// that another crate (the N-API binding) can generate its own declaration from this single list.
/// The descriptions are plain string literals rather than `///` comments because doc comments
/// passed through a macro arrive as raw strings, which napi-derive copies into the typings verbatim.
#[macro_export]
macro_rules! for_each_error_code {
    ($callback:ident) => {
        $callback! {
            InvalidWorkerCount = "ERR_QDMP_INVALID_WORKER_COUNT"
                => "`start()` got a worker count that is not a positive integer.",
            InvalidOption = "ERR_QDMP_INVALID_OPTION"
                => "An option is unknown, has the wrong type, or is out of range.",
            InvalidTarget = "ERR_QDMP_INVALID_TARGET"
                => "The target is not a module path, URL, `{ filename, name }` or function.",
            InvalidArgument = "ERR_QDMP_INVALID_ARGUMENT"
                => "A method argument has the wrong type or value.",
            AlreadyStarted = "ERR_QDMP_ALREADY_STARTED"
                => "`start()` was called while the handler is running.",
            NotStarted = "ERR_QDMP_NOT_STARTED"
                => "The handler has not been started.",
            Stopped = "ERR_QDMP_STOPPED"
                => "The handler is stopping or stopped.",
            TargetLoad = "ERR_QDMP_TARGET_LOAD"
                => "The target module could not be found, lacks the export, or threw while loading.",
            SetupFailed = "ERR_QDMP_SETUP_FAILED"
                => "A worker's `setup` failed.",
            DataClone = "ERR_QDMP_DATA_CLONE"
                => "A value (an argument or a result) cannot be structured-cloned.",
            TaskFailed = "ERR_QDMP_TASK_FAILED"
                => "The target threw or rejected.",
            ThrownValue = "ERR_QDMP_THROWN_VALUE"
                => "The target threw something that is not an `Error`; the value is kept on the error.",
            HookFailed = "ERR_QDMP_HOOK_FAILED"
                => "A user hook (`validateArgs`, `validateResult`, `handleError`) threw or returned the wrong shape.",
            RetryRejected = "ERR_QDMP_RETRY_REJECTED"
                => "`handleError` asked for a retry whose arguments were rejected.",
            RetryLimit = "ERR_QDMP_RETRY_LIMIT"
                => "`handleError` asked for a retry past `maxRetries`.",
            WorkerExited = "ERR_QDMP_WORKER_EXITED"
                => "The worker running the task exited.",
            TaskStalled = "ERR_QDMP_TASK_STALLED"
                => "The task's promise can never settle: its worker had nothing left to wait on.",
            TaskTimeout = "ERR_QDMP_TASK_TIMEOUT"
                => "The task ran longer than `taskTimeout`.",
            Cancelled = "ERR_QDMP_CANCELLED"
                => "The task was cancelled before it settled.",
            Discarded = "ERR_QDMP_DISCARDED"
                => "A hook discarded the task's arguments or result.",
            QueueFull = "ERR_QDMP_QUEUE_FULL"
                => "The bounded queue is full.",
            Aborted = "ERR_QDMP_ABORTED"
                => "The operation was aborted through an `AbortSignal`.",
            UnknownId = "ERR_QDMP_UNKNOWN_ID"
                => "An id passed to the engine does not name a live task or worker.",
            BadInput = "ERR_QDMP_BAD_INPUT"
                => "A line of the `qdmp` command's input is not JSON (reported as an error record; the run goes on).",
            NativeBinding = "ERR_QDMP_NATIVE_BINDING"
                => "No prebuilt binary of qdmp's native core exists for this platform (raised by the JavaScript loader, before the core loads).",
            Internal = "ERR_QDMP_INTERNAL"
                => "An internal invariant was broken: a bug in qdmp. Please report it.",
        }
    };
}

macro_rules! declare_error_code {
    ($($name:ident = $code:literal => $doc:literal,)*) => {
        /// The closed set of qdmp error conditions.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(#[doc = $doc] $name,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name,)*];

            /// The stable string users match on, e.g. `"ERR_QDMP_NOT_STARTED"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => $code,)*
                }
            }
        }
    };
}

for_each_error_code!(declare_error_code);

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A condition detected by the engine, with the values that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A worker count outside `1..=MAX_WORKERS`.
    InvalidWorkerCount {
        /// The count that was asked for.
        requested: i64,
        /// The largest count accepted.
        max: usize,
    },
    /// `start` while running or stopping.
    AlreadyStarted,
    /// An operation that needs a running engine, before `start`.
    NotStarted {
        /// What was attempted, e.g. `"addTasks()"`.
        operation: &'static str,
    },
    /// An operation that needs a running engine, while stopping or after `stop`.
    Stopped {
        /// What was attempted.
        operation: &'static str,
    },
    /// A retry was asked for past the configured limit.
    RetryLimit {
        /// The task.
        task: u64,
        /// The configured `maxRetries`.
        max_retries: u32,
    },
    /// A batch's end offsets do not describe its bytes.
    MalformedBatch {
        /// What is wrong with it.
        reason: String,
    },
    /// The id does not name a task awaiting a decision, or a live worker.
    UnknownId {
        /// `"task"` or `"worker"`.
        kind: &'static str,
        /// The id.
        id: u64,
    },
    /// The queue holds `max_queue` tasks already.
    QueueFull {
        /// The configured bound.
        max_queue: usize,
    },
}

impl Error {
    /// The stable code of this condition.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidWorkerCount { .. } => ErrorCode::InvalidWorkerCount,
            Error::AlreadyStarted => ErrorCode::AlreadyStarted,
            Error::NotStarted { .. } => ErrorCode::NotStarted,
            Error::Stopped { .. } => ErrorCode::Stopped,
            Error::RetryLimit { .. } => ErrorCode::RetryLimit,
            Error::MalformedBatch { .. } => ErrorCode::Internal,
            Error::UnknownId { .. } => ErrorCode::UnknownId,
            Error::QueueFull { .. } => ErrorCode::QueueFull,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidWorkerCount { requested, max } => write!(
                f,
                "worker count must be an integer from 1 to {max}, got {requested}; \
                 pass a positive count or omit it to use every core"
            ),
            Error::AlreadyStarted => f.write_str(
                "start() was called while the handler is running or stopping; \
                 await stop() before starting it again",
            ),
            Error::NotStarted { operation } => {
                write!(
                    f,
                    "{operation} needs a started handler; call `await handler.start()` first"
                )
            }
            Error::Stopped { operation } => write!(
                f,
                "{operation} cannot run: the handler is stopping or stopped; \
                 call `await handler.start()` to use it again"
            ),
            Error::RetryLimit { task, max_retries } => write!(
                f,
                "task {task} was already retried {max_retries} time(s), the maxRetries limit; \
                 raise options.maxRetries to allow more attempts"
            ),
            Error::MalformedBatch { reason } => {
                write!(
                    f,
                    "internal error: malformed task batch ({reason}); please report this"
                )
            }
            Error::UnknownId { kind, id } => write!(f, "no live {kind} has id {id}"),
            Error::QueueFull { max_queue } => write!(
                f,
                "the queue already holds {max_queue} tasks (options.maxQueue); \
                 await submit() to wait for room, or raise maxQueue"
            ),
        }
    }
}

impl std::error::Error for Error {}

/// The engine's result type.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_is_unique_and_prefixed() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(code.as_str().starts_with("ERR_QDMP_"), "{code}");
            assert!(seen.insert(code.as_str()), "duplicate {code}");
        }
    }

    #[test]
    fn messages_name_the_value_and_the_remedy() {
        let e = Error::InvalidWorkerCount {
            requested: 0,
            max: 1024,
        };
        assert_eq!(e.code(), ErrorCode::InvalidWorkerCount);
        let text = e.to_string();
        assert!(
            text.contains("got 0") && text.contains("1 to 1024"),
            "{text}"
        );
    }
}
