//! Stopping: queued tasks cancelled (running ones too when forced), workers retired, and the
//! arguments of what never ran handed back.

use std::mem;

use super::{Phase, State};
use crate::payload::Payload;
use crate::task::{TaskId, TaskState};

impl State {
    /// Stops accepting tasks and cancels the queued ones; with `force`, also the running ones.
    /// Calling it again with `force` escalates a graceful stop.
    pub fn stop(&mut self, force: bool) {
        match self.phase {
            Phase::Created | Phase::Stopped => self.phase = Phase::Stopped,
            Phase::Running => {
                self.phase = Phase::Stopping { forced: force };
                self.cancel_queued();
                if force {
                    self.cancel_running();
                }
            }
            Phase::Stopping { forced: false } if force => {
                self.phase = Phase::Stopping { forced: true };
                self.cancel_running();
            }
            Phase::Stopping { .. } => {}
        }
        for rec in self.workers.values_mut() {
            rec.retired = true;
        }
    }

    /// Ends a stop: every worker still registered is removed, and its task cancelled, so that
    /// nothing is left running on a closed engine.
    pub fn close(&mut self) {
        self.stop(true);
        // Nothing should be queued once stopping (see `requeue`); if anything is, hand it back.
        self.cancel_queued();
        self.workers.clear();
        self.phase = Phase::Stopped;
    }

    fn cancel_queued(&mut self) {
        for id in mem::take(&mut self.queue) {
            let queued = self.tasks.get(&id).map(|t| t.state) == Some(TaskState::Queued);
            if let (true, Some(task)) = (queued, self.tasks.remove(&id)) {
                self.stats.pending -= 1;
                self.stats.cancelled += 1;
                self.unprocessed.push((id, task.args));
            }
        }
    }

    fn cancel_running(&mut self) {
        for rec in self.workers.values_mut() {
            rec.retired = true;
            for id in rec.running.take().into_iter().chain(rec.held.drain(..)) {
                if let Some(task) = self.tasks.remove(&id) {
                    self.stats.running -= 1;
                    self.stats.cancelled += 1;
                    self.unprocessed.push((id, task.args));
                }
            }
        }
    }

    /// The arguments of tasks cancelled by `stop` since the last call, in cancellation order.
    pub fn take_unprocessed(&mut self) -> Vec<(TaskId, Payload)> {
        mem::take(&mut self.unprocessed)
    }
}
