//! Workers that wait for work outside the engine's threads: a child process asks over its socket
//! and is answered when work comes, by whichever call queued it. The engine's own threads never
//! wait on a child's behalf.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Instant;

use super::Pool;
use crate::worker::WorkerId;

/// A worker waiting for work outside the engine's threads.
pub trait Waiter: Send + Sync {
    /// Hands the worker work (or retirement) if the engine has some for it now; returns whether
    /// it still waits.
    fn serve(&self, pool: &Pool) -> bool;
}

impl Pool {
    /// Adds a waiter, to be served by [`Pool::serve_waiting`] whenever work may have come.
    pub(crate) fn park(&self, waiter: Arc<dyn Waiter>) {
        self.shared
            .waiters
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(waiter);
    }

    /// Whether `worker`, asking for work now, would get a task or be retired (without giving it
    /// either): lets a waiter skip costly checks of its own when nothing is there for it.
    pub(crate) fn has_offer(&self, worker: WorkerId) -> bool {
        self.lock().state.has_offer(worker, Instant::now())
    }

    /// Serves the waiters after anything that queues work or retires workers. Cheap when none
    /// wait (thread workers never do).
    pub(super) fn serve_waiting(&self) {
        // A call that finds the list taken by another's pass counts on that pass to go round
        // again: the epoch tells it that work came meanwhile.
        let mut epoch = self.shared.serve_epoch.fetch_add(1, Ordering::AcqRel) + 1;
        while self.serve_waiting_once() {
            let now = self.shared.serve_epoch.load(Ordering::Acquire);
            if now == epoch {
                return;
            }
            epoch = now;
        }
    }

    /// One pass over the waiters; `false` if there were none to serve.
    fn serve_waiting_once(&self) -> bool {
        let waiters = {
            let mut waiters = self
                .shared
                .waiters
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if waiters.is_empty() {
                return false;
            }
            std::mem::take(&mut *waiters)
        };
        // Served without the list's lock: serving takes the waiter's own lock, under which a
        // waiter parks itself. The latest to park is served first: it is likely still spinning
        // for an answer, while one that waited longer has stopped spinning, so one task at a
        // time keeps going to the same child and the others stay asleep rather than all
        // spinning on two cores.
        let mut still: Vec<_> = waiters
            .into_iter()
            .rev()
            .filter(|waiter| waiter.serve(self))
            .collect();
        still.reverse();
        if !still.is_empty() {
            self.shared
                .waiters
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(still);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::worker::Step;
    use crate::{Config, Payload, Pool};

    /// `has_offer` must say what `next` then does: a waiter skips its checks on its word.
    fn agrees(pool: &Pool, worker: crate::WorkerId) -> Step {
        let offered = pool.has_offer(worker);
        let step = pool.next(worker, None, Duration::ZERO);
        assert_eq!(
            offered,
            !matches!(step, Step::Idle),
            "has_offer said {offered}, next gave {step:?}"
        );
        step
    }

    #[test]
    fn has_offer_says_what_next_does() {
        let pool = Pool::new(Config {
            idle_timeout: Some(Duration::from_millis(50)),
            ..Config::default()
        });
        pool.start().unwrap();
        let w = pool.register_worker(0).unwrap();
        assert!(matches!(agrees(&pool, w), Step::Idle)); // nothing queued
        pool.submit(vec![Payload::new(b"a")], 1).unwrap();
        let Step::Task { id, .. } = agrees(&pool, w) else {
            panic!("expected a task")
        };
        let other = pool.register_worker(1).unwrap();
        assert!(matches!(agrees(&pool, other), Step::Idle));
        std::thread::sleep(Duration::from_millis(80));
        assert!(matches!(agrees(&pool, other), Step::Retire)); // idle past the timeout
        let finished = crate::Finished {
            task: id,
            outcome: crate::Outcome::Value(b"ok".to_vec()),
        };
        assert!(matches!(
            pool.next(w, Some(finished), Duration::ZERO),
            Step::Idle
        ));
        assert!(pool.retire_worker(w));
        assert!(matches!(agrees(&pool, w), Step::Retire));
        let third = pool.register_worker(2).unwrap();
        pool.stop(false);
        assert!(matches!(agrees(&pool, third), Step::Retire));
    }

    #[test]
    fn has_offer_counts_a_first_ask_as_activity_and_skips_cancelled_tasks() {
        let pool = Pool::new(Config {
            idle_timeout: Some(Duration::from_millis(30)),
            ..Config::default()
        });
        let early = pool.register_worker(0).unwrap();
        assert!(matches!(agrees(&pool, early), Step::Idle)); // not started: nothing yet
        pool.start().unwrap();
        // Registered long before its first ask: the ask itself is its first activity.
        let late = pool.register_worker(1).unwrap();
        std::thread::sleep(Duration::from_millis(60));
        assert!(matches!(agrees(&pool, late), Step::Idle));
        // A task cancelled while queued leaves its id in the queue, not a task to hand out.
        let ids: Vec<_> = pool.submit(vec![Payload::new(b"x")], 1).unwrap().collect();
        pool.cancel(&ids, false);
        assert!(matches!(agrees(&pool, late), Step::Idle));
        // Asking for work while running a task breaks the protocol: the worker is retired.
        pool.submit(vec![Payload::new(b"y")], 1).unwrap();
        assert!(matches!(agrees(&pool, late), Step::Task { .. }));
        assert!(matches!(agrees(&pool, late), Step::Retire));
    }
}
