//! How an idle worker waits for work: a short spin while spinning pays (see
//! [`SpinPolicy`](crate::spin::SpinPolicy)), then a sleep on the engine's condition variable until
//! work, its idle deadline, or the end of its wait.

use std::sync::atomic::Ordering;
use std::time::Instant;

use super::Pool;
use crate::state::Take;
use crate::worker::{Step, WorkerId};

impl Pool {
    /// Spins, without the lock, until tasks are queued or the spin limit passes, if no other
    /// worker is spinning and spinning has been paying.
    pub(super) fn spin_for_work(&self, deadline: Instant) {
        let limit = self.shared.spin.limit();
        if limit.is_zero()
            || self
                .shared
                .spinning
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let epoch = self.shared.queued_epoch.load(Ordering::Acquire);
        let until = (Instant::now() + limit).min(deadline);
        let mut found = false;
        while Instant::now() < until {
            if self.shared.queued_epoch.load(Ordering::Acquire) != epoch {
                found = true;
                break;
            }
            // The producer, woken by this worker's last outcome, may have been put on this
            // worker's CPU: a plain spin would keep it from running until the spin ends.
            std::thread::yield_now();
        }
        self.shared.spinning.store(false, Ordering::Release);
        self.shared.spin.spun(found);
    }

    pub(super) fn wait_for_task(&self, worker: WorkerId, deadline: Instant) -> Step {
        let mut spun = false;
        let mut locked = self.lock();
        loop {
            let now = Instant::now();
            match locked.state.take(worker, now) {
                Take::Task(id, args, attachments) => {
                    self.wake_watchdog(&mut locked);
                    let notify = locked.state.room_wake_due();
                    drop(locked);
                    if notify {
                        self.shared.notify();
                    }
                    return Step::Task {
                        id,
                        args,
                        attachments,
                    };
                }
                Take::Retire => return Step::Retire,
                Take::Empty if now >= deadline => return Step::Idle,
                Take::Empty if !spun => {
                    drop(locked);
                    spun = true;
                    self.spin_for_work(deadline);
                    locked = self.lock();
                }
                Take::Empty => {
                    // Wake in time to retire for idleness, too (`take` decides it).
                    let until = locked
                        .state
                        .idle_deadline(worker)
                        .map_or(deadline, |idle| idle.min(deadline));
                    locked.waiting += 1;
                    let (guard, timed_out) = match self
                        .shared
                        .work
                        .wait_timeout(locked, until.saturating_duration_since(now))
                    {
                        Ok((guard, result)) => (guard, result.timed_out()),
                        Err(poisoned) => {
                            let (guard, result) = poisoned.into_inner();
                            (guard, result.timed_out())
                        }
                    };
                    locked = guard;
                    locked.waiting -= 1;
                    if !timed_out {
                        self.shared.spin.slept(now.elapsed());
                    }
                }
            }
        }
    }
}
