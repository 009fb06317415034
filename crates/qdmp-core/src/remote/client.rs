//! The child's end of its connection to the producer's engine.

use std::collections::VecDeque;
use std::io::{self, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::wire::{
    encode_frame, read_frame, split_tasks, unexpected, AHEAD, FAILED, HAS_OUTCOME, NEXT, POLL,
    RETIRE, STARTING, TASK,
};
use crate::os;
use crate::spin::SpinPolicy;

/// What the engine told a child worker.
#[derive(Debug, PartialEq, Eq)]
pub enum RemoteStep<'a> {
    /// Run the task with these encoded arguments (valid until the next call).
    Task(&'a [u8]),
    /// No task arrived within the wait.
    Idle,
    /// Exit.
    Retire,
}

/// The child's end of the connection.
pub struct RemoteWorker<S> {
    reader: BufReader<S>,
    writer: S,
    frame: Vec<u8>,
    scratch: Vec<u8>,
    /// Arguments of the tasks handed ahead, to run in this order.
    held: VecDeque<Vec<u8>>,
    /// Answers to starts (`AHEAD` frames) not read yet.
    unread: usize,
    /// The arguments of the task being run, when it came from `held`.
    current: Vec<u8>,
    /// A request for a task is out and not answered yet (the last wait for it ran out).
    asked: bool,
    /// How long to spin for the answer before blocking: the producer answers a request within a
    /// few microseconds when it has work, and being woken from a blocked read costs tens of them.
    spin: SpinPolicy,
}

impl<S: Read + Write + AsRawFd> RemoteWorker<S> {
    /// Wraps the two halves of the connection (e.g. a stream and its clone).
    pub fn new(reader: S, writer: S) -> RemoteWorker<S> {
        RemoteWorker {
            reader: BufReader::new(reader),
            writer,
            frame: Vec::new(),
            scratch: Vec::new(),
            held: VecDeque::new(),
            unread: 0,
            current: Vec::new(),
            asked: false,
            spin: SpinPolicy::default(),
        }
    }

    /// Reports the last outcome (if any) and returns the next task: one held ahead if there is
    /// one (started at once, without waiting for the engine), else the engine's answer if it
    /// comes within `wait_ms`. After `Idle` the request stays out, and the next call (with no
    /// outcome: none can have been produced) waits for its answer again. A closed connection
    /// means the producer is gone: retire.
    pub fn next(
        &mut self,
        failed: bool,
        outcome: Option<&[u8]>,
        wait_ms: u32,
    ) -> io::Result<RemoteStep<'_>> {
        // Answers to earlier starts hand more tasks ahead; they are needed once the held run out,
        // and by then they have usually arrived.
        while self.held.is_empty() && self.unread > 0 {
            match read_frame(&mut self.reader, &mut self.frame)? {
                None => return Ok(RemoteStep::Retire),
                Some(AHEAD) => {
                    self.unread -= 1;
                    let tasks = split_tasks(&self.frame[1..])?;
                    self.held.extend(tasks.into_iter().map(<[u8]>::to_vec));
                }
                Some(kind) => return Err(unexpected(kind)),
            }
        }
        let held = if self.asked {
            // Still unanswered: ask the engine to look again (a worker idle too long retires),
            // without a second request.
            encode_frame(&mut self.scratch, POLL, &[], &[])?;
            None
        } else {
            let mut flags = 0;
            if outcome.is_some() {
                flags |= HAS_OUTCOME;
                if failed {
                    flags |= FAILED;
                }
            }
            let held = self.held.pop_front();
            if held.is_some() {
                flags |= STARTING;
            }
            encode_frame(&mut self.scratch, NEXT, &[flags], outcome.unwrap_or(&[]))?;
            held
        };
        if let Err(e) = self.writer.write_all(&self.scratch) {
            return if e.kind() == io::ErrorKind::BrokenPipe {
                Ok(RemoteStep::Retire)
            } else {
                Err(e)
            };
        }
        if let Some(args) = held {
            self.unread += 1;
            self.current = args;
            return Ok(RemoteStep::Task(&self.current));
        }
        self.asked = true;
        if !self.answered_within(Duration::from_millis(u64::from(wait_ms)))? {
            return Ok(RemoteStep::Idle);
        }
        self.asked = false;
        match read_frame(&mut self.reader, &mut self.frame)? {
            None => Ok(RemoteStep::Retire),
            Some(TASK) => {
                let tasks = split_tasks(&self.frame[1..])?;
                let (first, ahead) = tasks.split_first().ok_or_else(|| unexpected(TASK))?;
                let len = first.len();
                self.held.extend(ahead.iter().map(|args| args.to_vec()));
                // The first task's arguments follow the kind and their length.
                Ok(RemoteStep::Task(&self.frame[5..5 + len]))
            }
            Some(RETIRE) => Ok(RemoteStep::Retire),
            Some(kind) => Err(unexpected(kind)),
        }
    }

    /// Whether the engine's answer (or the end of the connection) can be read within `wait`:
    /// spins first while spinning has been catching answers, then blocks.
    fn answered_within(&mut self, wait: Duration) -> io::Result<bool> {
        if !self.reader.buffer().is_empty() {
            return Ok(true);
        }
        let fd = self.reader.get_ref().as_raw_fd();
        let start = Instant::now();
        let limit = self.spin.limit().min(wait);
        if !limit.is_zero() {
            let mut found = false;
            while start.elapsed() < limit {
                if os::has_input(fd) {
                    found = true;
                    break;
                }
                // The kernel often runs the producer, woken by the outcome just written, on
                // this child's CPU, even with the other CPU idle: a plain spin would keep it
                // from running (and answering) until the spin ends. Yielding lets it run.
                std::thread::yield_now();
            }
            self.spin.spun(found);
            if found {
                return Ok(true);
            }
        }
        let blocked = Instant::now();
        let ready = os::wait_readable(fd, wait.saturating_sub(start.elapsed()))?;
        if ready {
            self.spin.slept(blocked.elapsed());
        }
        Ok(ready)
    }
}
