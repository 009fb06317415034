//! Interrupting work: time limits, restarts of frozen workers, cancellation, idle clocks.
//!
//! An interruption ends a running task at once, from the engine's side: its outcome is recorded
//! (or, for a cancellation, the task is finished as cancelled) and its worker is retired, so
//! that nothing the worker reports later can settle the task again. The worker must then be
//! terminated: by its [`Terminator`] when it has one (a process the engine can kill), otherwise
//! by the producer, to which it is handed through [`State::take_terminations`].

use std::time::{Duration, Instant};

use crate::payload::Payload;
use crate::state::State;
use crate::task::{Outcome, TaskId, TaskState};
use crate::worker::{Terminator, WorkerId};

/// How soon the watchdog looks again at a task past its limit whose worker has an unread report.
const UNREAD_RECHECK: Duration = Duration::from_millis(5);

/// What the caller must do, outside the lock, after an interruption.
#[derive(Debug, Default)]
pub(crate) struct Followup {
    /// Terminators to call now.
    pub kill: Vec<Terminator>,
    /// Whether the producer must be woken.
    pub notify: bool,
    /// Tasks put back in the queue (held by an interrupted worker): idle workers must be woken.
    pub requeued: usize,
}

/// What `cancel` did with one task.
#[derive(Debug, Clone)]
pub enum Cancellation {
    /// It was queued; it will never run.
    Queued {
        /// Its arguments.
        args: Payload,
    },
    /// It was running; its worker is being terminated and no result of it will arrive.
    Running {
        /// Its arguments.
        args: Payload,
        /// The slot of the worker that ran it.
        slot: u32,
    },
    /// It is running and running tasks were to be left alone: nothing done.
    Busy,
    /// Its outcome is already recorded (or handed to the producer): nothing to cancel.
    AlreadySettled,
    /// No live task has this id (finished and forgotten, or never accepted here).
    Unknown,
}

impl State {
    /// Retires `worker`, takes the task it runs off it, and arranges its termination. Tasks it
    /// held ahead go back to the queue.
    fn detach(&mut self, worker: WorkerId, followup: &mut Followup) -> Option<(TaskId, u32)> {
        let rec = self.workers.get_mut(&worker)?;
        let task = rec.running.take()?;
        rec.retired = true;
        let slot = rec.slot;
        let held = std::mem::take(&mut rec.held);
        match rec.terminator.clone() {
            Some(terminator) => followup.kill.push(terminator),
            None => self.terminations.push(worker),
        }
        followup.requeued += self.requeue(held);
        Some((task, slot))
    }

    /// Ends the task `worker` runs with `outcome` and terminates the worker.
    pub(crate) fn interrupt(
        &mut self,
        worker: WorkerId,
        outcome: Outcome,
        followup: &mut Followup,
    ) {
        if let Some((task, slot)) = self.detach(worker, followup) {
            followup.notify |= self.end_attempt(task, slot, outcome);
        }
    }

    /// Interrupts, with `TimedOut`, every task that has run for `age` or longer. Returns how many.
    pub(crate) fn interrupt_older_than(
        &mut self,
        age: Duration,
        now: Instant,
        followup: &mut Followup,
    ) -> usize {
        let old: Vec<WorkerId> = self
            .running_since()
            .filter(|&(worker, since)| {
                now.saturating_duration_since(since) >= age && !self.reported_unread(worker)
            })
            .map(|(worker, _)| worker)
            .collect();
        for &worker in &old {
            self.interrupt(worker, Outcome::TimedOut { limit: age }, followup);
        }
        old.len()
    }

    /// The watchdog's pass: interrupts the tasks past `task_timeout` and returns the next deadline.
    pub(crate) fn expire(&mut self, now: Instant, followup: &mut Followup) -> Option<Instant> {
        let limit = self.config.task_timeout?;
        self.interrupt_older_than(limit, now, followup);
        // What is still running past its limit has an unread report: look again shortly.
        self.running_since()
            .map(|(_, since)| since + limit)
            .map(|deadline| {
                if deadline <= now {
                    now + UNREAD_RECHECK
                } else {
                    deadline
                }
            })
            .min()
    }

