//! The child-process wire: an engine served over a socket pair to a client, as a child would use it.
#![cfg(unix)]
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::thread;

use qdmp_core::remote::{serve, RemoteStep, RemoteWorker};
use qdmp_core::{Config, Decision, Departure, ExitInfo, Outcome, Payload, Pool};

fn connect(
    pool: &Arc<Pool>,
    slot: u32,
) -> (
    u64,
    RemoteWorker<UnixStream>,
    thread::JoinHandle<std::io::Result<()>>,
) {
    let worker = pool.register_worker(slot).unwrap();
    let (ours, theirs) = UnixStream::pair().unwrap();
    let server = {
        let pool = Arc::clone(pool);
        thread::spawn(move || serve(&pool, worker, ours))
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
        client.next(false, None, 0).unwrap(),
        RemoteStep::Task(b"one")
    );
    assert_eq!(
        client.next(false, Some(b"ONE"), 0).unwrap(),
        RemoteStep::Task(b"two")
    );
    assert_eq!(
        client.next(true, Some(b"boom"), 0).unwrap(),
        RemoteStep::Idle
    );

    let delivered = pool.drain(usize::MAX);
    assert_eq!(delivered.len(), 2);
    assert_eq!(delivered[0].outcome, Outcome::Value(b"ONE".to_vec()));
    assert_eq!(delivered[1].outcome, Outcome::Thrown(b"boom".to_vec()));
    assert_eq!(delivered[1].worker_slot, 3);
    assert_eq!(delivered[1].args.as_ref().unwrap().as_bytes(), b"two");

    pool.stop(false);
    assert_eq!(client.next(false, None, 1000).unwrap(), RemoteStep::Retire);
    server.join().unwrap().unwrap();
}

#[test]
fn a_child_that_dies_mid_task_ends_its_server_and_its_exit_settles_the_task() {
    let pool = Arc::new(Pool::new(Config::default()));
    pool.start().unwrap();
    let (worker, mut client, server) = connect(&pool, 0);
    pool.submit(vec![Payload::new(b"fatal")], 1).unwrap();
    assert!(matches!(
        client.next(false, None, 0).unwrap(),
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
        client.next(false, Some(b"result nobody reads"), 0).unwrap(),
        RemoteStep::Retire
    );
}

#[test]
fn large_payloads_cross_intact() {
    let pool = Arc::new(Pool::new(Config::default()));
    pool.start().unwrap();
    let (_, mut client, _server) = connect(&pool, 0);
    let big: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
    pool.submit(vec![Payload::new(&big)], 1).unwrap();
    assert_eq!(
        client.next(false, None, 0).unwrap(),
        RemoteStep::Task(&big[..])
    );
    client.next(false, Some(&big), 0).unwrap();
    assert_eq!(pool.drain(1)[0].outcome, Outcome::Value(big));
}
