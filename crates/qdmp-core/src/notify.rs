//! How the engine wakes the producer when outcomes are waiting.

/// Called (from any thread) when outcomes become available to drain. Calls are coalesced: after
/// one call there is no other until the producer has drained every outcome, so an implementation
/// may schedule work on the producer's event loop without flooding it.
pub trait Notify: Send + Sync {
    /// Outcomes are waiting.
    fn notify(&self);
}

impl<F: Fn() + Send + Sync> Notify for F {
    fn notify(&self) {
        self()
    }
}
