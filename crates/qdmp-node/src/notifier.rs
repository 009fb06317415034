//! Wakes the producer's JavaScript thread when outcomes are waiting.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use qdmp_core::Notify;

/// A weak thread-safe function: it never keeps the producer's event loop alive by itself (the
/// worker threads and child processes decide that), so a process that stopped its handlers exits.
type WakeFn = ThreadsafeFunction<(), (), (), Status, false, true>;

thread_local! {
    /// Set while the producer's thread runs a call that reports wake-ups back to its caller
    /// (see [`collecting_wakes`]) instead of scheduling them.
    static COLLECTING: Cell<bool> = const { Cell::new(false) };
    /// A wake-up asked for during such a call.
    static WOKEN: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` on the producer's thread, returning with its result whether the engine asked to
/// wake the producer meanwhile. The caller, already on that thread, then collects at once: a
/// wake-up scheduled through the event loop would cost a turn of it first (several
/// microseconds of a child process's round trip). The caller must not be inside a callback
/// the engine itself runs.
pub(crate) fn collecting_wakes<T>(f: impl FnOnce() -> T) -> (T, bool) {
    let outer = COLLECTING.replace(true);
    let value = f();
    COLLECTING.set(outer);
    (value, WOKEN.replace(false))
}

pub(crate) struct JsNotifier {
    wake: WakeFn,
    /// A wake-up is queued and its callback has not started yet.
    queued: Arc<AtomicBool>,
}

impl JsNotifier {
    pub(crate) fn new(callback: Function<(), ()>) -> napi::Result<JsNotifier> {
        let queued = Arc::new(AtomicBool::new(false));
        let dispatched = Arc::clone(&queued);
        let wake = callback
            .build_threadsafe_function::<()>()
            .weak::<true>()
            .build_callback(move |_| {
                // Cleared before the callback runs: a wake-up asked for while it runs (after it
                // has looked) is queued again rather than lost.
                dispatched.store(false, Ordering::Release);
                Ok(())
            })?;
        Ok(JsNotifier { wake, queued })
    }
}

impl Notify for JsNotifier {
    fn notify(&self) {
        if COLLECTING.get() {
            WOKEN.set(true);
            return;
        }
        // At most one wake-up is ever queued. The engine asks again each time the producer has
        // drained everything, which a busy producer does far more often than its event loop
        // turns: without this, the thread-safe function's queue (unbounded, one allocation per
        // call) grew without limit on a fast stream, about 10 MB per million tasks.
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        // Non-blocking: the engine calls this from worker threads, which must never wait on the
        // producer. A `Closing` status means the producer's environment is gone; nobody is left
        // to wake.
        if self.wake.call((), ThreadsafeFunctionCallMode::NonBlocking) != Status::Ok {
            self.queued.store(false, Ordering::Release);
        }
    }
}
