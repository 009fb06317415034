//! Wakes the producer's JavaScript thread when outcomes are waiting.

use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use qdmp_core::Notify;

/// A weak thread-safe function: it never keeps the producer's event loop alive by itself (the
/// worker threads and child processes decide that), so a process that stopped its handlers exits.
type WakeFn = ThreadsafeFunction<(), (), (), Status, false, true>;

pub(crate) struct JsNotifier {
    wake: WakeFn,
}

impl JsNotifier {
    pub(crate) fn new(callback: Function<(), ()>) -> napi::Result<JsNotifier> {
        let wake = callback
            .build_threadsafe_function::<()>()
            .weak::<true>()
            .build()?;
        Ok(JsNotifier { wake })
    }
}

impl Notify for JsNotifier {
    fn notify(&self) {
        // Non-blocking: the engine calls this from worker threads, which must never wait on the
        // producer. The queue is unbounded and calls are coalesced by the engine, so it stays short.
        // A `Closing` status means the producer's environment is gone; nobody is left to wake.
        let _ = self.wake.call((), ThreadsafeFunctionCallMode::NonBlocking);
    }
}
