//! The engine's end of one child's connection. The producer reads the socket on its own event
//! loop and feeds the bytes here; the link answers on the socket at once, or, for a child waiting
//! for work, when work comes (see [`Waiter`]). No thread of the engine sits between the producer
//! and the child: a task or an outcome crosses with one wake-up, the receiver's.

use std::io;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use std::os::fd::AsRawFd;

use super::child::ChildTerminator;
use super::outbox::Outbox;
use super::wire::{
    encode_frame, encode_tasks, malformed, split_frame, unexpected, AHEAD, FAILED, HAS_OUTCOME,
    NEXT, POLL, RETIRE, STARTING, TASK,
};
use crate::os;
use crate::pool::{Pool, Waiter};
use crate::task::{Outcome, TaskId};
use crate::worker::{Finished, Step, Terminate, WorkerId};

/// The engine's end of the connection to child worker `worker`.
pub struct Link {
    worker: WorkerId,
    inner: Mutex<Inner>,
}

struct Inner {
    /// Writes to the engine's end of the socket pair (the producer reads a duplicate of it).
    out: Outbox,
    /// The engine's end itself, for a terminator that looks for unread reports.
    socket: Arc<UnixStream>,
    /// How the engine ends the child, once its pid is known.
    terminator: Option<Arc<ChildTerminator>>,
    scratch: Vec<u8>,
    /// Received bytes of a frame not whole yet.
    partial: Vec<u8>,
    /// The task the child runs: its outcome comes with the child's next frame.
    running: Option<TaskId>,
    /// The child asked for a task and has had no answer: it gets one when work comes.
    waiting: bool,
    /// A write failed: the child is gone (its exit settles what it had).
    gone: bool,
}

impl Link {
    /// A link to `worker` over `out`, the engine's end of its socket.
    pub fn new(worker: WorkerId, out: UnixStream) -> Arc<Link> {
        let socket = Arc::new(out);
        Arc::new(Link {
            worker,
            inner: Mutex::new(Inner {
                out: Outbox::new(Arc::clone(&socket)),
                socket,
                terminator: None,
                scratch: Vec::new(),
                partial: Vec::new(),
                running: None,
                waiting: false,
                gone: false,
            }),
        })
    }

    /// The worker at the other end.
    pub fn worker(&self) -> WorkerId {
        self.worker
    }

    /// The child runs as process `pid`: returns how the engine ends it (for
    /// [`Pool::set_terminator`]), which the link also uses if the socket fails under a live child.
    pub fn terminator(&self, pid: i32) -> Arc<ChildTerminator> {
        let mut inner = self.lock();
        let terminator = Arc::new(ChildTerminator::new(pid, Arc::clone(&inner.socket)));
        inner.terminator = Some(Arc::clone(&terminator));
        terminator
    }

    /// The child has exited (its pid may be reused from now on).
    pub fn exited(&self) {
        if let Some(terminator) = &self.lock().terminator {
            terminator.disarm();
        }
    }

