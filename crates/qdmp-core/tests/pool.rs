//! The engine's behaviour through its public API, one transition at a time.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use qdmp_core::{
    Config, Decision, ErrorCode, ExitInfo, Finished, Outcome, Payload, Pool, Step, TaskId, WorkerId,
};

const NO_WAIT: Duration = Duration::ZERO;

fn started(config: Config) -> Pool {
    let pool = Pool::new(config);
    pool.start().unwrap();
    pool
}

fn submit(pool: &Pool, items: &[&str]) -> Vec<TaskId> {
    let args = items.iter().map(|s| Payload::new(s.as_bytes())).collect();
    pool.submit(args, items.len() as u64).unwrap().collect()
}

fn take(pool: &Pool, worker: WorkerId, finished: Option<Finished>) -> Option<(TaskId, String)> {
    match pool.next(worker, finished, NO_WAIT) {
        Step::Task { id, args, .. } => {
            Some((id, String::from_utf8(args.as_bytes().to_vec()).unwrap()))
        }
        Step::Idle => None,
        Step::Retire => panic!("unexpected retire"),
    }
}

fn ok(task: TaskId, value: &str) -> Option<Finished> {
    Some(Finished {
        task,
        outcome: Outcome::Value(value.as_bytes().to_vec()),
    })
}

fn thrown(task: TaskId) -> Option<Finished> {
    Some(Finished {
        task,
        outcome: Outcome::Thrown(b"boom".to_vec()),
    })
}

#[test]
fn refuses_tasks_before_start_and_after_stop() {
    let pool = Pool::new(Config::default());
    let err = pool.submit(vec![Payload::new(b"x")], 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotStarted);
    pool.start().unwrap();
    assert_eq!(pool.start().unwrap_err().code(), ErrorCode::AlreadyStarted);
    pool.stop(false);
    let err = pool.submit(vec![Payload::new(b"x")], 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Stopped);
    pool.close();
    pool.start().expect("a stopped engine starts again");
    submit(&pool, &["again"]);
    pool.audit().unwrap();
}

#[test]
fn checks_worker_counts() {
    assert_eq!(Pool::check_worker_count(2).unwrap(), 2);
    for bad in [0, -1, 1_000_000] {
        assert_eq!(
            Pool::check_worker_count(bad).unwrap_err().code(),
            ErrorCode::InvalidWorkerCount
        );
    }
}

#[test]
fn runs_tasks_in_submission_order_and_delivers_each_outcome_once() {
    let pool = started(Config::default());
    let w = pool.register_worker(0).unwrap();
    let ids = submit(&pool, &["a", "b"]);
    let (t1, a1) = take(&pool, w, None).unwrap();
    assert_eq!((t1, a1.as_str()), (ids[0], "a"));
    assert_eq!(pool.stats().running, 1);
    let (t2, _) = take(&pool, w, ok(t1, "A")).unwrap();
    assert_eq!(t2, ids[1]);
    assert!(take(&pool, w, ok(t2, "B")).is_none());

    let drained = pool.drain(usize::MAX);
    let values: Vec<_> = drained
        .iter()
        .map(|d| (d.task, d.outcome.clone()))
        .collect();
    assert_eq!(
        values,
        vec![
            (t1, Outcome::Value(b"A".to_vec())),
            (t2, Outcome::Value(b"B".to_vec()))
        ]
    );
    assert!(
        drained.iter().all(|d| d.args.is_none()),
        "successes carry no arguments"
    );
    assert!(
        pool.drain(usize::MAX).is_empty(),
        "an outcome is drained once"
    );
    assert_eq!(pool.stats().settling, 2);

    assert_eq!(
        pool.task_args(t1).unwrap().as_bytes(),
        b"a",
        "arguments stay available until the decision"
    );
    pool.settle(vec![
        (t1, Decision::Completed),
        (t2, Decision::DiscardedResult),
    ])
    .unwrap();
    assert!(pool.task_args(t1).is_none());
    let stats = pool.stats();
    assert_eq!(
        (stats.completed, stats.discarded_results, stats.settling),
        (1, 1, 0)
    );
    assert_eq!(
        pool.settle(vec![(t1, Decision::Completed)])
            .unwrap_err()
            .code(),
        ErrorCode::UnknownId
    );
    pool.audit().unwrap();
}

