//! Read-only questions about the state (a task's arguments, the tasks running now, the worker
//! count), apart from the transitions that change it.

use super::{RunningTask, State};
use crate::payload::Payload;
use crate::task::{TaskId, TaskState};

impl State {
    /// The current arguments of a task the engine still holds (not yet finished by a decision).
    pub fn task_args(&self, task: TaskId) -> Option<Payload> {
        self.tasks.get(&task).map(|t| t.args.clone())
    }

    /// Every task a worker is running now.
    pub fn running_tasks(&self) -> Vec<RunningTask> {
        let mut out: Vec<RunningTask> = self
            .workers
            .iter()
            .filter_map(|(&worker, rec)| {
                let task = rec.running?;
                let t = self.tasks.get(&task)?;
                let TaskState::Running { since, .. } = t.state else {
                    return None;
                };
                Some(RunningTask {
                    task,
                    worker,
                    slot: rec.slot,
                    since,
                    args: t.args.clone(),
                })
            })
            .collect();
        out.sort_by_key(|r| r.task);
        out
    }

    /// How many workers are registered.
    pub fn worker_count(&self) -> usize {
        self.workers.len()
    }
}
