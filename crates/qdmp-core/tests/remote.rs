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

/// Runs tasks on `client` (echoing each argument upper-cased... here, reversed) until `count`
/// have run or the engine has nothing for it; returns the arguments it ran, in order.
fn run_remote(client: &mut RemoteWorker<UnixStream>, count: usize) -> Vec<Vec<u8>> {
    let mut ran = Vec::new();
    let mut outcome: Option<Vec<u8>> = None;
    while ran.len() < count {
        match client.next(false, outcome.as_deref(), 0).unwrap() {
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
        client.next(false, Some(b"1-ksat"), 0).unwrap(),
        RemoteStep::Idle
    );
    assert_eq!(ran.len(), 500);
    assert_eq!(ran, args, "tasks run in queue order, held ones included");
    assert!(
        pool.stats().running == 0 && pool.stats().pending == 0,
        "{:?}",
        pool.stats()
    );
    let delivered = pool.drain(usize::MAX);
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
            while let RemoteStep::Task(_) = client.next(false, outcome, 0).unwrap() {
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
