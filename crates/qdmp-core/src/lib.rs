//! The task engine behind qdmp: the queue, the choice of worker, in-flight accounting and the
//! bookkeeping that settles every task exactly once. Pure Rust; it knows nothing of JavaScript.
//!
//! # Model
//! A producer submits serialized arguments ([`Payload`]s); each becomes a task with a fresh
//! [`TaskId`]. Workers pull tasks with [`Pool::next`], which also takes the outcome of their
//! previous task. Outcomes wait in a done queue until the producer [drains](Pool::drain) them and
//! answers each with a [`Decision`] through [`Pool::settle`]: completed, result discarded, failed,
//! or retried with new arguments.
//!
//! # Invariants
//! 1. Every accepted task is in exactly one state: queued, running, done (outcome waiting),
//!    collecting (drained, decision owed), or finished (completed, failed, discarded result,
//!    cancelled). Finished tasks are forgotten; the counters in [`Stats`] count each state, and
//!    `accepted = pending + running + settling + completed + failed + discarded_results + cancelled`
//!    holds after every operation ([`Stats::is_consistent`]).
//! 2. A running task runs on exactly one worker, and that worker records it; an outcome is accepted
//!    only from the worker the task runs on. A task held ahead (handed to a child process to start
//!    after its running one) is held by exactly one worker, counts as running, and becomes that
//!    worker's running task when it starts; if the worker leaves first it is queued again. Worker ids are never reused, so a late outcome from a
//!    dead, cancelled or replaced worker is dropped and cannot settle a task twice.
//! 3. Each attempt ends exactly once: by its worker's outcome, by its worker's exit, or by
//!    cancellation. Each outcome is drained exactly once, in completion order.
//! 4. Stopping cancels every queued task (and, forced, every running one) and hands back its
//!    arguments through [`Pool::take_unprocessed`]; a retry decided while stopping is handed back the
//!    same way. Nothing accepted is ever dropped silently.
//! 5. The producer's notifier is never called with the lock held, and at most once per drain. An
//!    outcome reaches the producer's notifier at once, or, while the queue is deep, within the
//!    deferral of `state/wake.rs` (the watchdog thread delivers it).
//! 6. An interrupted task (timed out, restarted, cancelled) is taken off its worker at once and
//!    the worker is retired and terminated; a task never waits on a frozen worker, and a frozen
//!    worker's late outcome is dropped (2.).
//!
//! [`Pool::audit`] re-derives the counters and cross-links from the records.

mod config;
mod error;
mod faults;
mod id_map;
mod notify;
pub mod os;
mod payload;
mod pool;
#[cfg(unix)]
pub mod remote;
mod spin;
mod state;
mod stats;
mod task;
mod worker;

pub use config::{Config, MAX_WORKERS};
pub use error::{Error, ErrorCode, Result};
pub use faults::Cancellation;
pub use notify::Notify;
pub use payload::Payload;
pub use pool::{Exchange, Pool, DEFAULT_IDLE_WAIT};
pub use state::RunningTask;
pub use stats::Stats;
pub use task::{Attachment, Decision, Delivery, ExitInfo, Outcome, TaskId};
pub use worker::{Departure, Finished, Step, Terminate, Terminator, WorkerId};
