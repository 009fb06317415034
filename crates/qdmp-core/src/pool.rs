//! `Pool`: the thread-safe engine. One mutex guards the [`State`]; idle workers block on a condvar
//! until tasks arrive; a watchdog thread enforces `task_timeout`; the producer is woken through a
//! coalescing [`Notify`].
//!
//! # Implementation details
//! Worker threads call [`Pool::next`] from their own threads, handing in the outcome of their
//! last task and receiving the next one in one lock round trip; child processes do the same
//! through their [`Link`](crate::remote::Link), fed on the producer's thread, and wait for work
//! as [`Waiter`]s. Nothing outside the engine is called under the lock:
//! transitions return a [`Followup`] (terminators to call, whether to wake the producer), which is
//! carried out after the guard is dropped, so a notifier or terminator that re-enters the engine
//! cannot deadlock.
//!
//! The watchdog sleeps until the earliest deadline of a running task (`since + task_timeout`), or
//! indefinitely while nothing runs; a worker that starts a task wakes it only in the latter case,
//! since every later start has a later deadline.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::config::{Config, MAX_WORKERS};
use crate::error::{Error, Result};
use crate::faults::{Cancellation, Followup};
use crate::notify::Notify;
use crate::payload::Payload;
use crate::spin::SpinPolicy;
use crate::state::{State, Take};
use crate::stats::Stats;
use crate::task::{Attachment, Decision, Delivery, ExitInfo, TaskId};
use crate::worker::{Departure, Finished, Step, Terminator, WorkerId};

mod ahead;
mod queries;
mod shared;
mod wait;
mod waiters;
mod watchdog;

pub use waiters::Waiter;

use shared::{Locked, Shared};

use watchdog::run_watchdog;

/// What [`Pool::exchange`] returns.
#[derive(Debug)]
pub struct Exchange {
    /// How many tasks the decisions queued again, or the first invalid decision.
    pub settled: Result<usize>,
    /// The outcomes drained.
    pub deliveries: Vec<Delivery>,
    /// Workers the producer must terminate.
    pub terminations: Vec<WorkerId>,
    /// Pins no worker views any more.
    pub released_pins: Vec<u32>,
    /// The counters after both.
    pub stats: Stats,
    /// The room in the bounded queue after both (`usize::MAX` when unbounded).
    pub room: usize,
}

/// The task engine shared by the producer and every worker.
pub struct Pool {
    shared: Arc<Shared>,
    watchdog: Option<JoinHandle<()>>,
}

impl Pool {
    /// A new engine in the `Created` phase, with its timer thread (the watchdog: task time
    /// limits, and deferred wake-ups of the producer).
    pub fn new(config: Config) -> Pool {
        let shared = Arc::new(Shared {
            locked: Mutex::new(Locked {
                state: State::new(config),
                waiting: 0,
                watchdog_idle: true,
                shutdown: false,
            }),
            work: Condvar::new(),
            watch: Condvar::new(),
            notifier: RwLock::new(None),
            queued_epoch: AtomicU64::new(0),
            spinning: AtomicBool::new(false),
            spin: SpinPolicy::default(),
            waiters: Mutex::new(Vec::new()),
            serve_epoch: AtomicU64::new(0),
        });
        let watchdog = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("qdmp-watchdog".into())
                .spawn(move || run_watchdog(&shared))
        };
        // Without its watchdog thread (the OS refused one) the engine still works, only without
        // time limits, and waking the producer for every outcome (`defers` stays false); there is
        // no caller here to report to, so limits are simply not enforced.
        let watchdog = watchdog.ok();
        if watchdog.is_some() {
            shared.lock().state.allow_deferred_wakes();
        }
        Pool { shared, watchdog }
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

