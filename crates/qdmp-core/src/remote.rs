//! Workers in child processes: each is linked to the producer's engine by a byte stream (a Unix
//! socket pair whose other end is the child's file descriptor 3), so queue, scheduling and
//! deadlines stay in the producer's engine while the child only runs tasks. The producer reads
//! its end on its own event loop and feeds what it reads to the child's [`Link`], which answers
//! on the socket; the child waits for answers by spinning briefly, then blocking.
//!
//! # Protocol
//! Frames are `[len: u32 LE][kind: u8][body]`, `len` counting kind and body. The child speaks
//! first:
//! - child → engine `NEXT`: `[flags: u8][outcome bytes]`, flags bit 0 = an outcome is reported,
//!   bit 1 = it is a failure (encoded error record), bit 2 = the child now starts the first task
//!   it holds ahead (it does not wait for the answer to do so).
//! - engine → child, answering a `NEXT` without bit 2, at once or once there is work: `TASK`
//!   `[tasks]` (run the first, hold the rest ahead, in order) or `RETIRE`; answering one with
//!   bit 2, at once: `AHEAD` `[tasks]`, more tasks to hold (maybe none).
//! - child → engine `POLL` (no body), while a `NEXT` is unanswered: look again now (a worker idle
//!   past its limit is then told to retire). It is never answered itself.
//!
//! `[tasks]` is a sequence of `[len: u32 LE][argument bytes]`. Holding tasks ahead (see
//! `state/ahead.rs`) keeps a child that runs short tasks from waiting a round trip for each:
//! the answer to a start arrives while the child runs the task.

mod child;
mod client;
mod link;
mod outbox;
mod wire;

pub use child::ChildTerminator;
pub use client::{RemoteStep, RemoteWorker};
pub use link::Link;
