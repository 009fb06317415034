//! Read-only calls: counters, the tasks running, a task's arguments, and the audit.

use super::Pool;
use crate::config::Config;
use crate::payload::Payload;
use crate::state::RunningTask;
use crate::stats::Stats;
use crate::task::TaskId;

impl Pool {
    /// The settings it was built with.
    pub fn config(&self) -> Config {
        self.lock().state.config().clone()
    }

    /// The counters and the room of the bounded queue, read together.
    pub fn counts(&self) -> (Stats, usize) {
        let locked = self.lock();
        (locked.state.stats(), locked.state.room())
    }

    /// The counters, read atomically.
    pub fn stats(&self) -> Stats {
        self.lock().state.stats()
    }

    /// The arguments of a task not yet finished, e.g. one awaiting the producer's decision.
    pub fn task_args(&self, task: TaskId) -> Option<Payload> {
        self.lock().state.task_args(task)
    }

    /// The tasks running now, oldest id first.
    pub fn running_tasks(&self) -> Vec<RunningTask> {
        self.lock().state.running_tasks()
    }

    /// How many workers are registered.
    pub fn worker_count(&self) -> usize {
        self.lock().state.worker_count()
    }

    /// Checks every invariant against the records; for tests and debugging.
    pub fn audit(&self) -> std::result::Result<(), String> {
        self.lock().state.audit()
    }
}
