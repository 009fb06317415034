//! `Inbox`: bytes a JavaScript thread receives from the engine again and again (a worker's task
//! arguments, the producer's exchanges), in memory that thread maps once as an external
//! `Uint8Array`, instead of a new `Buffer` per call (whose creation, with its finalizer and global
//! handle, cost more than running a tiny task).

use std::cell::UnsafeCell;
use std::sync::Arc;

use napi::bindgen_prelude::Uint8Array;

/// Default capacity; larger arguments are handed out in a `Buffer` of their own.
pub(crate) const INBOX_BYTES: usize = 64 * 1024;

/// Fixed-size bytes written by the port (Rust) and read by its worker (JavaScript).
pub(crate) struct Inbox {
    bytes: UnsafeCell<Box<[u8]>>,
}

// SAFETY: an Inbox belongs to one JavaScript thread (a worker's port, or the producer's pool):
// Rust writes it inside a call from that thread, which is blocked in the call, and JavaScript
// reads it between calls (the "Inbox discipline"). The Arc only lets the external array's finalizer keep the memory alive;
// it never moves the bytes to another thread's use.
unsafe impl Send for Inbox {}
// SAFETY: as above: no two threads ever access the bytes.
unsafe impl Sync for Inbox {}

impl Inbox {
    pub(crate) fn new(capacity: usize) -> Arc<Inbox> {
        Arc::new(Inbox {
            bytes: UnsafeCell::new(vec![0; capacity].into_boxed_slice()),
        })
    }

    /// Copies `data` in; returns false (and writes nothing) when it does not fit.
    pub(crate) fn put(&self, data: &[u8]) -> bool {
        // SAFETY: the Inbox discipline: called inside a call from the owning thread, while its
        // JavaScript, the only other user of these bytes, is blocked in that call.
        let bytes = unsafe { &mut *self.bytes.get() };
        match bytes.get_mut(..data.len()) {
            Some(target) => {
                target.copy_from_slice(data);
                true
            }
            None => false,
        }
    }

    /// The bytes as an external `Uint8Array` for the worker; the array keeps the memory alive.
    pub(crate) fn view(self: &Arc<Inbox>) -> Uint8Array {
        // SAFETY: the pointer and length are those of the boxed slice, which never moves or
        // changes size; the finalizer holds an Arc, so the memory outlives the JavaScript array.
        let (ptr, len) = unsafe {
            let bytes = &mut *self.bytes.get();
            (bytes.as_mut_ptr(), bytes.len())
        };
        let keep = Arc::clone(self);
        // SAFETY: `ptr`/`len` describe memory kept alive by `keep` until the finalizer runs.
        unsafe { Uint8Array::with_external_data(ptr, len, move |_, _| drop(keep)) }
    }
}
