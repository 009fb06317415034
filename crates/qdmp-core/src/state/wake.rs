//! When the producer is woken. It is woken once for whatever waits for it (outcomes, workers to
//! terminate, room in the bounded queue) and not again until it has taken all of it.
//!
//! Waking the producer costs its thread tens of microseconds, taken from the cores the workers
//! run on, and preempts a worker; so does each turn of the timer thread that delivers a deferred
//! wake-up. With a wake-up per outcome, tasks of a millisecond lose several percent of the
//! machine to it. So while plenty of tasks are still queued (the producer is not needed to keep
//! workers busy), an outcome may wait up to [`DEFER`] for others to share its wake-up: the
//! producer is then woken about once per [`DEFER`] however short the tasks. An outcome waits
//! only while outcomes come closer together than [`DEFER`]; one that follows the last by more
//! (slow tasks) would share its wake-up with nobody, and the wait would only delay it.
//!
//! The engine's timer thread delivers a deferred wake-up when it is due, or a worker recording a
//! later outcome does; anything else that needs the producer (a failure of a worker, room in the
//! queue, the queue running low) wakes it at once.

use std::time::{Duration, Instant};

use super::State;

/// The longest an outcome waits for the producer's wake-up while the queue is deep. Measured on
/// 2 cores with tasks of ~1 ms: 2 ms left about 3% of the machine to the producer, the timer and
/// the preemptions they cause (1,500 a second), 10 ms under 1%; 20 ms gained little more.
pub const DEFER: Duration = Duration::from_millis(10);

/// Deferring needs at least this many queued tasks per worker, so that no worker runs dry
/// before the producer hears of the outcomes and queues more.
const QUEUED_PER_WORKER: u64 = 4;

impl State {
    /// Whether the producer must be woken now: something waits for it and it was not told yet.
    pub(crate) fn wake_due(&mut self) -> bool {
        if self.notified
            || (self.done.is_empty() && self.terminations.is_empty() && !self.room_ready)
        {
            return false;
        }
        self.notified = true;
        self.wake_at = None;
        true
    }

    /// After a worker took tasks: whether the producer, waiting for room in the bounded queue,
    /// must be woken now (deferred outcomes alone wait for their time).
    pub(crate) fn room_wake_due(&mut self) -> bool {
        self.room_ready && self.wake_due()
    }

    /// The producer took everything that waited for it: the next thing wakes it again.
    pub(crate) fn rearm_if_empty(&mut self) {
        if self.done.is_empty() && self.terminations.is_empty() && !self.room_ready {
            self.notified = false;
            self.wake_at = None;
        }
    }

    /// A worker's outcome was recorded at `now`: whether to wake the producer now. If not, and a
    /// deferred wake-up was not already pending, [`State::wake_at`] tells the timer when.
    pub(crate) fn outcome_ready(&mut self, now: Instant) -> bool {
        let sparse = self
            .last_outcome
            .replace(now)
            .is_some_and(|last| now.saturating_duration_since(last) >= DEFER);
        if self.notified {
            return false;
        }
        let due = !self.defers || sparse || self.wake_at.is_some_and(|at| now >= at);
        let deep = self.stats.pending >= QUEUED_PER_WORKER * self.workers.len().max(1) as u64;
        if !due && deep && self.terminations.is_empty() && !self.room_ready {
            self.wake_at.get_or_insert(now + DEFER);
            return false;
        }
        self.wake_due()
    }

    /// A timer thread runs: wake-ups may be deferred from now on.
    pub(crate) fn allow_deferred_wakes(&mut self) {
        self.defers = true;
    }

    /// When the pending deferred wake-up is due, if one is.
    pub(crate) fn wake_at(&self) -> Option<Instant> {
        self.wake_at
    }

    /// For the timer: whether the deferred wake-up is due at `now` (it is then taken: the
    /// producer must be woken).
    pub(crate) fn deferred_wake_due(&mut self, now: Instant) -> bool {
        match self.wake_at {
            Some(at) if now >= at => {
                self.wake_at = None;
                self.wake_due()
            }
            _ => false,
        }
    }
}
