//! Counters that account for every task the engine was offered.

/// Task counts. Every accepted task is in exactly one of `pending`, `running`, `settling`,
/// `completed`, `failed`, `discarded_results`, `cancelled` (see [`Stats::is_consistent`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Arguments offered to the engine (accepted or discarded).
    pub submitted: u64,
    /// Arguments that became tasks.
    pub accepted: u64,
    /// Arguments the producer discarded before they became tasks.
    pub discarded_args: u64,
    /// Re-submissions of failed tasks (not a state: a retried task is pending again).
    pub retried: u64,
    /// Tasks in the queue.
    pub pending: u64,
    /// Tasks handed to a worker: running, or held by it to run next (see `Pool::start_held`).
    pub running: u64,
    /// Tasks whose outcome the producer has not decided on yet.
    pub settling: u64,
    /// Tasks whose result was accepted.
    pub completed: u64,
    /// Tasks reported as failed.
    pub failed: u64,
    /// Tasks whose result the producer discarded.
    pub discarded_results: u64,
    /// Tasks removed before they settled (stop, cancel).
    pub cancelled: u64,
}

impl Stats {
    /// The accounting identities that hold after every engine operation.
    pub fn is_consistent(&self) -> bool {
        self.submitted == self.accepted + self.discarded_args
            && self.accepted
                == self.pending
                    + self.running
                    + self.settling
                    + self.completed
                    + self.failed
                    + self.discarded_results
                    + self.cancelled
    }
}
