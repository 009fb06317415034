//! Worker instances as the engine sees them: which slot they fill and what they run.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::payload::Payload;
use crate::task::{Attachment, Outcome, TaskId};

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
    /// Tasks handed to it ahead, to run after `running` in this order (child processes only).
    /// Invariant: holds exactly the tasks that are `Held { worker: this }`.
    pub held: VecDeque<TaskId>,
    /// How long its last task ran: how many tasks it is worth handing it ahead.
    pub last_run: Option<Duration>,
    /// Set when the worker must take no more tasks (stop, scale-down, replacement).
    pub retired: bool,
    /// When it last finished or took a task (or first asked for one, or its idle clock was reset).
    pub last_active: Instant,
    /// Whether it has asked for work yet: its idle clock starts then, not while it loads.
    pub started: bool,
    /// Set when it was retired for staying idle past `idle_timeout`.
    pub idle_exit: bool,
    /// How the engine ends it at once, when it can (a process it can kill); `None` means the
    /// producer must do it (a thread only its producer can terminate).
    pub terminator: Option<Terminator>,
}

/// Ends a worker at once, from any thread: kills a process, for instance.
pub trait Terminate: Send + Sync {
    /// Ends the worker; returns whether it could.
    fn terminate(&self) -> bool;

    /// Whether the worker has reported something the engine has not been given yet (a child's
    /// outcome waiting in its socket for the producer to read): its task may be over, so its
    /// time limit waits until the report is read.
    fn has_unread_report(&self) -> bool {
        false
    }
}

/// A shared [`Terminate`] (a newtype so that worker records stay `Debug`).
#[derive(Clone)]
pub struct Terminator(pub Arc<dyn Terminate>);

impl std::fmt::Debug for Terminator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Terminator")
    }
}

/// Why a worker left, as [`crate::Pool::worker_exited`] reports it to the supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    /// It was idle past `idle_timeout`: start another only when work arrives.
    Idle,
    /// The engine retired or interrupted it (stop, timeout, restart, cancel): replace it unless
    /// stopping.
    Retired,
    /// It exited by itself (crash, `process.exit`): replace it.
    Unexpected,
    /// The engine did not know it (already removed).
    Unknown,
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
        /// Pinned memory its arguments refer to in place (usually none).
        attachments: Vec<Attachment>,
    },
    /// No work arrived within the wait; call again (after letting the event loop turn).
    Idle,
    /// Exit: the engine is stopping, or this worker was retired or is unknown.
    Retire,
}