#[test]
fn counts_discarded_arguments_as_submitted() {
    let pool = started(Config::default());
    pool.submit(vec![Payload::new(b"kept")], 3).unwrap();
    let stats = pool.stats();
    assert_eq!(
        (stats.submitted, stats.accepted, stats.discarded_args),
        (3, 1, 2)
    );
    assert!(stats.is_consistent());
}

#[test]
fn drops_an_outcome_from_a_worker_that_does_not_run_the_task() {
    let pool = started(Config::default());
    let w1 = pool.register_worker(0).unwrap();
    let w2 = pool.register_worker(1).unwrap();
    submit(&pool, &["a"]);
    let (t, _) = take(&pool, w1, None).unwrap();
    assert!(take(&pool, w2, ok(t, "forged")).is_none());
    assert!(pool.drain(usize::MAX).is_empty());
    assert_eq!(pool.stats().running, 1);
    take(&pool, w1, ok(t, "real"));
    assert_eq!(
        pool.drain(usize::MAX)[0].outcome,
        Outcome::Value(b"real".to_vec())
    );
}

#[test]
fn a_worker_exit_fails_its_task_with_the_arguments_and_spares_the_queue() {
    let pool = started(Config::default());
    let w = pool.register_worker(3).unwrap();
    submit(&pool, &["crash", "later"]);
    let (t, _) = take(&pool, w, None).unwrap();
    let exit = ExitInfo {
        code: None,
        signal: Some("SIGKILL".into()),
    };
    pool.worker_exited(w, exit.clone());
    let d = pool.drain(usize::MAX);
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].task, d[0].worker_slot), (t, 3));
    assert_eq!(d[0].outcome, Outcome::WorkerExited(exit));
    assert_eq!(d[0].args.as_ref().unwrap().as_bytes(), b"crash");
    assert_eq!(pool.stats().pending, 1, "queued tasks are untouched");
    assert!(matches!(pool.next(w, ok(t, "late"), NO_WAIT), Step::Retire));
    assert_eq!(
        pool.stats().settling,
        1,
        "the dead worker's late outcome is dropped"
    );
    pool.audit().unwrap();
}

#[test]
fn a_retry_runs_again_with_new_arguments_up_to_the_limit() {
    let pool = started(Config {
        max_retries: Some(1),
        ..Config::default()
    });
    let w = pool.register_worker(0).unwrap();
    let t = submit(&pool, &["v1"])[0];
    take(&pool, w, None).unwrap();
    take(&pool, w, thrown(t));
    let d = pool.drain(usize::MAX).pop().unwrap();
    assert_eq!((d.attempt, d.can_retry), (0, true));
    assert_eq!(
        pool.settle(vec![(t, Decision::Retry(Payload::new(b"v2")))])
            .unwrap(),
        1
    );

    let (again, args) = take(&pool, w, None).unwrap();
    assert_eq!(
        (again, args.as_str()),
        (t, "v2"),
        "the same task, with the new arguments"
    );
    take(&pool, w, thrown(t));
    let d = pool.drain(usize::MAX).pop().unwrap();
    assert_eq!((d.attempt, d.can_retry), (1, false));
    let err = pool
        .settle(vec![(t, Decision::Retry(Payload::new(b"v3")))])
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::RetryLimit);
    let stats = pool.stats();
    assert_eq!((stats.retried, stats.failed, stats.pending), (1, 1, 0));
    pool.audit().unwrap();
}

