//! The child-process wire when a child dies: waiting, mid-task or holding tasks ahead, and when
//! the producer is gone.
#![cfg(unix)]

mod wire;

use std::os::unix::net::UnixStream;
use std::sync::Arc;

use qdmp_core::remote::{RemoteStep, RemoteWorker};
use qdmp_core::{Config, Decision, Departure, ExitInfo, Outcome, Payload, Pool};
use wire::{connect, run_remote, ANSWER_MS, NO_ANSWER_MS};

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
fn a_child_that_dies_holding_tasks_gives_them_back_and_only_its_running_task_fails() {
    const TOTAL: u8 = 200;
    let pool = Arc::new(Pool::new(Config::default()));
    pool.start().unwrap();
    let (worker, mut client, server) = connect(&pool, 0);
    pool.submit(
        (0..TOTAL).map(|i| Payload::new(&[i])).collect(),
        u64::from(TOTAL),
    )
    .unwrap();
    // A child is handed tasks ahead once its last task ran in under a millisecond, and on a
    // loaded machine a round trip can take longer: run tasks, each outcome reported with the
    // next call as a child does, until it holds some (each task a fresh chance).
    let mut ran: Vec<Vec<u8>> = Vec::new();
    let mut outcome: Option<Vec<u8>> = None;
    while pool.stats().running <= 1 {
        assert!(
            ran.len() < 100,
            "the child was never handed tasks ahead: {:?}",
            pool.stats()
        );
        match client
            .next(false, outcome.as_deref(), NO_ANSWER_MS)
            .unwrap()
        {
            RemoteStep::Task(args) => {
                ran.push(args.to_vec());
                outcome = Some(args.to_vec());
            }
            other => panic!("expected a task, got {other:?}"),
        }
    }
    let done = u8::try_from(ran.len()).unwrap();
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
    assert_eq!(
        stats.pending,
        u64::from(TOTAL - done),
        "the held tasks are queued again"
    );
    let outcomes = pool.drain(usize::MAX);
    assert_eq!(
        outcomes.len(),
        ran.len(),
        "a result for each task that ran but the last, and its failure"
    );
    assert!(matches!(
        outcomes.last().unwrap().outcome,
        Outcome::WorkerExited(_)
    ));

    let (_, mut second, _server) = connect(&pool, 0);
    let rest = run_remote(&mut second, usize::from(TOTAL - done));
    let expected: Vec<Vec<u8>> = (done..TOTAL).map(|i| vec![i]).collect();
    assert_eq!(
        rest, expected,
        "the rest run in order, none lost or repeated"
    );
}
