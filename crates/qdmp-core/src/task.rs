//! Tasks, their outcomes, and what the producer decides about each outcome.

use std::time::{Duration, Instant};

use crate::payload::Payload;
use crate::worker::WorkerId;

/// Identifies a task for its whole life, across retries. Never reused by an engine.
pub type TaskId = u64;

/// Where an accepted task is. A task is in exactly one state; the engine forgets it once the
/// producer's decision finishes it (completed, failed, discarded result, cancelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskState {
    /// In the queue, waiting for a worker.
    Queued,
    /// Picked up by `worker` at `since`.
    Running { worker: WorkerId, since: Instant },
    /// Handed to `worker` ahead of time: it will run it after the tasks before it in its `held`.
    Held { worker: WorkerId },
    /// Its attempt has an outcome in the done queue, not yet drained by the producer.
    Done,
    /// Drained by the producer, which owes the engine a [`Decision`].
    Collecting,
}

/// Memory the producer pinned for a task's arguments (a buffer it moved instead of copying): its
/// address and length, for a worker in the same process to view in place, and the pin to release
/// once no worker views it. The engine never dereferences the address; it only passes it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attachment {
    /// Where the pinned bytes start.
    pub addr: usize,
    /// How many bytes.
    pub len: usize,
    /// The producer's pin.
    pub pin: u32,
}

/// One accepted task.
#[derive(Debug)]
pub(crate) struct Task {
    /// The serialized arguments of the current attempt.
    pub args: Payload,
    /// Memory the arguments refer to in place (transferred buffers); usually none.
    pub attachments: Vec<Attachment>,
    /// 0 for the first attempt, +1 for each retry.
    pub attempt: u32,
    pub state: TaskState,
}

/// How the process that exited ended: an exit code, or the signal that killed it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExitInfo {
    /// The exit code, when the worker exited by itself.
    pub code: Option<i32>,
    /// The signal name (`"SIGKILL"`), when a signal ended it.
    pub signal: Option<String>,
}

/// How one attempt of a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The target returned; the encoded result.
    Value(Vec<u8>),
    /// The target threw, or its result could not be encoded; the encoded error record.
    Thrown(Vec<u8>),
    /// The worker running the task exited before finishing it.
    WorkerExited(ExitInfo),
    /// The task ran past its time limit and its worker was stopped.
    TimedOut {
        /// The limit it exceeded.
        limit: Duration,
    },
    /// No worker can run it: every slot failed to start its worker.
    Abandoned,
}

impl Outcome {
    /// Whether the attempt failed.
    pub fn is_failure(&self) -> bool {
        !matches!(self, Outcome::Value(_))
    }
}

/// An outcome handed to the producer, with what it needs to decide about it.
#[derive(Debug)]
pub struct Delivery {
    /// The task.
    pub task: TaskId,
    /// Which attempt ended (0 = first).
    pub attempt: u32,
    /// Whether a retry is still allowed by `max_retries`.
    pub can_retry: bool,
    /// The slot of the worker that ran the attempt.
    pub worker_slot: u32,
    /// How it ended.
    pub outcome: Outcome,
    /// The attempt's arguments, for failures only (the error hook and reports need them).
    pub args: Option<Payload>,
}

/// The producer's verdict on a delivered outcome.
#[derive(Debug, Clone)]
pub enum Decision {
    /// The result was accepted.
    Completed,
    /// The result failed validation and was dropped.
    DiscardedResult,
    /// The failure is reported to the user.
    Failed,
    /// Run the task again with these arguments.
    Retry(Payload),
}