#[test]
fn a_graceful_stop_returns_queued_arguments_and_lets_running_tasks_finish() {
    let pool = started(Config::default());
    let w = pool.register_worker(0).unwrap();
    submit(&pool, &["running", "queued1", "queued2"]);
    let (t, _) = take(&pool, w, None).unwrap();
    pool.stop(false);
    let unprocessed: Vec<_> = pool
        .take_unprocessed()
        .iter()
        .map(|(_, p)| p.as_bytes().to_vec())
        .collect();
    assert_eq!(unprocessed, vec![b"queued1".to_vec(), b"queued2".to_vec()]);
    assert!(matches!(pool.next(w, thrown(t), NO_WAIT), Step::Retire));
    let d = pool.drain(usize::MAX).pop().unwrap();
    // A retry decided while stopping can never run: its arguments come back as unprocessed.
    pool.settle(vec![(d.task, Decision::Retry(Payload::new(b"retry")))])
        .unwrap();
    assert_eq!(pool.take_unprocessed()[0].1.as_bytes(), b"retry");
    pool.worker_exited(w, ExitInfo::default());
    pool.close();
    let stats = pool.stats();
    assert_eq!((stats.cancelled, stats.running, stats.pending), (3, 0, 0));
    pool.audit().unwrap();
}

#[test]
fn a_forced_stop_cancels_running_tasks_and_drops_their_late_outcomes() {
    let pool = started(Config::default());
    let w = pool.register_worker(0).unwrap();
    submit(&pool, &["running", "queued"]);
    let (t, _) = take(&pool, w, None).unwrap();
    pool.stop(false);
    pool.stop(true); // escalates
    let unprocessed = pool.take_unprocessed();
    assert_eq!(unprocessed.len(), 2);
    assert!(unprocessed.iter().any(|(id, _)| *id == t));
    assert!(matches!(pool.next(w, ok(t, "late"), NO_WAIT), Step::Retire));
    assert!(
        pool.drain(usize::MAX).is_empty(),
        "no late result for a cancelled task"
    );
    pool.audit().unwrap();
}

#[test]
fn close_cancels_what_workers_still_hold() {
    let pool = started(Config::default());
    let w = pool.register_worker(0).unwrap();
    submit(&pool, &["held"]);
    take(&pool, w, None).unwrap();
    pool.close();
    assert_eq!(pool.take_unprocessed().len(), 1);
    assert_eq!(pool.worker_count(), 0);
    pool.audit().unwrap();
}

#[test]
fn the_producer_is_notified_once_per_drain() {
    let pool = started(Config::default());
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    pool.set_notifier(Some(Arc::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    })));
    let w = pool.register_worker(0).unwrap();
    submit(&pool, &["a", "b", "c"]);
    let (t1, _) = take(&pool, w, None).unwrap();
    let (t2, _) = take(&pool, w, ok(t1, "1")).unwrap();
    let (t3, _) = take(&pool, w, ok(t2, "2")).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(pool.drain(1).len(), 1);
    take(&pool, w, ok(t3, "3"));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "outcomes are still waiting: no second call"
    );
    assert_eq!(pool.drain(usize::MAX).len(), 2);
    let w2 = pool.register_worker(1).unwrap();
    submit(&pool, &["d"]);
    let (t4, _) = take(&pool, w2, None).unwrap();
    take(&pool, w2, ok(t4, "4"));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn a_bounded_queue_refuses_what_does_not_fit() {
    let pool = started(Config {
        max_queue: Some(2),
        ..Config::default()
    });
    submit(&pool, &["a", "b"]);
    let err = pool.submit(vec![Payload::new(b"c")], 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::QueueFull);
    assert_eq!(pool.stats().accepted, 2);
}