    fn lock(&self) -> MutexGuard<'_, Locked> {
        self.shared.lock()
    }

    /// Sets (or clears) who is woken when outcomes are waiting.
    pub fn set_notifier(&self, notifier: Option<Arc<dyn Notify>>) {
        *self
            .shared
            .notifier
            .write()
            .unwrap_or_else(PoisonError::into_inner) = notifier;
    }

    fn wake_workers(&self, locked: &Locked, tasks: usize) {
        if tasks == 0 {
            return;
        }
        self.shared.queued_epoch.fetch_add(1, Ordering::Release);
        // A spinning worker takes the first task without being woken (it re-checks the queue
        // under the lock when it stops spinning), so only the rest need sleeping workers.
        let tasks = if self.shared.spinning.load(Ordering::Acquire) {
            tasks - 1
        } else {
            tasks
        };
        if locked.waiting == 0 || tasks == 0 {
            return;
        }
        if tasks >= locked.waiting {
            self.shared.work.notify_all();
        } else {
            (0..tasks).for_each(|_| self.shared.work.notify_one());
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
        drop(locked);
        self.serve_waiting();
        Ok(ids)
    }

    /// Queues tasks whose arguments refer to pinned memory; see [`crate::Attachment`].
    pub fn submit_attached(
        &self,
        args: Vec<(Payload, Vec<Attachment>)>,
        offered: u64,
    ) -> Result<std::ops::Range<TaskId>> {
        let mut locked = self.lock();
        let ids = locked.state.submit_attached(args, offered)?;
        self.wake_workers(&locked, ids.clone().count());
        drop(locked);
        self.serve_waiting();
        Ok(ids)
    }

    /// Called when a worker no longer views pinned memory (its view was collected).
    pub fn release_pin(&self, pin: u32) {
        self.lock().state.release_pin(pin);
    }

    /// How many more tasks the bounded queue takes now (`usize::MAX` when unbounded).
    pub fn room(&self) -> usize {
        self.lock().state.room()
    }

    /// Returns the room now; if there is none, the producer is notified when some opens.
    pub fn want_room(&self) -> usize {
        self.lock().state.want_room()
    }

    /// Registers a worker instance for `slot`.
    pub fn register_worker(&self, slot: u32) -> Result<WorkerId> {
        self.lock().state.register_worker(slot)
    }

    /// Lets the engine end `worker` itself when it must (a process it can kill).
    pub fn set_terminator(&self, worker: WorkerId, terminator: Terminator) -> bool {
        self.lock().state.set_terminator(worker, terminator)
    }

    /// Called by a worker: records the outcome of its last task (if any), then returns the next
    /// task, waiting up to `wait` for one. Reporting and taking happen under one lock, so a busy
    /// worker is never seen idle between two tasks while work is queued; the producer is notified
    /// after the lock is released, before any wait.
    pub fn next(&self, worker: WorkerId, finished: Option<Finished>, wait: Duration) -> Step {
        let mut locked = self.lock();
        let now = Instant::now();
        let mut notify = self.finish(&mut locked, worker, finished, now);
        let step = match locked.state.take(worker, now) {
            Take::Task(id, args, attachments) => {
                self.wake_watchdog(&mut locked);
                notify |= locked.state.room_wake_due(); // room may have opened in the bounded queue
                Some(Step::Task {
                    id,
                    args,
                    attachments,
                })
            }
            Take::Retire => Some(Step::Retire),
            Take::Empty if wait.is_zero() => Some(Step::Idle),
            Take::Empty => None,
        };
        drop(locked);
        if notify {
            self.shared.notify();
        }
        match step {
            Some(step) => step,
            None => self.wait_for_task(worker, now + wait),
        }
    }

    /// Records that a worker exited; its task, if any, ends with `WorkerExited`. Returns why it left.
    pub fn worker_exited(&self, worker: WorkerId, exit: ExitInfo) -> Departure {
        let mut followup = Followup::default();
        let departure = self.lock().state.worker_exited(worker, exit, &mut followup);
        self.shared.follow(followup);
        self.serve_waiting(); // its held tasks are queued again
        departure
    }

    /// Makes a worker take no more tasks; it gets [`Step::Retire`] from its next call.
    pub fn retire_worker(&self, worker: WorkerId) -> bool {
        let live = self.lock().state.retire(worker);
        self.shared.work.notify_all();
        self.serve_waiting();
        live
    }

    /// Ends, with a `TimedOut` outcome, every task running for `age` or longer, and terminates its
    /// worker. Returns how many.
    pub fn interrupt_older_than(&self, age: Duration) -> usize {
        let mut followup = Followup::default();
        let count = self
            .lock()
            .state
            .interrupt_older_than(age, Instant::now(), &mut followup);
        self.shared.follow(followup);
        self.serve_waiting(); // the tasks their workers held are queued again
        count
    }

    /// Cancels tasks, running ones too when `running`; see [`Cancellation`].
    pub fn cancel(&self, tasks: &[TaskId], running: bool) -> Vec<Cancellation> {
        let mut followup = Followup::default();
        let out = {
            let mut locked = self.lock();
            tasks
                .iter()
                .map(|&task| locked.state.cancel(task, running, &mut followup))
                .collect()
        };
        self.shared.follow(followup);
        self.serve_waiting(); // tasks held by the workers it ended are queued again
        out
    }

    /// Ends every queued task with `Abandoned`: no worker can start to run it. Returns how many.
    pub fn abandon_queued(&self) -> usize {
        let mut followup = Followup::default();
        let count = self.lock().state.abandon_queued(&mut followup);
        self.shared.follow(followup);
        count
    }

    /// Restarts every worker's idle clock.
    pub fn touch_workers(&self) {
        self.lock().state.touch_workers(Instant::now());
    }

    /// Hands up to `max` waiting outcomes to the producer.
    pub fn drain(&self, max: usize) -> Vec<Delivery> {
        self.lock().state.drain(max)
    }

    /// The producer's whole round trip in one lock: applies `decisions` on the last drained
    /// outcomes, then drains up to `max` more, and reports what the producer checks after every
    /// change. One call per batch keeps the producer's cost per task low when outcomes arrive a
    /// few at a time.
    pub fn exchange(&self, decisions: Vec<(TaskId, Decision)>, max: usize) -> Exchange {
        let mut locked = self.lock();
        let settled = if decisions.is_empty() {
            Ok(0)
        } else {
            locked.state.settle(decisions)
        };
        let requeued = matches!(settled, Ok(n) if n > 0);
        if let Ok(requeued) = settled {
            self.wake_workers(&locked, requeued);
        }
        let terminations = locked.state.take_terminations();
        let deliveries = locked.state.drain(max);
        let exchange = Exchange {
            settled,
            deliveries,
            terminations,
            released_pins: locked.state.take_released_pins(),
            stats: locked.state.stats(),
            room: locked.state.room(),
        };
        drop(locked);
        if requeued {
            self.serve_waiting();
        }
        exchange
    }

    /// The workers the producer must terminate (interrupted, with no terminator of their own).
    pub fn take_terminations(&self) -> Vec<WorkerId> {
        self.lock().state.take_terminations()
    }

    /// Applies the producer's decisions on drained outcomes; see [`State::settle`].
    pub fn settle(&self, decisions: Vec<(TaskId, Decision)>) -> Result<usize> {
        let mut locked = self.lock();
        let result = locked.state.settle(decisions);
        if let Ok(requeued) = result {
            self.wake_workers(&locked, requeued);
        }
        drop(locked);
        if matches!(result, Ok(n) if n > 0) {
            self.serve_waiting();
        }
        result
    }

    /// Stops accepting tasks, cancels queued ones (and running ones with `force`), retires workers.
    pub fn stop(&self, force: bool) {
        self.lock().state.stop(force);
        self.shared.work.notify_all();
        self.serve_waiting();
    }

    /// Ends a stop once the workers are gone; see [`State::close`].
    pub fn close(&self) {
        self.lock().state.close();
        self.shared.work.notify_all();
        self.serve_waiting();
    }

    /// Arguments of the tasks cancelled by `stop` since the last call.
    pub fn take_unprocessed(&self) -> Vec<(TaskId, Payload)> {
        self.lock().state.take_unprocessed()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.lock().shutdown = true;
        self.shared.watch.notify_all();
        if let Some(watchdog) = self.watchdog.take() {
            // The watchdog only waits on `watch` and never panics; joining bounds its life by ours.
            let _ = watchdog.join();
        }
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
