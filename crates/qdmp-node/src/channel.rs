//! Child-process workers: the producer opens one channel per child (a socket pair, whose far end
//! the child inherits as a file descriptor), reads its end on its event loop and feeds what it
//! reads to the core's link, which answers on the socket; inside the child, `RemotePort` is the
//! child's end. Unix only.

use napi::bindgen_prelude::{Buffer, Either, Uint8Array};
use napi_derive::napi;

use crate::errors::{id_from_js, Result};
use crate::inbox::{Inbox, INBOX_BYTES};
use crate::native_pool::NativePool;
use crate::worker_port::{hand_out, WorkerSignal};

#[cfg(not(unix))]
fn unsupported<T>() -> Result<T> {
    Err(napi::Error::new(
        qdmp_core::ErrorCode::InvalidArgument.as_str(),
        "child-process workers need a Unix system (Linux, macOS); use ThreadPoolHandler, or PoolHandler with isolation: 'thread'",
    ))
}

#[napi]
impl NativePool {
    /// Opens the channel of child worker `worker`: a socket pair, whose far end (`childFd`) the
    /// caller passes to the child as its fd 3 and then closes, and whose near end the caller
    /// reads (`readerFd`, a duplicate it owns) and feeds to the channel.
    #[napi]
    pub fn open_channel(&self, worker: f64) -> Result<ChildChannel> {
        let worker = id_from_js("worker", worker)?;
        #[cfg(unix)]
        {
            use std::os::fd::IntoRawFd;
            let io = |e: std::io::Error| {
                napi::Error::new(qdmp_core::ErrorCode::Internal.as_str(), e.to_string())
            };
            let (ours, theirs) = qdmp_core::os::socket_pair().map_err(io)?;
            let reader = match ours.try_clone() {
                Ok(reader) => reader.into_raw_fd(),
                Err(e) => {
                    // SAFETY: `theirs` was just created by socket_pair and handed to no one.
                    unsafe { qdmp_core::os::close_fd(theirs) };
                    return Err(io(e));
                }
            };
            Ok(ChildChannel {
                pool: std::sync::Arc::clone(&self.pool),
                link: qdmp_core::remote::Link::new(worker, ours),
                child_fd: theirs,
                reader_fd: reader,
            })
        }
        #[cfg(not(unix))]
        {
            let _ = worker;
            unsupported()
        }
    }

    /// Closes the producer's copy of a descriptor from `openChannel`, once the child has it.
    #[napi]
    pub fn close_channel_fd(&self, fd: i32) {
        #[cfg(unix)]
        // SAFETY: `fd` came from openChannel, which handed its ownership to the caller; the caller
        // passes it here once, after spawning the child, and never uses it again.
        unsafe {
            qdmp_core::os::close_fd(fd)
        };
        #[cfg(not(unix))]
        let _ = fd;
    }
}

/// What `ChildChannel.feed` asks of the producer.
#[napi]
pub enum FeedResult {
    /// Nothing.
    Fed = 0,
    /// Collect outcomes now: the engine wants the producer woken.
    Collect = 1,
    /// End the child: it broke the protocol.
    Broken = 2,
}

/// The producer's side of one child's channel.
#[napi]
pub struct ChildChannel {
    #[cfg(unix)]
    pool: std::sync::Arc<qdmp_core::Pool>,
    #[cfg(unix)]
    link: std::sync::Arc<qdmp_core::remote::Link>,
    child_fd: i32,
    reader_fd: i32,
}

#[napi]
impl ChildChannel {
    /// The descriptor to pass to the child as its fd 3; close it with `closeChannelFd` once the
    /// child is spawned.
    #[napi(getter)]
    pub fn child_fd(&self) -> i32 {
        self.child_fd
    }

    /// The descriptor the producer reads the child's frames from (its own; closing is its job).
    #[napi(getter)]
    pub fn reader_fd(&self) -> i32 {
        self.reader_fd
    }

