//! Tasks held ahead. A child process pays a round trip on its socket for every task it takes,
//! which costs more than a short task itself; so while the queue is deep, the engine hands such
//! a worker its next tasks while it runs one, and the worker starts each as soon as it reports
//! the one before.
//!
//! A held task has been handed out: it counts as running, no other worker takes it, and
//! cancelling the queued tasks leaves it (as it leaves running ones). But it has not started:
//! its time limit starts when its worker starts it ([`State::start_held`]), and if the worker
//! dies or is interrupted first, it goes back to the front of the queue with no attempt counted.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{Phase, State};
use crate::payload::Payload;
use crate::task::{TaskId, TaskState};
use crate::worker::WorkerId;

/// A worker holds about this much work ahead, judged by how long its last task ran...
const AHEAD_BUDGET: Duration = Duration::from_millis(1);
/// ...never more than this many tasks...
pub const MAX_HELD: usize = 16;
/// ...and never more argument bytes than this. The child reads the frames that hand it tasks
/// only once it runs out of held ones; the engine must never be left blocked writing them while
/// the child writes its outcomes, so what a worker holds stays well inside the smallest socket
/// buffer (8 KiB on macOS) and a task with larger arguments is never held.
pub const MAX_HELD_BYTES: usize = 4 << 10;

impl State {
    /// Hands `worker` more queued tasks to hold ahead: as many as fit in [`AHEAD_BUDGET`] of its
    /// last task's time (none for tasks that long, so slow tasks never wait behind one another
    /// while a worker idles), and only while every other worker could still find one queued.
    pub fn hold_ahead(&mut self, worker: WorkerId) -> Vec<(TaskId, Payload)> {
        let mut handed = Vec::new();
        if self.phase != Phase::Running {
            return handed;
        }
        let Some(rec) = self.workers.get(&worker) else {
            return handed;
        };
        if rec.retired {
            return handed;
        }
        let wanted = match rec.last_run {
            Some(run) if run < AHEAD_BUDGET => {
                let fit = AHEAD_BUDGET.as_nanos() / run.as_nanos().max(1);
                usize::try_from(fit).unwrap_or(MAX_HELD).min(MAX_HELD)
            }
            _ => 0,
        };
        let others = self.workers.len() as u64 - 1;
        let mut held = rec.held.len();
        let mut bytes: usize = rec
            .held
            .iter()
            .filter_map(|id| self.tasks.get(id))
            .map(|t| t.args.len())
            .sum();
        while held < wanted && self.stats.pending > others {
            let fits = self
                .queued_ids()
                .next()
                .and_then(|id| self.tasks.get(&id))
                .is_some_and(|t| bytes + t.args.len() <= MAX_HELD_BYTES);
            if !fits {
                break;
            }
            let Some((id, args, _)) = self.pop_queued(TaskState::Held { worker }) else {
                break;
            };
            bytes += args.len();
            // Child processes, the only workers that hold tasks, never get attachments (moved
            // buffers are copied for them), so the arguments are all a held task needs.
            if let Some(rec) = self.workers.get_mut(&worker) {
                rec.held.push_back(id);
            }
            handed.push((id, args));
            held += 1;
        }
        handed
    }

    /// `worker` starts the first task it holds, now. Returns its id, or `None` if it holds none
    /// (it was taken back: the worker is being stopped or terminated).
    pub fn start_held(&mut self, worker: WorkerId, now: Instant) -> Option<TaskId> {
        let rec = self.workers.get_mut(&worker)?;
        if rec.running.is_some() {
            return None; // it reports its running task first; the protocol was broken
        }
        let id = rec.held.pop_front()?;
        rec.running = Some(id);
        rec.last_active = now;
        if let Some(task) = self.tasks.get_mut(&id) {
            task.state = TaskState::Running { worker, since: now };
        }
        Some(id)
    }

    /// Puts tasks handed to a worker that will never report them back at the front of the
    /// queue, in order, with no attempt counted. Returns how many. Once the engine is stopping
    /// no worker takes queued tasks any more: they are cancelled instead, and handed back with
    /// the other unprocessed ones.
    pub(crate) fn requeue(&mut self, held: VecDeque<TaskId>) -> usize {
        if self.phase != Phase::Running {
            for id in held {
                if let Some(task) = self.tasks.remove(&id) {
                    self.stats.running -= 1;
                    self.stats.cancelled += 1;
                    self.unprocessed.push((id, task.args));
                }
            }
            return 0;
        }
        let mut count = 0;
        for id in held.into_iter().rev() {
            if let Some(task) = self.tasks.get_mut(&id) {
                task.state = TaskState::Queued;
                self.queue.push_front(id);
                self.stats.running -= 1;
                self.stats.pending += 1;
                count += 1;
            }
        }
        count
    }
}
