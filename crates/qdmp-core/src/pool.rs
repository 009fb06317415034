//! `Pool`: the thread-safe engine. One mutex guards the [`State`]; idle workers block on a condvar
//! until tasks arrive; the producer is woken through a coalescing [`Notify`].
//!
//! # Implementation details
//! Workers call [`Pool::next`] from their own threads (worker threads of Node, or the engine's
//! proxy threads for child processes), handing in the outcome of their last task and receiving the
//! next one in one lock round trip. The producer is never called under the lock: transitions report
//! whether a notification is due, and the call happens after the guard is dropped, so a notifier
//! that re-enters the engine cannot deadlock.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::config::{Config, MAX_WORKERS};
use crate::error::{Error, Result};
use crate::notify::Notify;
use crate::payload::Payload;
use crate::state::{RunningTask, State, Take};
use crate::stats::Stats;
use crate::task::{Decision, Delivery, ExitInfo, TaskId};
use crate::worker::{Finished, Step, WorkerId};

struct Locked {
    state: State,
    /// Workers blocked in `next`, so that submitting wakes no more threads than can use the work.
    waiting: usize,
}

/// The task engine shared by the producer and every worker.
pub struct Pool {
    locked: Mutex<Locked>,
    /// Signalled when tasks are queued and when workers must retire.
    work: Condvar,
    notifier: RwLock<Option<Arc<dyn Notify>>>,
}

impl Pool {
    /// A new engine in the `Created` phase.
    pub fn new(config: Config) -> Pool {
        Pool {
            locked: Mutex::new(Locked {
                state: State::new(config),
                waiting: 0,
            }),
            work: Condvar::new(),
            notifier: RwLock::new(None),
        }
    }

    /// Checks a requested worker count: an integer in `1..=MAX_WORKERS`.
    pub fn check_worker_count(requested: i64) -> Result<usize> {
        match usize::try_from(requested) {
            Ok(n) if (1..=MAX_WORKERS).contains(&n) => Ok(n),
            _ => Err(Error::InvalidWorkerCount {
                requested,
                max: MAX_WORKERS,
            }),
        }
    }

    // The state machine never panics while holding the lock, but a panic in a test harness or a
    // future bug must not turn every later call into a second panic: the state stays usable.
    fn lock(&self) -> MutexGuard<'_, Locked> {
        self.locked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The settings it was built with.
    pub fn config(&self) -> Config {
        self.lock().state.config().clone()
    }

    /// Sets (or clears) who is woken when outcomes are waiting.
    pub fn set_notifier(&self, notifier: Option<Arc<dyn Notify>>) {
        *self
            .notifier
            .write()
            .unwrap_or_else(PoisonError::into_inner) = notifier;
    }

    fn notify(&self) {
        let notifier = self
            .notifier
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(notifier) = notifier {
            notifier.notify();
        }
    }

    fn wake_workers(&self, locked: &Locked, tasks: usize) {
        if locked.waiting == 0 || tasks == 0 {
            return;
        }
        if tasks >= locked.waiting {
            self.work.notify_all();
        } else {
            (0..tasks).for_each(|_| self.work.notify_one());
        }
    }

    /// Starts accepting tasks (again, after a stop).
    pub fn start(&self) -> Result<()> {
        self.lock().state.start()
    }

    /// Queues tasks; see [`State::submit`].
    pub fn submit(&self, args: Vec<Payload>, offered: u64) -> Result<std::ops::Range<TaskId>> {
        let mut locked = self.lock();
        let ids = locked.state.submit(args, offered)?;
        self.wake_workers(&locked, ids.clone().count());
        Ok(ids)
    }

    /// Registers a worker instance for `slot`.
    pub fn register_worker(&self, slot: u32) -> Result<WorkerId> {
        self.lock().state.register_worker(slot)
    }

    /// Called by a worker: records the outcome of its last task (if any), then returns the next
    /// task, waiting up to `wait` for one. Reporting and taking happen under one lock, so a busy
    /// worker is never seen idle between two tasks while work is queued; the producer is notified
    /// after the lock is released, before any wait.
    pub fn next(&self, worker: WorkerId, finished: Option<Finished>, wait: Duration) -> Step {
        let mut locked = self.lock();
        let now = Instant::now();
        let notify = finished.is_some_and(|f| locked.state.finish(worker, f, now).1);
        let step = match locked.state.take(worker, now) {
            Take::Task(id, args) => Some(Step::Task { id, args }),
            Take::Retire => Some(Step::Retire),
            Take::Empty if wait.is_zero() => Some(Step::Idle),
            Take::Empty => None,
        };
        drop(locked);
        if notify {
            self.notify();
        }
        match step {
            Some(step) => step,
            None => self.wait_for_task(worker, now + wait),
        }
    }

    fn wait_for_task(&self, worker: WorkerId, deadline: Instant) -> Step {
        let mut locked = self.lock();
        loop {
            let now = Instant::now();
            match locked.state.take(worker, now) {
                Take::Task(id, args) => return Step::Task { id, args },
                Take::Retire => return Step::Retire,
                Take::Empty if now >= deadline => return Step::Idle,
                Take::Empty => {
                    locked.waiting += 1;
                    locked = match self.work.wait_timeout(locked, deadline - now) {
                        Ok((guard, _)) => guard,
                        Err(poisoned) => poisoned.into_inner().0,
                    };
                    locked.waiting -= 1;
                }
            }
        }
    }

    /// Records that a worker exited; its task, if any, ends with `WorkerExited`.
    pub fn worker_exited(&self, worker: WorkerId, exit: ExitInfo) {
        let notify = self.lock().state.worker_exited(worker, exit);
        if notify {
            self.notify();
        }
    }

    /// Makes a worker take no more tasks; it gets [`Step::Retire`] from its next call.
    pub fn retire_worker(&self, worker: WorkerId) -> bool {
        let live = self.lock().state.retire(worker);
        self.work.notify_all();
        live
    }

    /// Hands up to `max` waiting outcomes to the producer.
    pub fn drain(&self, max: usize) -> Vec<Delivery> {
        self.lock().state.drain(max)
    }

    /// Applies the producer's decisions on drained outcomes; see [`State::settle`].
    pub fn settle(&self, decisions: Vec<(TaskId, Decision)>) -> Result<usize> {
        let mut locked = self.lock();
        let result = locked.state.settle(decisions);
        if let Ok(requeued) = result {
            self.wake_workers(&locked, requeued);
        }
        result
    }

    /// Stops accepting tasks, cancels queued ones (and running ones with `force`), retires workers.
    pub fn stop(&self, force: bool) {
        self.lock().state.stop(force);
        self.work.notify_all();
    }

    /// Ends a stop once the workers are gone; see [`State::close`].
    pub fn close(&self) {
        self.lock().state.close();
        self.work.notify_all();
    }

    /// Arguments of the tasks cancelled by `stop` since the last call.
    pub fn take_unprocessed(&self) -> Vec<(TaskId, Payload)> {
        self.lock().state.take_unprocessed()
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

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

// Waits of one worker must not pin a whole core: the default is short enough for an idle worker
// to return to its event loop several times a second, long enough that the wake-up, not the
// polling, is what delivers work.
/// How long [`Pool::next`] waits by default before answering [`Step::Idle`].
pub const DEFAULT_IDLE_WAIT: Duration = Duration::from_millis(50);
