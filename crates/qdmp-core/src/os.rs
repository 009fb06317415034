//! What the engine asks of the operating system for child-process workers: a socket pair to talk
//! to a child, a way to kill one, and, inside a child, leaving when the producer is gone.
//! Unix only; on other systems child-process workers are not available.

#[cfg(unix)]
pub use unix::*;

#[cfg(unix)]
mod unix {
    use std::io;
    use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd, RawFd};
    use std::os::unix::net::UnixStream;
    use std::sync::Once;
    use std::time::Duration;

    /// A connected pair: the engine's end, and the raw descriptor to hand to the child (open in
    /// this process until the caller closes it with [`close_fd`] after spawning the child).
    pub fn socket_pair() -> io::Result<(UnixStream, RawFd)> {
        let (ours, theirs) = UnixStream::pair()?;
        Ok((ours, theirs.into_raw_fd()))
    }

    /// Closes a descriptor obtained from [`socket_pair`].
    ///
    /// # Safety
    /// `fd` must be open and owned by the caller, and not used again.
    // SAFETY: callers must keep the contract above: closing a descriptor someone else still
    // uses would make their next use act on whatever file reuses the number.
    pub unsafe fn close_fd(fd: RawFd) {
        // SAFETY: the caller guarantees ownership of an open descriptor (contract above).
        drop(unsafe { OwnedFd::from_raw_fd(fd) });
    }

    /// Takes ownership of the descriptor a child inherited, as a stream (usually moved to a
    /// high descriptor, `fd` then being /dev/null).
    ///
    /// # Safety
    /// `fd` must be an open socket descriptor that nothing else in the process uses.
    // SAFETY: callers must keep the contract above: the stream closes the socket when dropped,
    // and `fd` is reused, so nobody else may own it.
    pub unsafe fn stream_from_fd(fd: RawFd) -> UnixStream {
        // The channel moves to a high descriptor, close-on-exec (processes the child starts
        // must not keep it open), and `fd` becomes /dev/null: code in the child that writes to
        // a low descriptor it thinks is its own (fd 3 is a common logging convention) must not
        // write into the engine's protocol. Best effort: on failure the channel stays at `fd`.
        // SAFETY: fcntl(2) with F_DUPFD_CLOEXEC takes integers, no pointers.
        let moved = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, HIGH_FD) };
        if moved < 0 {
            // SAFETY: as above, F_SETFD.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
            // SAFETY: the caller guarantees `fd` is an open socket owned by no one else.
            return unsafe { UnixStream::from_raw_fd(fd) };
        }
        // SAFETY: open(2) reads the NUL-terminated path literal; dup2(2) and close(2) take
        // integers. `fd` is ours (the caller's contract), so replacing it is ours to do.
        unsafe {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
            if null >= 0 {
                libc::dup2(null, fd); // dup2 clears close-on-exec on `fd`: harmless /dev/null
                libc::close(null);
            } else {
                libc::close(fd);
            }
        }
        // SAFETY: `moved` was just duplicated from the caller's socket and is owned by no one else.
        unsafe { UnixStream::from_raw_fd(moved) }
    }

    /// Where a child moves its channel to (see [`stream_from_fd`]).
    const HIGH_FD: RawFd = 100;

    /// Whether bytes (or the end of the stream) can be read from socket `fd` without blocking.
    pub fn has_input(fd: RawFd) -> bool {
        // 0 is the end of the stream, which a read reports at once too.
        peek(fd) >= 0
    }

    /// Whether bytes can be read from socket `fd` now (not merely its end).
    pub fn has_bytes(fd: RawFd) -> bool {
        peek(fd) > 0
    }

    /// Looks at socket `fd` without reading or waiting: 1 if a byte is there, 0 at the end of
    /// the stream, -1 if nothing can be read now (or `fd` is not a socket).
    fn peek(fd: RawFd) -> isize {
        let mut byte = 0u8;
        // SAFETY: recv(2) writes at most one byte into `byte`, which outlives the call; MSG_PEEK
        // leaves it in the socket and MSG_DONTWAIT never blocks. An invalid fd only fails.
        unsafe {
            libc::recv(
                fd,
                (&raw mut byte).cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        }
    }

    /// Whether the other end of socket `fd` has closed (even with bytes of it still unread).
    pub fn hung_up(fd: RawFd) -> bool {
        #[cfg(target_os = "linux")]
        let events = libc::POLLRDHUP;
        #[cfg(not(target_os = "linux"))]
        let events = 0;
        let mut pollfd = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        // SAFETY: poll(2) reads and writes exactly one pollfd, which outlives the call; a zero
        // timeout never blocks.
        let n = unsafe { libc::poll(&raw mut pollfd, 1, 0) };
        n > 0 && pollfd.revents & (libc::POLLHUP | libc::POLLERR | events) != 0
    }

    /// Waits up to `wait` for `fd` to be readable (or at its end); returns whether it is.
    pub fn wait_readable(fd: RawFd, wait: Duration) -> io::Result<bool> {
        poll_for(fd, libc::POLLIN, Some(wait))
    }

    /// Waits, as long as it takes, until `fd` takes more bytes (or has failed).
    pub fn wait_writable(fd: RawFd) -> io::Result<()> {
        poll_for(fd, libc::POLLOUT, None).map(drop)
    }

    fn poll_for(fd: RawFd, events: libc::c_short, wait: Option<Duration>) -> io::Result<bool> {
        let deadline = wait.map(|wait| std::time::Instant::now() + wait);
        loop {
            let timeout = match deadline {
                None => -1,
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    // Rounded up, so that a wait never ends before its time.
                    i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
                }
            };
            let mut pollfd = libc::pollfd {
                fd,
                events,
                revents: 0,
            };
            // SAFETY: poll(2) reads and writes exactly one pollfd, which outlives the call.
            let n = unsafe { libc::poll(&raw mut pollfd, 1, timeout) };
            if n > 0 {
                return Ok(true); // ready, or failed (POLLERR/POLLHUP): the next I/O says which
            }
            if n == 0 {
                return Ok(false);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// Kills process `pid` with SIGKILL; returns whether it could. The caller must know that
    /// `pid` is still its unreaped child (else the number may name another process).
    pub fn kill(pid: i32) -> bool {
        if pid <= 0 {
            return false; // never signal a process group or every process
        }
        // SAFETY: kill(2) has no memory-safety preconditions (the pid's validity is the caller's
        // contract above).
        unsafe { libc::kill(pid, libc::SIGKILL) == 0 }
    }

    /// In a child process: exit as soon as the producer (our parent) is gone, even if a task is
    /// stuck in an endless loop, so that no worker outlives its handler. Idempotent.
    pub fn exit_with_parent() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            // SAFETY: getppid(2) has no preconditions.
            let parent = unsafe { libc::getppid() };
            #[cfg(target_os = "linux")]
            // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number and no pointers.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            }
            // Everywhere (and on Linux for a parent that died before prctl): poll for re-parenting.
            let _ = std::thread::Builder::new()
                .name("qdmp-parent-watch".into())
                .spawn(move || loop {
                    std::thread::sleep(Duration::from_millis(250));
                    // SAFETY: as above; _exit(2) ends the process without running anything else.
                    if unsafe { libc::getppid() } != parent {
                        // SAFETY: _exit(2) takes an exit code only and never returns.
                        unsafe { libc::_exit(70) }
                    }
                });
        });
    }
}
