//! How the engine ends a child process, and tells whether the child has reported something the
//! producer has not read yet.

use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use crate::os;
use crate::worker::Terminate;

/// A child process as the engine's watchdog and cancellations see it.
#[derive(Debug)]
pub struct ChildTerminator {
    /// Its process id; 0 once it has exited (the number may then name another process).
    pid: AtomicI32,
    /// The engine's end of its socket, shared with its link.
    socket: Arc<UnixStream>,
}

impl ChildTerminator {
    pub(super) fn new(pid: i32, socket: Arc<UnixStream>) -> ChildTerminator {
        ChildTerminator {
            pid: AtomicI32::new(pid),
            socket,
        }
    }

    /// The child has exited: never signal its pid again.
    pub fn disarm(&self) {
        self.pid.store(0, Ordering::Release);
    }
}

impl Terminate for ChildTerminator {
    fn terminate(&self) -> bool {
        os::kill(self.pid.load(Ordering::Acquire))
    }

    // The producer's event loop reads the socket; while it is busy, an outcome the child has
    // sent waits there, and the task must not be timed out for the producer's delay.
    fn has_unread_report(&self) -> bool {
        os::has_bytes(self.socket.as_raw_fd())
    }
}
