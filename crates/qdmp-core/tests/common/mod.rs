//! Pieces shared by the integration tests.

use std::sync::atomic::{AtomicUsize, Ordering};

use qdmp_core::Terminate;

/// A terminator that only counts how often the engine asked it to end its worker.
pub struct CountingKill(pub AtomicUsize);

impl CountingKill {
    pub fn new() -> CountingKill {
        CountingKill(AtomicUsize::new(0))
    }

    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Terminate for CountingKill {
    fn terminate(&self) -> bool {
        self.0.fetch_add(1, Ordering::SeqCst);
        true
    }
}
