//! Workers in child processes: the engine serves each one over a byte stream (a Unix socket pair
//! whose other end is the child's file descriptor 3), so queue, scheduling and deadlines stay in
//! the producer's engine while the child only runs tasks.
//!
//! # Protocol
//! Frames are `[len: u32 LE][kind: u8][body]`, `len` counting kind and body. The child speaks
//! first and the engine answers every frame with exactly one frame:
//! - child → engine `NEXT`: `[flags: u8][wait_ms: u32 LE][outcome bytes]`, flags bit 0 = an
//!   outcome is reported, bit 1 = it is a failure (encoded error record).
//! - engine → child: `TASK` `[argument bytes]`, `IDLE` (no task within the wait), or `RETIRE`.
//!
//! The engine side is a thread per child that turns each `NEXT` into one [`Pool::next`] call: the
//! same call worker threads make, so both kinds of worker obey the same rules. When the child dies
//! its stream ends and the thread exits; settling the task it ran is the job of whoever reports
//! its exit ([`Pool::worker_exited`]), exactly as for a thread.

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

const HAS_OUTCOME: u8 = 1;
const FAILED: u8 = 2;

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
    let mut task: Option<TaskId> = None;
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
        let finished = match (task.take(), flags & HAS_OUTCOME != 0) {
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
        match pool.next(worker, finished, Duration::from_millis(u64::from(wait_ms))) {
            // A child cannot view the producer's memory: its tasks never carry attachments (the
            // producer copies transferred buffers for child processes).
            Step::Task { id, args, .. } => {
                task = Some(id);
                write_frame(&mut writer, &mut scratch, TASK, &[], args.as_bytes())?;
            }
            Step::Idle => write_frame(&mut writer, &mut scratch, IDLE, &[], &[])?,
            Step::Retire => {
                write_frame(&mut writer, &mut scratch, RETIRE, &[], &[])?;
                return Ok(());
            }
        }
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
}

impl<S: Read + Write> RemoteWorker<S> {
    /// Wraps the two halves of the connection (e.g. a stream and its clone).
    pub fn new(reader: S, writer: S) -> RemoteWorker<S> {
        RemoteWorker {
            reader: BufReader::new(reader),
            writer,
            frame: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Reports the last outcome (if any) and waits for the engine's answer, which comes within
    /// `wait_ms` (plus the trip). A closed connection means the producer is gone: retire.
    pub fn next(
        &mut self,
        failed: bool,
        outcome: Option<&[u8]>,
        wait_ms: u32,
    ) -> io::Result<RemoteStep<'_>> {
        let mut flags = 0;
        if outcome.is_some() {
            flags |= HAS_OUTCOME;
            if failed {
                flags |= FAILED;
            }
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
        match read_frame(&mut self.reader, &mut self.frame)? {
            None => Ok(RemoteStep::Retire),
            Some(TASK) => Ok(RemoteStep::Task(&self.frame[1..])),
            Some(IDLE) => Ok(RemoteStep::Idle),
            Some(RETIRE) => Ok(RemoteStep::Retire),
            Some(kind) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unexpected frame kind {kind}"),
            )),
        }
    }
}
