//! The child-process wire: an engine linked over a socket pair to a client, as a child would use
//! it, with a thread standing in for the producer's event loop (it reads the engine's end and
//! feeds the link).
#![cfg(unix)]
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::thread;

use qdmp_core::remote::{Link, RemoteStep, RemoteWorker};
use qdmp_core::{Config, Decision, Departure, ExitInfo, Outcome, Payload, Pool};

/// Long enough for any answer the engine has to give.
const ANSWER_MS: u32 = 10_000;
/// How long a test waits before it concludes that no answer is coming.
const NO_ANSWER_MS: u32 = 200;

/// Drains outcomes until at least `count` have come (the feeding thread records them a moment
/// after the client sent them).
fn drain_at_least(pool: &Pool, count: usize) -> Vec<qdmp_core::Delivery> {
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

fn connect(
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
fn connect_as(
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

#[test]
fn a_remote_worker_takes_tasks_and_reports_outcomes_through_the_engine() {
    let pool = Arc::new(Pool::new(Config::default()));
    pool.start().unwrap();
    let (_, mut client, server) = connect(&pool, 3);
    pool.submit(vec![Payload::new(b"one"), Payload::new(b"two")], 2)
        .unwrap();

    assert_eq!(
        client.next(false, None, ANSWER_MS).unwrap(),
        RemoteStep::Task(b"one")
    );
    assert_eq!(
        client.next(false, Some(b"ONE"), ANSWER_MS).unwrap(),
        RemoteStep::Task(b"two")
    );
    assert_eq!(
        client.next(true, Some(b"boom"), NO_ANSWER_MS).unwrap(),
        RemoteStep::Idle
    );

    let delivered = drain_at_least(&pool, 2);
    assert_eq!(delivered.len(), 2);
    assert_eq!(delivered[0].outcome, Outcome::Value(b"ONE".to_vec()));
    assert_eq!(delivered[1].outcome, Outcome::Thrown(b"boom".to_vec()));
    assert_eq!(delivered[1].worker_slot, 3);
    assert_eq!(delivered[1].args.as_ref().unwrap().as_bytes(), b"two");

    pool.stop(false);
    assert_eq!(
        client.next(false, None, ANSWER_MS).unwrap(),
        RemoteStep::Retire,
        "a child waiting for work is told to retire when the engine stops"
    );
    drop(client);
    server.join().unwrap().unwrap();
}

#[test]
fn a_child_that_asked_before_work_came_gets_it_when_it_comes() {
    let pool = Arc::new(Pool::new(Config::default()));
    pool.start().unwrap();
    let (_, mut client, _server) = connect(&pool, 0);
    assert_eq!(
        client.next(false, None, NO_ANSWER_MS).unwrap(),
        RemoteStep::Idle
    );
    let submitter = {
        let pool = Arc::clone(&pool);
        thread::spawn(move || {
            thread::sleep(std::time::Duration::from_millis(50));
            pool.submit(vec![Payload::new(b"late")], 1).unwrap();
        })
    };
    // The request is still out: this call waits for its answer rather than asking again.
    assert_eq!(
        client.next(false, None, ANSWER_MS).unwrap(),
        RemoteStep::Task(b"late")
    );
    submitter.join().unwrap();
    client.next(false, Some(b"LATE"), 0).unwrap();
    assert_eq!(
        drain_at_least(&pool, 1)[0].outcome,
        Outcome::Value(b"LATE".to_vec())
    );
    pool.audit().unwrap();
}

#[test]
fn a_child_waiting_past_the_idle_limit_is_told_to_retire_when_it_looks_again() {
    let pool = Arc::new(Pool::new(Config {
        idle_timeout: Some(std::time::Duration::from_millis(100)),
        ..Config::default()
    }));
    pool.start().unwrap();
    let (worker, mut client, _server) = connect(&pool, 0);
    let start = std::time::Instant::now();
    let mut step = client.next(false, None, 20).unwrap();
    while step == RemoteStep::Idle {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "never retired"
        );
        step = client.next(false, None, 20).unwrap();
    }
    assert_eq!(step, RemoteStep::Retire);
    assert!(start.elapsed() >= std::time::Duration::from_millis(100));
    assert_eq!(
        pool.worker_exited(
            worker,
            ExitInfo {
                code: Some(0),
                signal: None
            }
        ),
        Departure::Idle
    );
}

#[test]
fn bytes_that_are_not_frames_are_refused_at_once_not_waited_for() {
    let pool = Arc::new(Pool::new(Config::default()));
    pool.start().unwrap();
    let worker = pool.register_worker(0).unwrap();
    let (ours, _theirs) = UnixStream::pair().unwrap();
    let link = Link::new(worker, ours);
    // Read as a frame, "garb" would be a length of 1.6 GB, and nothing would ever complete it.
    assert!(link.feed(&pool, b"garbage written on the channel").is_err());
    let link = Link::new(worker, UnixStream::pair().unwrap().0);
    assert!(
        link.feed(&pool, &[2, 0, 0, 0, 1]).is_ok(),
        "a NEXT frame's start is awaited"
    );
    assert!(
        link.feed(&pool, &[0, 9, 0, 0, 0, 77]).is_err(),
        "the next frame's kind is checked as soon as it arrives"
    );
}

#[test]
fn a_child_that_died_waiting_is_not_handed_work_before_its_exit_is_reported() {
    let pool = Arc::new(Pool::new(Config::default()));
    pool.start().unwrap();
    let (worker, mut client, server) = connect(&pool, 0);
    assert_eq!(
        client.next(false, None, NO_ANSWER_MS).unwrap(),
        RemoteStep::Idle
    );
    drop(client); // it dies while waiting for work
    server.join().unwrap().unwrap(); // its end of the stream has been read
    pool.submit(vec![Payload::new(b"for the living")], 1)
        .unwrap();
    let stats = pool.stats();
    assert_eq!(
        (stats.pending, stats.running),
        (1, 0),
        "the task stays queued: {stats:?}"
    );
    pool.worker_exited(
        worker,
        ExitInfo {
            code: None,
            signal: Some("SIGKILL".into()),
        },
    );
    let (_, mut second, _server) = connect(&pool, 0);
    assert_eq!(
        second.next(false, None, ANSWER_MS).unwrap(),
        RemoteStep::Task(b"for the living")
    );
    pool.audit().unwrap();
}

#[test]
fn a_child_that_dies_mid_task_ends_its_server_and_its_exit_settles_the_task() {
    let pool = Arc::new(Pool::new(Config::default()));
    pool.start().unwrap();
    let (worker, mut client, server) = connect(&pool, 0);
    pool.submit(vec![Payload::new(b"fatal")], 1).unwrap();
    assert!(matches!(
        client.next(false, None, ANSWER_MS).unwrap(),
        RemoteStep::Task(_)
    ));
    drop(client); // the child is gone
    server.join().unwrap().unwrap();
    assert_eq!(
        pool.stats().running,
        1,
        "the stream's end alone settles nothing"
    );
    assert_eq!(
        pool.worker_exited(
            worker,
            ExitInfo {
                code: None,
                signal: Some("SIGKILL".into())
            }
        ),
        Departure::Unexpected
    );
    let d = pool.drain(usize::MAX).pop().unwrap();
    assert!(
        matches!(d.outcome, Outcome::WorkerExited(ExitInfo { signal: Some(ref s), .. }) if s == "SIGKILL")
    );
    pool.settle(vec![(d.task, Decision::Failed)]).unwrap();
    pool.audit().unwrap();
}

#[test]
fn a_client_whose_producer_is_gone_is_told_to_retire() {
    let (ours, theirs) = UnixStream::pair().unwrap();
    drop(ours);
    let mut client = RemoteWorker::new(theirs.try_clone().unwrap(), theirs);
    assert_eq!(
        client
            .next(false, Some(b"result nobody reads"), ANSWER_MS)
            .unwrap(),
        RemoteStep::Retire
    );
}

#[test]
fn large_payloads_cross_intact_even_when_the_socket_cannot_take_them_at_once() {
    let pool = Arc::new(Pool::new(Config::default()));
    pool.start().unwrap();
    let (_, mut client, _server) = connect_as(&pool, 0, true);
    let big: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
    pool.submit(vec![Payload::new(&big)], 1).unwrap();
    assert_eq!(
        client.next(false, None, ANSWER_MS).unwrap(),
        RemoteStep::Task(&big[..])
    );
    client.next(false, Some(&big), 0).unwrap();
    assert_eq!(drain_at_least(&pool, 1)[0].outcome, Outcome::Value(big));
}

/// Runs tasks on `client` (echoing each argument upper-cased... here, reversed) until `count`
/// have run or the engine has nothing for it; returns the arguments it ran, in order.
fn run_remote(client: &mut RemoteWorker<UnixStream>, count: usize) -> Vec<Vec<u8>> {
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

#[test]
fn a_child_running_short_tasks_is_handed_the_next_ones_ahead_and_each_settles_once() {
    let pool = Arc::new(Pool::new(Config::default()));
    pool.start().unwrap();
    let (_, mut client, _server) = connect(&pool, 0);
    let args: Vec<Vec<u8>> = (0..500).map(|i| format!("task-{i}").into_bytes()).collect();
    pool.submit(args.iter().map(|a| Payload::new(a)).collect(), 500)
        .unwrap();
    let mut ran = run_remote(&mut client, 500);
    // The last outcome goes with the next call, which finds nothing left.
    assert_eq!(
        client.next(false, Some(b"1-ksat"), NO_ANSWER_MS).unwrap(),
        RemoteStep::Idle
    );
    let delivered = drain_at_least(&pool, 500);
    assert_eq!(ran.len(), 500);
    assert_eq!(ran, args, "tasks run in queue order, held ones included");
    assert!(
        pool.stats().running == 0 && pool.stats().pending == 0,
        "{:?}",
        pool.stats()
    );
    assert_eq!(delivered.len(), 500, "every task has exactly one outcome");
    let mut values: Vec<Vec<u8>> = delivered
        .iter()
        .map(|d| match &d.outcome {
            Outcome::Value(v) => v.iter().rev().copied().collect(),
            other => panic!("unexpected outcome {other:?}"),
        })
        .collect();
    values.sort();
    let mut expected = args.clone();
    expected.pop(); // the last outcome was sent as "1-ksat" above
    expected.push(b"task-1".to_vec());
    expected.sort();
    assert_eq!(values, expected, "each result belongs to its own task");
    ran.sort();
    ran.dedup();
    assert_eq!(ran.len(), 500, "no task ran twice");
    pool.audit().unwrap();
}

#[test]
fn a_child_that_dies_holding_tasks_gives_them_back_and_only_its_running_task_fails() {
    let pool = Arc::new(Pool::new(Config::default()));
    pool.start().unwrap();
    let (worker, mut client, server) = connect(&pool, 0);
    pool.submit((0..100).map(|i| Payload::new(&[i])).collect(), 100)
        .unwrap();
    let ran = run_remote(&mut client, 10);
    assert_eq!(ran.len(), 10);
    let handed = pool.stats().running;
    assert!(
        handed > 1,
        "the child holds tasks ahead ({handed} handed out)"
    );
    drop(client);
    // The server may meet the closed socket writing its answer to the last start: either way it
    // ends, and the child's exit settles the rest.
    let _ = server.join().unwrap();
    pool.worker_exited(
        worker,
        ExitInfo {
            code: None,
            signal: Some("SIGKILL".into()),
        },
    );
    pool.audit().unwrap();
    let stats = pool.stats();
    assert_eq!(stats.running, 0);
    assert_eq!(stats.pending, 100 - 10, "the held tasks are queued again");
    let outcomes = pool.drain(usize::MAX);
    assert_eq!(outcomes.len(), 10, "nine results and one failure");
    assert!(matches!(outcomes[9].outcome, Outcome::WorkerExited(_)));

    let (_, mut second, _server) = connect(&pool, 0);
    let rest = run_remote(&mut second, 90);
    let expected: Vec<Vec<u8>> = (10..100).map(|i| vec![i]).collect();
    assert_eq!(
        rest, expected,
        "the rest run in order, none lost or repeated"
    );
}

#[test]
fn large_arguments_and_results_flow_through_a_child_without_the_two_ends_blocking_each_other() {
    for size in [4 << 10, 32 << 10, 64 << 10] {
        let pool = Arc::new(Pool::new(Config::default()));
        pool.start().unwrap();
        let (_, mut client, _server) = connect(&pool, 0);
        let count = 400;
        let args = vec![1u8; size];
        pool.submit(
            (0..count).map(|_| Payload::new(&args)).collect(),
            count as u64,
        )
        .unwrap();
        let child = thread::spawn(move || {
            let result = vec![2u8; size];
            let mut outcome: Option<&[u8]> = None;
            let mut ran = 0;
            while let RemoteStep::Task(_) = client.next(false, outcome, NO_ANSWER_MS).unwrap() {
                ran += 1;
                outcome = Some(&result);
            }
            ran
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut settled = 0;
        while settled < count - 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "{size}-byte tasks stuck after {settled} outcomes: {:?}",
                pool.stats()
            );
            let delivered = pool.drain(usize::MAX);
            settled += delivered.len();
            pool.settle(
                delivered
                    .iter()
                    .map(|d| (d.task, Decision::Completed))
                    .collect(),
            )
            .unwrap();
            thread::sleep(std::time::Duration::from_millis(1));
        }
        assert_eq!(child.join().unwrap(), count, "{size}-byte tasks all ran");
        pool.audit().unwrap();
    }
}