    /// Closes the engine's end once the child is gone and all it wrote has been fed: nothing is
    /// written to it any more.
    pub fn close(&self) {
        let mut inner = self.lock();
        inner.gone = true;
        inner.out.close();
        inner.terminator = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes bytes read from the child, in order, and acts on every frame they complete. An
    /// error means the child broke the protocol: the caller must end it.
    pub fn feed(self: &Arc<Self>, pool: &Pool, bytes: &[u8]) -> io::Result<()> {
        let mut inner = self.lock();
        if inner.partial.is_empty() {
            let used = self.frames(&mut inner, pool, bytes)?;
            inner.partial.extend_from_slice(&bytes[used..]);
        } else {
            let mut partial = std::mem::take(&mut inner.partial);
            partial.extend_from_slice(bytes);
            let used = self.frames(&mut inner, pool, &partial)?;
            partial.drain(..used);
            inner.partial = partial;
        }
        Ok(())
    }

    /// Acts on each whole frame at the start of `bytes`; returns how many bytes they took.
    fn frames(self: &Arc<Self>, inner: &mut Inner, pool: &Pool, bytes: &[u8]) -> io::Result<usize> {
        let mut used = 0;
        loop {
            let rest = &bytes[used..];
            // A frame's kind is checked as soon as it arrives, not once the whole frame has:
            // bytes that are not a frame (written on the socket by anything but the child's
            // port) would otherwise read as a length of up to 2 GiB, waited for forever.
            if let Some(&kind) = rest.get(4) {
                if kind != NEXT && kind != POLL {
                    return Err(unexpected(kind));
                }
            }
            let Some((frame, len)) = split_frame(rest)? else {
                break;
            };
            used += len;
            match (frame[0], frame.len()) {
                (NEXT, 2..) => self.next(inner, pool, frame[1], &frame[2..]),
                (POLL, 1) => self.offer(inner, pool),
                (NEXT | POLL, len) => return Err(malformed(frame[0], len)),
                (kind, _) => return Err(unexpected(kind)),
            }
        }
        Ok(used)
    }

    /// The child reports its last outcome (if any) and asks for its next task, or starts one
    /// it holds.
    fn next(self: &Arc<Self>, inner: &mut Inner, pool: &Pool, flags: u8, outcome: &[u8]) {
        let finished = match (inner.running.take(), flags & HAS_OUTCOME != 0) {
            (Some(task), true) => Some(Finished {
                task,
                outcome: if flags & FAILED != 0 {
                    Outcome::Thrown(outcome.to_vec())
                } else {
                    Outcome::Value(outcome.to_vec())
                },
            }),
            _ => None,
        };
        if inner.gone {
            // The child cannot read any more, but what it reported before it went still counts:
            // record it (and mirror the starts it made) without handing out anything new.
            inner.running = pool.start_held(self.worker, finished).0;
            return;
        }
        if flags & STARTING != 0 {
            // `None` when the engine took the held task back: what the child reports is dropped.
            let (started, ahead) = pool.start_held(self.worker, finished);
            inner.running = started;
            let ahead = ahead.iter().map(|(_, args)| args.as_bytes());
            let encoded = encode_tasks(&mut inner.scratch, AHEAD, ahead);
            Self::send(inner, encoded);
            return;
        }
        // A child cannot view the producer's memory: its tasks never carry attachments (the
        // producer copies transferred buffers for child processes).
        let (step, ahead) = pool.next_holding(self.worker, finished, Duration::ZERO);
        if let Step::Idle = step {
            // Park first, then look again: work queued between the two finds the link parked.
            inner.waiting = true;
            pool.park(Arc::clone(self) as Arc<dyn Waiter>);
            self.offer(inner, pool);
        } else {
            self.answer(inner, step, &ahead);
        }
    }

    /// Answers a waiting child if the engine now has a task for it, or wants it to retire.
    fn offer(&self, inner: &mut Inner, pool: &Pool) {
        if !inner.waiting || inner.gone {
            return;
        }
        // Most looks find nothing (every waiting child is looked at whenever a task is queued):
        // those cost no system call.
        if !pool.has_offer(self.worker) {
            return;
        }
        // A child that died waiting (its exit not reported yet) must not be handed a task: it
        // would fail as if it had run, with an attempt counted. It stays queued for another.
        if os::hung_up(inner.socket.as_raw_fd()) {
            inner.gone = true;
            return;
        }
        let (step, ahead) = pool.next_holding(self.worker, None, Duration::ZERO);
        if !matches!(step, Step::Idle) {
            inner.waiting = false;
            self.answer(inner, step, &ahead);
        }
    }

    fn answer(&self, inner: &mut Inner, step: Step, ahead: &[(TaskId, crate::Payload)]) {
        let encoded = match step {
            Step::Task { id, args, .. } => {
                inner.running = Some(id);
                let tasks = std::iter::once(args.as_bytes())
                    .chain(ahead.iter().map(|(_, args)| args.as_bytes()));
                encode_tasks(&mut inner.scratch, TASK, tasks)
            }
            // The child exits once it reads this.
            Step::Retire => encode_frame(&mut inner.scratch, RETIRE, &[], &[]),
            Step::Idle => return,
        };
        Self::send(inner, encoded);
    }

    /// Writes the frame in `inner.scratch`. A failed write means the child is gone, or cannot
    /// be talked to any more and is ended: its exit settles what it had, and frames it sent
    /// before going still count (`gone`).
    fn send(inner: &mut Inner, encoded: io::Result<()>) {
        if encoded
            .and_then(|()| inner.out.send(&inner.scratch))
            .is_err()
        {
            inner.gone = true;
            if let Some(terminator) = &inner.terminator {
                terminator.terminate();
            }
        }
    }
}

impl Waiter for Link {
    fn serve(&self, pool: &Pool) -> bool {
        let mut inner = self.lock();
        self.offer(&mut inner, pool);
        inner.waiting && !inner.gone
    }
}
