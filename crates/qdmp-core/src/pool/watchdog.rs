//! The watchdog: the engine's timer thread. It sleeps until the earliest deadline of a running
//! task (when tasks have a time limit) or of a deferred wake-up of the producer (see
//! `state/wake.rs`), and acts on it: interrupts the task, or wakes the producer.

use std::sync::PoisonError;
use std::time::Instant;

use super::{Locked, Pool, Shared};
use crate::faults::Followup;
use crate::worker::{Finished, WorkerId};

pub(super) fn run_watchdog(shared: &Shared) {
    let mut locked = shared.lock();
    loop {
        if locked.shutdown {
            return;
        }
        let mut followup = Followup::default();
        let now = Instant::now();
        let deadline = locked.state.expire(now, &mut followup);
        followup.notify |= locked.state.deferred_wake_due(now);
        let next = match (deadline, locked.state.wake_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if !followup.kill.is_empty() || followup.notify {
            drop(locked);
            shared.follow(followup);
            locked = shared.lock();
            continue;
        }
        locked.watchdog_idle = next.is_none();
        locked = match next {
            Some(deadline) => {
                let wait = deadline.saturating_duration_since(Instant::now());
                match shared.watch.wait_timeout(locked, wait) {
                    Ok((guard, _)) => guard,
                    Err(poisoned) => poisoned.into_inner().0,
                }
            }
            None => shared
                .watch
                .wait(locked)
                .unwrap_or_else(PoisonError::into_inner),
        };
    }
}

impl Pool {
    /// Records a worker's outcome; returns whether to notify the producer now. When the state
    /// defers that, the watchdog learns when to do it instead.
    pub(super) fn finish(
        &self,
        locked: &mut Locked,
        worker: WorkerId,
        finished: Option<Finished>,
        now: Instant,
    ) -> bool {
        let Some(finished) = finished else {
            return false;
        };
        let deferred = locked.state.wake_at().is_some();
        let notify = locked.state.finish(worker, finished, now).1;
        if !deferred && locked.state.wake_at().is_some() {
            locked.watchdog_idle = false;
            self.shared.watch.notify_one();
        }
        notify
    }

    /// A task started: an idle watchdog must learn its deadline, if tasks have one. (Without
    /// `task_timeout` there is none: waking the watchdog per task would only cost a switch.)
    pub(super) fn wake_watchdog(&self, locked: &mut Locked) {
        let timed = locked.state.config.task_timeout.is_some();
        if timed && locked.watchdog_idle && self.watchdog.is_some() {
            locked.watchdog_idle = false;
            self.shared.watch.notify_one();
        }
    }
}
