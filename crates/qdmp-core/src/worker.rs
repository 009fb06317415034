//! Worker instances as the engine sees them: which slot they fill and what they run.

use std::time::Instant;

use crate::payload::Payload;
use crate::task::{Outcome, TaskId};

/// Identifies one worker instance (a thread or process). A replacement in the same slot gets a new
/// id, so a late call from a dead or replaced worker can never touch its successor's task.
pub type WorkerId = u64;

/// One registered worker instance.
#[derive(Debug)]
pub(crate) struct WorkerRec {
    /// The user-visible worker number, `0..workerCount`.
    pub slot: u32,
    /// The task it runs, if any. Invariant: `Some(t)` iff task `t` is `Running { worker: this }`.
    pub running: Option<TaskId>,
    /// Set when the worker must take no more tasks (stop, scale-down, replacement).
    pub retired: bool,
    /// When it last finished or took a task (or registered).
    pub last_active: Instant,
}

/// What a worker reports when it finishes a task.
#[derive(Debug)]
pub struct Finished {
    /// The task it ran.
    pub task: TaskId,
    /// [`Outcome::Value`] or [`Outcome::Thrown`].
    pub outcome: Outcome,
}

/// What the engine tells a worker to do next.
#[derive(Debug)]
pub enum Step {
    /// Run this task.
    Task {
        /// The task.
        id: TaskId,
        /// Its serialized arguments.
        args: Payload,
    },
    /// No work arrived within the wait; call again (after letting the event loop turn).
    Idle,
    /// Exit: the engine is stopping, or this worker was retired or is unknown.
    Retire,
}
