//! The calls of workers that hold tasks ahead (child processes, see `state/ahead.rs`): the same
//! report-and-take as [`Pool::next`], plus tasks handed ahead, and the start of a held task.

use std::time::{Duration, Instant};

use super::Pool;
use crate::payload::Payload;
use crate::task::TaskId;
use crate::worker::{Finished, Step, WorkerId};

impl Pool {
    /// [`Pool::next`] for a worker that holds nothing: when it gets a task to run, it may also get
    /// tasks to hold ahead (to run after it, in order).
    pub fn next_holding(
        &self,
        worker: WorkerId,
        finished: Option<Finished>,
        wait: Duration,
    ) -> (Step, Vec<(TaskId, Payload)>) {
        let step = self.next(worker, finished, wait);
        let held = match step {
            Step::Task { .. } => {
                let mut locked = self.lock();
                let held = locked.state.hold_ahead(worker);
                // Holding takes tasks from the queue: room the producer waits for may have opened.
                let notify = locked.state.room_wake_due();
                drop(locked);
                if notify {
                    self.shared.notify();
                }
                held
            }
            Step::Idle | Step::Retire => Vec::new(),
        };
        (step, held)
    }

    /// `worker` reports its running task's outcome (if any) and starts the first task it holds.
    /// Returns that task (`None` if it was taken back, its worker being stopped or terminated:
    /// what the worker reports of it is then dropped) and more tasks to hold ahead.
    pub fn start_held(
        &self,
        worker: WorkerId,
        finished: Option<Finished>,
    ) -> (Option<TaskId>, Vec<(TaskId, Payload)>) {
        let mut locked = self.lock();
        let now = Instant::now();
        let mut notify = self.finish(&mut locked, worker, finished, now);
        let started = locked.state.start_held(worker, now);
        let held = if started.is_some() {
            self.wake_watchdog(&mut locked); // a deadline starts now
            locked.state.hold_ahead(worker)
        } else {
            Vec::new()
        };
        notify |= locked.state.room_wake_due(); // taking held tasks may have made room
        drop(locked);
        if notify {
            self.shared.notify();
        }
        (started, held)
    }
}
