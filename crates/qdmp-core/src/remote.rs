//! Workers in child processes: the engine serves each one over a byte stream (a Unix socket pair
//! whose other end is the child's file descriptor 3), so queue, scheduling and deadlines stay in
//! the producer's engine while the child only runs tasks.
//!
//! # Protocol
//! Frames are `[len: u32 LE][kind: u8][body]`, `len` counting kind and body. The child speaks
//! first and the engine answers every frame with exactly one frame:
//! - child → engine `NEXT`: `[flags: u8][wait_ms: u32 LE][outcome bytes]`, flags bit 0 = an
//!   outcome is reported, bit 1 = it is a failure (encoded error record), bit 2 = the child now
//!   starts the first task it holds ahead (it does not wait for the answer to do so).
//! - engine → child, answering a `NEXT` without bit 2: `TASK` `[tasks]` (run the first, hold the
//!   rest ahead, in order), `IDLE` (no task within the wait), or `RETIRE`; answering one with
//!   bit 2: `AHEAD` `[tasks]`, more tasks to hold (maybe none).
//!
//! `[tasks]` is a sequence of `[len: u32 LE][argument bytes]`. Holding tasks ahead (see
//! `state/ahead.rs`) keeps a child that runs short tasks from waiting a round trip for each:
//! the answer to a start arrives while the child runs the task.
//!
use std::collections::VecDeque;
use std::io::{self, BufReader, Read, Write};
use std::sync::Arc;
use std::time::Duration;

use crate::pool::Pool;
use crate::task::{Outcome, TaskId};
use crate::worker::{Finished, Step, WorkerId};

const NEXT: u8 = 1;
const TASK: u8 = 2;
const IDLE: u8 = 3;
const RETIRE: u8 = 4;
const AHEAD: u8 = 5;

const HAS_OUTCOME: u8 = 1;
const FAILED: u8 = 2;
const STARTING: u8 = 4;

/// A frame larger than this is refused as corrupt (arguments and results are far smaller).
const MAX_FRAME: usize = 1 << 31;

fn write_frame(
    out: &mut impl Write,
    scratch: &mut Vec<u8>,
    kind: u8,
    head: &[u8],
    body: &[u8],
) -> io::Result<()> {
    let len = 1 + head.len() + body.len();
    let len = u32::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    // One write per frame: header and body leave in the same syscall.
    scratch.clear();
    scratch.extend_from_slice(&len.to_le_bytes());
    scratch.push(kind);
    scratch.extend_from_slice(head);
    scratch.extend_from_slice(body);
    out.write_all(scratch)?;
    out.flush()
}

/// Writes a `TASK` or `AHEAD` frame carrying `tasks`, in one write.
fn write_tasks<'a>(
    out: &mut impl Write,
    scratch: &mut Vec<u8>,
    kind: u8,
    tasks: impl Iterator<Item = &'a [u8]>,
) -> io::Result<()> {
    let too_large = || io::Error::new(io::ErrorKind::InvalidInput, "frame too large");
    scratch.clear();
    scratch.extend_from_slice(&[0, 0, 0, 0, kind]);
    for task in tasks {
        let len = u32::try_from(task.len()).map_err(|_| too_large())?;
        scratch.extend_from_slice(&len.to_le_bytes());
        scratch.extend_from_slice(task);
    }
    let len = u32::try_from(scratch.len() - 4).map_err(|_| too_large())?;
    scratch[..4].copy_from_slice(&len.to_le_bytes());
    out.write_all(scratch)?;
    out.flush()
}

/// Splits the body of a `TASK` or `AHEAD` frame into its tasks' arguments.
fn split_tasks(mut body: &[u8]) -> io::Result<Vec<&[u8]>> {
    let corrupt = || io::Error::new(io::ErrorKind::InvalidData, "corrupt task list");
    let mut tasks = Vec::new();
    while !body.is_empty() {
        let (len, rest) = body.split_first_chunk::<4>().ok_or_else(corrupt)?;
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len {
            return Err(corrupt());
        }
        tasks.push(&rest[..len]);
        body = &rest[len..];
    }
    Ok(tasks)
}

