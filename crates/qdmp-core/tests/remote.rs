//! The child-process wire: tasks, outcomes, waiting, retirement and large payloads between an
//! engine and a client, as a child would use it (see `wire/mod.rs`).
#![cfg(unix)]

mod wire;

use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::thread;

use qdmp_core::remote::{Link, RemoteStep};
use qdmp_core::{Config, Decision, Departure, ExitInfo, Outcome, Payload, Pool};
use wire::{connect, connect_as, drain_at_least, run_remote, ANSWER_MS, NO_ANSWER_MS};

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
