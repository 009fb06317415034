//! The engine's writes to a child, made on the producer's thread without ever blocking it: the
//! producer's end of the socket is non-blocking (its event loop reads it), so what the socket
//! cannot take at once is written by a short-lived thread, and whatever is sent meanwhile queues
//! behind it, in order.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, PoisonError};

use crate::os;

pub(super) struct Outbox {
    /// `None` once closed. Shared with a writing thread, which holds it until it is done.
    out: Option<Arc<UnixStream>>,
    backlog: Arc<Mutex<Backlog>>,
}

#[derive(Default)]
struct Backlog {
    /// Bytes waiting for the writing thread, in order.
    chunks: VecDeque<Vec<u8>>,
    /// A thread is writing: new bytes go behind it.
    writing: bool,
    /// A write failed: the child is gone.
    failed: bool,
}

impl Outbox {
    pub(super) fn new(out: Arc<UnixStream>) -> Outbox {
        Outbox {
            out: Some(out),
            backlog: Arc::default(),
        }
    }

    /// Closes the engine's end (a thread still writing holds a duplicate until it fails).
    pub(super) fn close(&mut self) {
        self.out = None;
    }

    /// Sends `bytes`; an error means the child is gone (now, or at an earlier write).
    pub(super) fn send(&self, bytes: &[u8]) -> io::Result<()> {
        let mut backlog = self.backlog.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(out) = &self.out else {
            return Err(io::ErrorKind::BrokenPipe.into());
        };
        if backlog.failed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        if backlog.writing {
            backlog.chunks.push_back(bytes.to_vec());
            return Ok(());
        }
        let sent = write_until_blocked(out, bytes)?;
        if sent == bytes.len() {
            return Ok(());
        }
        backlog.chunks.push_back(bytes[sent..].to_vec());
        backlog.writing = true;
        let (writer, shared) = (Arc::clone(out), Arc::clone(&self.backlog));
        let spawned = std::thread::Builder::new()
            .name("qdmp-channel-write".into())
            .spawn(move || write_backlog(&writer, &shared));
        if spawned.is_err() {
            // No thread to spare: write it here after all, blocking as long as the child takes
            // to read it (it is waiting to).
            backlog.chunks.clear();
            backlog.writing = false;
            let written = write_blocking(out, &bytes[sent..]);
            backlog.failed = written.is_err();
            return written;
        }
        Ok(())
    }
}

/// Writes what the socket takes now; returns how many bytes that was (all, or up to where it
/// would block).
fn write_until_blocked(out: &UnixStream, bytes: &[u8]) -> io::Result<usize> {
    let mut sent = 0;
    while sent < bytes.len() {
        match (&*out).write(&bytes[sent..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// Writes the backlog, blocking as long as the child takes to read it, until it is empty.
fn write_backlog(out: &UnixStream, backlog: &Mutex<Backlog>) {
    loop {
        let chunk = {
            let mut backlog = backlog.lock().unwrap_or_else(PoisonError::into_inner);
            match backlog.chunks.pop_front() {
                Some(chunk) => chunk,
                None => {
                    backlog.writing = false;
                    return;
                }
            }
        };
        if write_blocking(out, &chunk).is_err() {
            let mut backlog = backlog.lock().unwrap_or_else(PoisonError::into_inner);
            backlog.chunks.clear();
            backlog.writing = false;
            backlog.failed = true;
            return;
        }
    }
}

/// Writes all of `bytes`, waiting whenever the socket is full.
fn write_blocking(out: &UnixStream, bytes: &[u8]) -> io::Result<()> {
    let mut sent = write_until_blocked(out, bytes)?;
    while sent < bytes.len() {
        os::wait_writable(out.as_raw_fd())?;
        sent += write_until_blocked(out, &bytes[sent..])?;
    }
    Ok(())
}