/// Reads one frame into `buf` (kind first); `Ok(None)` at a clean end of stream.
fn read_frame(input: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<Option<u8>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len == 0 || len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad frame length {len}"),
        ));
    }
    buf.resize(len, 0);
    input.read_exact(buf)?;
    Ok(Some(buf[0]))
}

/// Serves worker `worker` of `pool` to the child at the other end of `stream`, until the child
/// leaves or is retired. Runs on its own thread.
pub fn serve<S>(pool: &Arc<Pool>, worker: WorkerId, stream: S) -> io::Result<()>
where
    S: Read + Write,
    for<'a> &'a S: Read + Write,
{
    let mut reader = BufReader::new(&stream);
    let mut writer = &stream;
    let (mut frame, mut scratch) = (Vec::new(), Vec::new());
    // The task the child runs: its outcome comes with the child's next frame.
    let mut running: Option<TaskId> = None;
    let mut gone = false;
    loop {
        match read_frame(&mut reader, &mut frame)? {
            None => return Ok(()),
            Some(NEXT) if frame.len() >= 6 => {}
            Some(kind) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unexpected frame kind {kind}"),
                ));
            }
        }
        let flags = frame[1];
        let wait_ms = u32::from_le_bytes([frame[2], frame[3], frame[4], frame[5]]);
        let finished = match (running.take(), flags & HAS_OUTCOME != 0) {
            (Some(task), true) => {
                let bytes = frame[6..].to_vec();
                let outcome = if flags & FAILED != 0 {
                    Outcome::Thrown(bytes)
                } else {
                    Outcome::Value(bytes)
                };
                Some(Finished { task, outcome })
            }
            _ => None,
        };
        if gone {
            // The child cannot read any more, but what it reported before it went still counts:
            // record it (and mirror the starts it made) without handing out anything new.
            running = pool.start_held(worker, finished).0;
            continue;
        }
        // A child cannot view the producer's memory: its tasks never carry attachments (the
        // producer copies transferred buffers for child processes).
        let written = if flags & STARTING != 0 {
            // `None` when the engine took the held task back: what the child reports is dropped.
            let (started, ahead) = pool.start_held(worker, finished);
            running = started;
            let ahead = ahead.iter().map(|(_, args)| args.as_bytes());
            write_tasks(&mut writer, &mut scratch, AHEAD, ahead)
        } else {
            let wait = Duration::from_millis(u64::from(wait_ms));
            match pool.next_holding(worker, finished, wait) {
                (Step::Task { id, args, .. }, ahead) => {
                    running = Some(id);
                    let tasks = std::iter::once(args.as_bytes())
                        .chain(ahead.iter().map(|(_, args)| args.as_bytes()));
                    write_tasks(&mut writer, &mut scratch, TASK, tasks)
                }
                (Step::Idle, _) => write_frame(&mut writer, &mut scratch, IDLE, &[], &[]),
                (Step::Retire, _) => {
                    // Nothing more to hand out; the child exits once it reads this.
                    write_frame(&mut writer, &mut scratch, RETIRE, &[], &[])?;
                    return Ok(());
                }
            }
        };
        // A write fails when the child is gone; its exit settles what it had. Frames it sent
        // before going are still in the socket: read on until its end, so that what they report
        // still counts if it is read before the child's exit is reported (after that, its
        // running task has failed and its held ones run again elsewhere: late, never twice).
        gone = written.is_err();
    }
}

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
}

impl<S: Read + Write> RemoteWorker<S> {
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
        }
    }

    /// Reports the last outcome (if any) and returns the next task: one held ahead if there is
    /// one (started at once, without waiting for the engine), else the engine's answer, which
    /// comes within `wait_ms` (plus the trip). A closed connection means the producer is gone:
    /// retire.
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
        let mut head = [0u8; 5];
        head[0] = flags;
        head[1..].copy_from_slice(&wait_ms.to_le_bytes());
        if let Err(e) = write_frame(
            &mut self.writer,
            &mut self.scratch,
            NEXT,
            &head,
            outcome.unwrap_or(&[]),
        ) {
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
            Some(IDLE) => Ok(RemoteStep::Idle),
            Some(RETIRE) => Ok(RemoteStep::Retire),
            Some(kind) => Err(unexpected(kind)),
        }
    }
}

fn unexpected(kind: u8) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("unexpected frame kind {kind}"),
    )
}
