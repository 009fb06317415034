//! What the engine's threads share: the state under one mutex, the condition variables workers
//! and the watchdog sleep on, and the ways out to the producer (the notifier, terminators).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};

use super::Waiter;
use crate::faults::Followup;
use crate::notify::Notify;
use crate::spin::SpinPolicy;
use crate::state::State;

pub(super) struct Locked {
    pub(super) state: State,
    /// Workers blocked in `next`, so that submitting wakes no more threads than can use the work.
    pub(super) waiting: usize,
    /// The watchdog is asleep with no deadline (nothing was running when it last looked).
    pub(super) watchdog_idle: bool,
    /// Set when the pool is dropped: the watchdog exits.
    pub(super) shutdown: bool,
}

pub(super) struct Shared {
    pub(super) locked: Mutex<Locked>,
    /// Signalled when tasks are queued and when workers must retire.
    pub(super) work: Condvar,
    /// Signalled when the watchdog must look again (a first task started, or shutdown).
    pub(super) watch: Condvar,
    pub(super) notifier: RwLock<Option<Arc<dyn Notify>>>,
    /// Bumped whenever tasks are queued: a spinning worker watches it without taking the lock.
    pub(super) queued_epoch: AtomicU64,
    /// Set while one worker spins waiting for work (at most one spins, so the producer keeps a core).
    pub(super) spinning: AtomicBool,
    pub(super) spin: SpinPolicy,
    /// Child processes waiting for work (see `waiters.rs`).
    pub(super) waiters: Mutex<Vec<Arc<dyn Waiter>>>,
    /// Bumped by each call that serves the waiters.
    pub(super) serve_epoch: AtomicU64,
}

impl Shared {
    // The state machine never panics while holding the lock, but a panic in a test harness or a
    // future bug must not turn every later call into a second panic: the state stays usable.
    pub(super) fn lock(&self) -> MutexGuard<'_, Locked> {
        self.locked.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn notify(&self) {
        let notifier = self
            .notifier
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(notifier) = notifier {
            notifier.notify();
        }
    }

    /// Carries out what a transition asked for; call it with the lock released.
    pub(super) fn follow(&self, followup: Followup) {
        for terminator in followup.kill {
            terminator.0.terminate();
        }
        if followup.requeued > 0 {
            self.queued_epoch.fetch_add(1, Ordering::Release);
            self.work.notify_all();
        }
        if followup.notify {
            self.notify();
        }
    }
}