#[test]
fn an_idle_worker_waits_for_work_and_wakes_when_it_arrives() {
    let pool = Arc::new(started(Config::default()));
    let w = pool.register_worker(0).unwrap();
    assert!(matches!(
        pool.next(w, None, Duration::from_millis(20)),
        Step::Idle
    ));
    let waiter = {
        let pool = Arc::clone(&pool);
        thread::spawn(move || pool.next(w, None, Duration::from_secs(30)))
    };
    while pool.stats().pending == 0 {
        submit(&pool, &["wake"]);
    }
    match waiter.join().unwrap() {
        Step::Task { args, .. } => assert_eq!(args.as_bytes(), b"wake"),
        other => panic!("expected a task, got {other:?}"),
    }
}

#[test]
fn a_retired_worker_is_released_from_its_wait() {
    let pool = Arc::new(started(Config::default()));
    let w = pool.register_worker(0).unwrap();
    let waiter = {
        let pool = Arc::clone(&pool);
        thread::spawn(move || pool.next(w, None, Duration::from_secs(30)))
    };
    assert!(pool.retire_worker(w));
    assert!(matches!(waiter.join().unwrap(), Step::Retire));
}

#[test]
fn running_tasks_report_their_worker_slot_and_start() {
    let pool = started(Config::default());
    let w = pool.register_worker(5).unwrap();
    submit(&pool, &["slow"]);
    let (t, _) = take(&pool, w, None).unwrap();
    let running = pool.running_tasks();
    assert_eq!(running.len(), 1);
    assert_eq!(
        (running[0].task, running[0].worker, running[0].slot),
        (t, w, 5)
    );
    assert_eq!(running[0].args.as_bytes(), b"slow");
}

#[test]
fn reporting_an_outcome_and_taking_the_next_task_is_one_step() {
    let pool = Arc::new(started(Config::default()));
    let w = pool.register_worker(0).unwrap();
    submit(&pool, &["a", "b"]);
    let (t1, _) = take(&pool, w, None).unwrap();
    let observer = Arc::clone(&pool);
    // The notifier runs right after the outcome is recorded: the next task must already be taken.
    pool.set_notifier(Some(Arc::new(move || {
        let s = observer.stats();
        assert_eq!((s.pending, s.running, s.settling), (0, 1, 1), "{s:?}");
    })));
    let (t2, _) = take(&pool, w, ok(t1, "A")).unwrap();
    assert_ne!(t1, t2);
}

#[test]
fn a_producer_waiting_for_room_is_notified_when_a_worker_makes_some() {
    let pool = started(Config {
        max_queue: Some(2),
        ..Config::default()
    });
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    pool.set_notifier(Some(Arc::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    })));
    let w = pool.register_worker(0).unwrap();
    assert_eq!(pool.want_room(), 2);
    submit(&pool, &["a", "b"]);
    assert_eq!(pool.want_room(), 0, "full: the producer will wait");
    take(&pool, w, None).unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "a worker made room: the producer is told"
    );
    assert_eq!(pool.room(), 1);
    assert!(
        pool.drain(usize::MAX).is_empty(),
        "room is a wake-up, not an outcome"
    );
    let w2 = pool.register_worker(1).unwrap();
    take(&pool, w2, None).unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "nobody asked again: no second notification"
    );
}

#[test]
fn attachments_travel_with_a_task_and_released_pins_reach_the_producer() {
    use qdmp_core::Attachment;
    let pool = started(Config::default());
    let w = pool.register_worker(0).unwrap();
    let attachment = Attachment {
        addr: 0x1000,
        len: 64,
        pin: 7,
    };
    pool.submit_attached(vec![(Payload::new(b"moved"), vec![attachment])], 1)
        .unwrap();
    match pool.next(w, None, NO_WAIT) {
        Step::Task { attachments, .. } => assert_eq!(attachments, vec![attachment]),
        other => panic!("expected a task, got {other:?}"),
    }
    pool.release_pin(7);
    assert_eq!(pool.exchange(Vec::new(), 0).released_pins, vec![7]);
    assert!(
        pool.exchange(Vec::new(), 0).released_pins.is_empty(),
        "each release is handed over once"
    );
}
