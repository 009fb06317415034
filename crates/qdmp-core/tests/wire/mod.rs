//! What the child-process wire tests share: an engine linked over a socket pair to a client, as
//! a child would use it, with a thread standing in for the producer's event loop (it reads the
//! engine's end and feeds the link).
#![allow(dead_code, reason = "each test file uses some of these")]
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::thread;

use qdmp_core::remote::{Link, RemoteStep, RemoteWorker};
use qdmp_core::Pool;

/// Long enough for any answer the engine has to give.
pub const ANSWER_MS: u32 = 10_000;
/// How long a test waits before it concludes that no answer is coming.
pub const NO_ANSWER_MS: u32 = 200;

/// Drains outcomes until at least `count` have come (the feeding thread records them a moment
/// after the client sent them).
pub fn drain_at_least(pool: &Pool, count: usize) -> Vec<qdmp_core::Delivery> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut delivered = Vec::new();
    while delivered.len() < count {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} outcomes came",
            delivered.len()
        );
        delivered.extend(pool.drain(usize::MAX));
        thread::yield_now();
    }
    delivered
}

pub fn connect(
    pool: &Arc<Pool>,
    slot: u32,
) -> (
    u64,
    RemoteWorker<UnixStream>,
    thread::JoinHandle<std::io::Result<()>>,
) {
    connect_as(pool, slot, false)
}

/// `connect`, with the engine's end made non-blocking, as the producer's event loop makes it.
pub fn connect_as(
    pool: &Arc<Pool>,
    slot: u32,
    nonblocking: bool,
) -> (
    u64,
    RemoteWorker<UnixStream>,
    thread::JoinHandle<std::io::Result<()>>,
) {
    let worker = pool.register_worker(slot).unwrap();
    let (ours, theirs) = UnixStream::pair().unwrap();
    let mut reader = ours.try_clone().unwrap();
    reader.set_nonblocking(nonblocking).unwrap();
    let link = Link::new(worker, ours);
    let server = {
        let pool = Arc::clone(pool);
        // Reads in small pieces, so that frames arrive split as they may from a socket.
        thread::spawn(move || {
            let mut buf = [0u8; 1000];
            loop {
                let n = match reader.read(&mut buf) {
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        let fd = std::os::fd::AsRawFd::as_raw_fd(&reader);
                        qdmp_core::os::wait_readable(fd, std::time::Duration::from_secs(1))?;
                        continue;
                    }
                    read => read?,
                };
                if n == 0 {
                    return Ok(());
                }
                link.feed(&pool, &buf[..n])?;
            }
        })
    };
    let client = RemoteWorker::new(theirs.try_clone().unwrap(), theirs);
    (worker, client, server)
}

/// Runs tasks on `client` (echoing each argument upper-cased... here, reversed) until `count`
/// have run or the engine has nothing for it; returns the arguments it ran, in order.
pub fn run_remote(client: &mut RemoteWorker<UnixStream>, count: usize) -> Vec<Vec<u8>> {
    let mut ran = Vec::new();
    let mut outcome: Option<Vec<u8>> = None;
    while ran.len() < count {
        match client
            .next(false, outcome.as_deref(), NO_ANSWER_MS)
            .unwrap()
        {
            RemoteStep::Task(args) => {
                ran.push(args.to_vec());
                outcome = Some(args.iter().rev().copied().collect());
            }
            RemoteStep::Idle | RemoteStep::Retire => break,
        }
    }
    ran
}
