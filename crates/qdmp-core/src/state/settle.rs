//! Outcomes leaving for the producer, and the producer's decisions on them: complete, fail for
//! good, or queue again.

use std::mem;

use super::{Phase, State};
use crate::error::{Error, Result};
use crate::stats::Stats;
use crate::task::{Decision, Delivery, TaskId, TaskState};
use crate::worker::WorkerId;

impl State {
    /// Hands up to `max` outcomes to the producer, which must then [`settle`](State::settle) each.
    pub fn drain(&mut self, max: usize) -> Vec<Delivery> {
        // The producer re-checks the room whenever it drains.
        self.room_ready = false;
        let count = max.min(self.done.len());
        let mut out = Vec::with_capacity(count);
        for (task, worker_slot, outcome) in self.done.drain(..count) {
            let Some(t) = self.tasks.get_mut(&task) else {
                continue;
            };
            t.state = TaskState::Collecting;
            let can_retry = self.config.max_retries.is_none_or(|max| t.attempt < max);
            let args = outcome.is_failure().then(|| t.args.clone());
            out.push(Delivery {
                task,
                attempt: t.attempt,
                can_retry,
                worker_slot,
                outcome,
                args,
            });
        }
        self.rearm_if_empty();
        out
    }

    /// The workers the producer must terminate, since the last call.
    pub fn take_terminations(&mut self) -> Vec<WorkerId> {
        let out = mem::take(&mut self.terminations);
        self.rearm_if_empty();
        out
    }

    /// Applies the producer's decisions on drained outcomes. Returns how many tasks were queued
    /// again. Every decision is applied even if one is invalid; the first invalid one is returned.
    pub fn settle(&mut self, decisions: Vec<(TaskId, Decision)>) -> Result<usize> {
        let mut requeued = 0;
        let mut first_error = None;
        for (id, decision) in decisions {
            let collecting = self.tasks.get(&id).map(|t| t.state) == Some(TaskState::Collecting);
            if !collecting {
                first_error.get_or_insert(Error::UnknownId { kind: "task", id });
                continue;
            }
            self.stats.settling -= 1;
            match decision {
                Decision::Completed => self.finish_task(id, |s| s.completed += 1),
                Decision::DiscardedResult => self.finish_task(id, |s| s.discarded_results += 1),
                Decision::Failed => self.finish_task(id, |s| s.failed += 1),
                Decision::Retry(args) => {
                    if self.phase != Phase::Running {
                        // Stopping: the retry can never run, so its arguments go back to the user.
                        self.finish_task(id, |s| s.cancelled += 1);
                        self.unprocessed.push((id, args));
                        continue;
                    }
                    let Some(task) = self.tasks.get_mut(&id) else {
                        continue;
                    };
                    if let Some(max_retries) =
                        self.config.max_retries.filter(|&m| task.attempt >= m)
                    {
                        first_error.get_or_insert(Error::RetryLimit {
                            task: id,
                            max_retries,
                        });
                        self.finish_task(id, |s| s.failed += 1);
                        continue;
                    }
                    task.args = args;
                    task.attachments.clear(); // retry arguments are encoded anew, by copy
                    task.attempt += 1;
                    task.state = TaskState::Queued;
                    self.queue.push_back(id);
                    self.stats.pending += 1;
                    self.stats.retried += 1;
                    requeued += 1;
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(requeued),
        }
    }

    fn finish_task(&mut self, id: TaskId, count: impl FnOnce(&mut Stats)) {
        self.tasks.remove(&id);
        count(&mut self.stats);
    }
}
