//! How long an idle worker spins for work before it sleeps, adapted to what spinning has bought.
//!
//! Waking a sleeping thread costs tens of microseconds on virtual machines, so a worker that is
//! handed its next task soon after finishing one should spin rather than sleep. But a spin that
//! finds nothing burns a core that the producer may need (on a 2-core machine, two spinning
//! workers starve the thread that feeds them). So the limit halves after each fruitless spin,
//! doubles after each spin that found work, and after a sleep that a spin would have covered
//! grows to cover it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The longest spin.
pub const MAX_SPIN: Duration = Duration::from_micros(100);
/// Below this a spin is not worth starting; the limit restarts from here after a short sleep.
const MIN_SPIN: Duration = Duration::from_micros(5);

#[derive(Debug)]
pub struct SpinPolicy {
    limit_ns: AtomicU64,
}

impl Default for SpinPolicy {
    fn default() -> Self {
        SpinPolicy {
            limit_ns: AtomicU64::new(MAX_SPIN.as_nanos() as u64),
        }
    }
}

impl SpinPolicy {
    /// How long to spin now; zero when spinning has not been paying.
    pub fn limit(&self) -> Duration {
        let ns = self.limit_ns.load(Ordering::Relaxed);
        if ns < MIN_SPIN.as_nanos() as u64 {
            Duration::ZERO
        } else {
            Duration::from_nanos(ns)
        }
    }

    /// A spin ended: `found` says whether work arrived during it.
    pub fn spun(&self, found: bool) {
        let ns = self.limit_ns.load(Ordering::Relaxed);
        let next = if found { Self::grown(ns) } else { ns / 2 };
        self.limit_ns.store(next, Ordering::Relaxed);
    }

    /// A worker slept `waited` before work came (its wake-up included). Had that been within the
    /// longest spin, a spin of twice that would have caught the work, so the limit becomes that.
    pub fn slept(&self, waited: Duration) {
        if waited < MAX_SPIN {
            let wanted = (2 * waited.as_nanos() as u64)
                .clamp(MIN_SPIN.as_nanos() as u64, MAX_SPIN.as_nanos() as u64);
            self.limit_ns.fetch_max(wanted, Ordering::Relaxed);
        }
    }

    fn grown(ns: u64) -> u64 {
        (ns * 2).clamp(MIN_SPIN.as_nanos() as u64, MAX_SPIN.as_nanos() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fruitless_spins_stop_spinning_and_useful_ones_restore_it() {
        let policy = SpinPolicy::default();
        assert_eq!(policy.limit(), MAX_SPIN);
        for _ in 0..8 {
            policy.spun(false);
        }
        assert_eq!(
            policy.limit(),
            Duration::ZERO,
            "spinning that never finds work stops"
        );
        policy.slept(Duration::from_micros(300));
        assert_eq!(
            policy.limit(),
            Duration::ZERO,
            "a long sleep is no reason to spin"
        );
        policy.slept(Duration::from_micros(1));
        assert_eq!(
            policy.limit(),
            MIN_SPIN,
            "a very short sleep restarts spinning from the minimum"
        );
        policy.slept(Duration::from_micros(20));
        assert_eq!(
            policy.limit(),
            Duration::from_micros(40),
            "a short sleep makes the spin long enough to have covered it twice over"
        );
        policy.slept(Duration::from_micros(10));
        assert_eq!(
            policy.limit(),
            Duration::from_micros(40),
            "a shorter sleep never shortens the spin"
        );
        for _ in 0..10 {
            policy.spun(true);
        }
        assert_eq!(
            policy.limit(),
            MAX_SPIN,
            "useful spins grow back to the maximum, no further"
        );
    }
}