    /// Whether `worker` has reported something not read yet (see [`crate::Terminate::has_unread_report`]).
    fn reported_unread(&self, worker: WorkerId) -> bool {
        self.workers
            .get(&worker)
            .and_then(|rec| rec.terminator.as_ref())
            .is_some_and(|terminator| terminator.0.has_unread_report())
    }

    /// `(worker, since)` for every running task.
    fn running_since(&self) -> impl Iterator<Item = (WorkerId, Instant)> + '_ {
        self.workers.iter().filter_map(|(&worker, rec)| {
            let task = self.tasks.get(&rec.running?)?;
            match task.state {
                TaskState::Running { since, .. } => Some((worker, since)),
                _ => None,
            }
        })
    }

    /// Cancels a task: a queued one never runs, a running one's worker is terminated (with
    /// `running`; else it is left alone). Either way a cancelled task is finished as cancelled and
    /// no outcome of it is ever delivered.
    pub(crate) fn cancel(
        &mut self,
        task: TaskId,
        running: bool,
        followup: &mut Followup,
    ) -> Cancellation {
        let Some(state) = self.tasks.get(&task).map(|t| t.state) else {
            return Cancellation::Unknown;
        };
        let cancellation = match state {
            TaskState::Done | TaskState::Collecting => return Cancellation::AlreadySettled,
            TaskState::Running { .. } | TaskState::Held { .. } if !running => {
                return Cancellation::Busy
            }
            TaskState::Queued => {
                self.stats.pending -= 1;
                None
            }
            TaskState::Running { worker, .. } => {
                let detached = self.detach(worker, followup);
                self.stats.running -= 1;
                detached.map(|(_, slot)| slot)
            }
            TaskState::Held { worker } => {
                // Its worker holds a copy and would run it next: only ending that worker stops
                // it. The task the worker runs goes back to the queue with the rest it held (it
                // runs again elsewhere: a task may run more than once, it settles once).
                if let Some(rec) = self.workers.get_mut(&worker) {
                    rec.held.retain(|&id| id != task);
                }
                self.stats.running -= 1;
                let detached = self.detach(worker, followup);
                if let Some((running, _)) = detached {
                    followup.requeued += self.requeue([running].into());
                }
                detached.map(|(_, slot)| slot)
            }
        };
        self.stats.cancelled += 1;
        // A cancelled queued task's id stays in the queue; `take` skips ids it no longer knows.
        let args = match self.tasks.remove(&task) {
            Some(t) => t.args,
            None => return Cancellation::Unknown,
        };
        followup.notify |= self.wake_due();
        match cancellation {
            Some(slot) => Cancellation::Running { args, slot },
            None => Cancellation::Queued { args },
        }
    }

    /// Ends every queued task with [`Outcome::Abandoned`] (no worker can start to run it).
    /// Returns how many.
    pub(crate) fn abandon_queued(&mut self, followup: &mut Followup) -> usize {
        let queued: Vec<TaskId> = self.queued_ids().collect();
        for &task in &queued {
            if let Some(t) = self.tasks.get_mut(&task) {
                // Queued -> Running -> Done, as if a worker had picked it up and failed at once.
                t.state = TaskState::Running {
                    worker: 0,
                    since: Instant::now(),
                };
                self.stats.pending -= 1;
                self.stats.running += 1;
                followup.notify |= self.end_attempt(task, u32::MAX, Outcome::Abandoned);
            }
        }
        queued.len()
    }

    /// Restarts every worker's idle clock (the Python library's `reset_sanity_timer`).
    pub(crate) fn touch_workers(&mut self, now: Instant) {
        for rec in self.workers.values_mut() {
            rec.last_active = now;
        }
    }

    /// Gives `worker` a terminator; returns whether the worker is live.
    pub(crate) fn set_terminator(&mut self, worker: WorkerId, terminator: Terminator) -> bool {
        match self.workers.get_mut(&worker) {
            Some(rec) => {
                rec.terminator = Some(terminator);
                true
            }
            None => false,
        }
    }
}