    /// The child runs as process `pid`: lets the engine kill it itself, e.g. when its task times
    /// out. Returns whether its worker was still known.
    #[napi]
    pub fn set_pid(&self, pid: i32) -> bool {
        #[cfg(unix)]
        {
            let terminator = self.link.terminator(pid);
            self.pool
                .set_terminator(self.link.worker(), qdmp_core::Terminator(terminator))
        }
        #[cfg(not(unix))]
        {
            let _ = pid;
            false
        }
    }

    /// The child has exited: the engine never signals its pid again (another process may get it
    /// before the exit is reported to the engine, once what the child wrote has been read).
    #[napi]
    pub fn exited(&self) {
        #[cfg(unix)]
        self.link.exited();
    }

    /// Closes the producer's end of the socket once the child has exited and all it wrote was
    /// read (the reading side closes its own descriptor).
    #[napi]
    pub fn close(&self) {
        #[cfg(unix)]
        self.link.close();
    }

    /// Hands the engine bytes read from the child, in order (call it on the producer's thread).
    /// Returns a `FeedResult`: whether to collect outcomes now, or end the child, which broke
    /// the protocol.
    #[napi]
    pub fn feed(&self, bytes: &[u8]) -> FeedResult {
        #[cfg(unix)]
        {
            match crate::notifier::collecting_wakes(|| self.link.feed(&self.pool, bytes)) {
                (Err(_), _) => FeedResult::Broken,
                (Ok(()), true) => FeedResult::Collect,
                (Ok(()), false) => FeedResult::Fed,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = bytes;
            FeedResult::Broken
        }
    }
}

/// A child process's connection to its producer's engine.
#[napi]
pub struct RemotePort {
    #[cfg(unix)]
    remote: qdmp_core::remote::RemoteWorker<std::os::unix::net::UnixStream>,
    inbox: std::sync::Arc<Inbox>,
}

#[napi]
impl RemotePort {
    /// Attaches this child process to its producer through inherited descriptor `fd`, and makes
    /// the process exit if the producer dies.
    #[napi(factory)]
    pub fn open(fd: i32) -> Result<RemotePort> {
        #[cfg(unix)]
        {
            qdmp_core::os::exit_with_parent();
            // SAFETY: `fd` is the socket the producer's spawn placed at this number for qdmp's
            // child entry, which calls open() once; nothing else in the child uses it.
            let stream = unsafe { qdmp_core::os::stream_from_fd(fd) };
            let reader = stream.try_clone().map_err(|e| {
                napi::Error::new(qdmp_core::ErrorCode::Internal.as_str(), e.to_string())
            })?;
            Ok(RemotePort {
                remote: qdmp_core::remote::RemoteWorker::new(reader, stream),
                inbox: Inbox::new(INBOX_BYTES),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = fd;
            unsupported()
        }
    }

    /// The memory where `next()` writes a task's arguments (call once; it stays the same).
    #[napi]
    pub fn inbox(&self) -> Uint8Array {
        self.inbox.view()
    }

    /// Same contract as `WorkerPort.next`. A broken connection (the producer is gone) retires.
    #[napi]
    pub fn next(
        &mut self,
        failed: bool,
        bytes: Option<&[u8]>,
        wait_ms: u32,
    ) -> Either<i32, Buffer> {
        #[cfg(unix)]
        {
            use qdmp_core::remote::RemoteStep;
            match self.remote.next(failed, bytes, wait_ms) {
                Ok(RemoteStep::Task(args)) => hand_out(&self.inbox, args),
                Ok(RemoteStep::Idle) => Either::A(WorkerSignal::Idle as i32),
                Ok(RemoteStep::Retire) | Err(_) => Either::A(WorkerSignal::Retire as i32),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = (failed, bytes, wait_ms);
            Either::A(WorkerSignal::Retire as i32)
        }
    }
}
