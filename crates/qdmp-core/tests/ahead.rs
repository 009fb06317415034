//! Tasks held ahead by workers that pay a round trip per task (child processes): when they are
//! handed out, when they start, and where they go when their worker cannot run them.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::CountingKill;
use qdmp_core::{
    Cancellation, Config, ExitInfo, Finished, Outcome, Payload, Pool, Step, TaskId, Terminator,
    WorkerId,
};

fn started() -> Arc<Pool> {
    let pool = Arc::new(Pool::new(Config::default()));
    pool.start().unwrap();
    pool
}

/// A started engine with two workers, slots 0 and 1.
fn two_workers() -> (Arc<Pool>, WorkerId, WorkerId) {
    let pool = started();
    let a = pool.register_worker(0).unwrap();
    let b = pool.register_worker(1).unwrap();
    (pool, a, b)
}

/// `worker` exits with code 1.
fn crash(pool: &Pool, worker: WorkerId) {
    pool.worker_exited(
        worker,
        ExitInfo {
            code: Some(1),
            signal: None,
        },
    );
}

/// The ids of the tasks handed back as unprocessed since the last call.
fn unprocessed_ids(pool: &Pool) -> Vec<TaskId> {
    pool.take_unprocessed()
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

fn submit(pool: &Pool, count: usize) -> Vec<TaskId> {
    let args = (0..count)
        .map(|i| Payload::new(i.to_string().as_bytes()))
        .collect();
    pool.submit(args, count as u64).unwrap().collect()
}

fn ok(task: TaskId) -> Option<Finished> {
    Some(Finished {
        task,
        outcome: Outcome::Value(b"ok".to_vec()),
    })
}

/// Takes a task for `worker` (reporting `finished`) and returns it with the ids handed ahead.
fn take(pool: &Pool, worker: WorkerId, finished: Option<Finished>) -> (TaskId, Vec<TaskId>) {
    match pool.next_holding(worker, finished, Duration::ZERO) {
        (Step::Task { id, .. }, held) => (id, held.into_iter().map(|(id, _)| id).collect()),
        (other, _) => panic!("expected a task, got {other:?}"),
    }
}

/// Worker `worker` reports `finished` and takes a task the way a worker thread does (holding
/// none), returning its id.
fn take_plain(pool: &Pool, worker: WorkerId, finished: Option<Finished>) -> TaskId {
    match pool.next(worker, finished, Duration::ZERO) {
        Step::Task { id, .. } => id,
        other => panic!("expected a task, got {other:?}"),
    }
}

/// A worker that has run one short task, and now runs its second with others held ahead.
fn holding(pool: &Pool, worker: WorkerId) -> (TaskId, Vec<TaskId>) {
    let (first, held) = take(pool, worker, None);
    assert!(
        held.is_empty(),
        "nothing is held before the worker's speed is known"
    );
    take(pool, worker, ok(first))
}

#[test]
fn a_worker_running_short_tasks_holds_the_next_ones_and_starts_them_in_order() {
    let (pool, a, _b) = two_workers();
    let ids = submit(&pool, 40);
    let (running, held) = holding(&pool, a);
    assert_eq!(running, ids[1]);
    assert!(!held.is_empty() && held.len() <= 16, "held {held:?}");
    assert_eq!(held, ids[2..2 + held.len()], "held in queue order");
    let stats = pool.stats();
    assert_eq!(
        stats.running,
        1 + held.len() as u64,
        "held tasks count as handed out"
    );
    assert_eq!(stats.pending, 40 - 2 - held.len() as u64);
    pool.audit().unwrap();

    let before = Instant::now();
    let (started, more) = pool.start_held(a, ok(running));
    assert_eq!(started, Some(held[0]));
    let running_now = pool.running_tasks();
    assert_eq!(
        running_now.len(),
        1,
        "a held task is not running until started"
    );
    assert_eq!(running_now[0].task, held[0]);
    assert!(
        running_now[0].since >= before,
        "its time starts when it starts"
    );
    assert!(more.iter().all(|(id, _)| !held.contains(id)), "held once");
    pool.audit().unwrap();
    assert_eq!(pool.drain(usize::MAX).len(), 2);
}

#[test]
fn nothing_is_held_when_the_queue_is_shallow_or_the_tasks_are_slow() {
    let (pool, a, _b) = two_workers();
    submit(&pool, 3);
    let (_, held) = holding(&pool, a);
    assert!(
        held.is_empty(),
        "one task left for the other worker: it is not taken from it"
    );

    let pool = started();
    let a = pool.register_worker(0).unwrap();
    submit(&pool, 40);
    let (first, _) = take(&pool, a, None);
    thread::sleep(Duration::from_millis(3));
    let (_, held) = take(&pool, a, ok(first));
    assert!(
        held.is_empty(),
        "a worker whose tasks take milliseconds holds none"
    );
    pool.audit().unwrap();
}

#[test]
fn when_a_holding_worker_dies_its_task_fails_and_the_held_ones_go_back_first_in_line() {
    let (pool, a, b) = two_workers();
    submit(&pool, 40);
    let (running, held) = holding(&pool, a);
    crash(&pool, a);
    pool.audit().unwrap();
    let delivered = pool.drain(usize::MAX);
    let died = delivered.iter().find(|d| d.task == running).unwrap();
    assert!(matches!(died.outcome, Outcome::WorkerExited(_)));
    let mut last = None;
    for &id in &held {
        let got = take_plain(&pool, b, last.and_then(ok));
        assert_eq!(
            got, id,
            "held tasks run next, in their order, on another worker"
        );
        last = Some(got);
        pool.audit().unwrap();
    }
    assert!(
        pool.drain(usize::MAX).iter().all(|d| d.attempt == 0),
        "no attempt counted for tasks that never started"
    );
}

#[test]
fn an_interrupted_worker_gives_back_the_tasks_it_had_not_started() {
    let (pool, a, _b) = two_workers();
    submit(&pool, 40);
    let kills = Arc::new(CountingKill::new());
    pool.set_terminator(a, Terminator(kills.clone()));
    let (running, held) = holding(&pool, a);
    assert!(!held.is_empty());
    thread::sleep(Duration::from_millis(30));
    assert_eq!(pool.interrupt_older_than(Duration::from_millis(20)), 1);
    assert_eq!(kills.count(), 1);
    let timed_out: Vec<_> = pool
        .drain(usize::MAX)
        .into_iter()
        .filter(|d| matches!(d.outcome, Outcome::TimedOut { .. }))
        .collect();
    assert_eq!(timed_out.len(), 1, "only the started task timed out");
    assert_eq!(timed_out[0].task, running);
    assert_eq!(pool.stats().running, 0, "the held tasks were taken back");
    assert_eq!(pool.start_held(a, None).0, None);
    pool.audit().unwrap();
}

#[test]
fn cancelling_a_held_task_ends_its_worker_and_requeues_the_task_it_was_running() {
    let (pool, a, b) = two_workers();
    let kills = Arc::new(CountingKill::new());
    pool.set_terminator(a, Terminator(kills.clone()));
    submit(&pool, 40);
    let (running, held) = holding(&pool, a);
    assert!(matches!(
        pool.cancel(&[held[0]], false)[0],
        Cancellation::Busy
    ));
    assert!(matches!(
        pool.cancel(&[held[0]], true)[0],
        Cancellation::Running { slot: 0, .. }
    ));
    assert_eq!(kills.count(), 1);
    pool.audit().unwrap();
    assert_eq!(pool.stats().cancelled, 1);
    let mut last = take_plain(&pool, b, None);
    assert_eq!(last, running, "the interrupted task runs again, first");
    let mut rest = Vec::new();
    for _ in 1..held.len() {
        last = take_plain(&pool, b, ok(last));
        rest.push(last);
    }
    assert_eq!(rest, held[1..], "then the other held ones");
    assert!(
        pool.drain(usize::MAX).iter().all(|d| d.task != held[0]),
        "the cancelled one never ends"
    );
}

#[test]
fn a_graceful_stop_lets_held_tasks_run_and_a_forced_one_cancels_them() {
    let (pool, a, _b) = two_workers();
    submit(&pool, 40);
    let (running, held) = holding(&pool, a);
    pool.stop(false);
    let (started, more) = pool.start_held(a, ok(running));
    assert_eq!(
        started,
        Some(held[0]),
        "a held task still starts while stopping"
    );
    assert!(more.is_empty(), "nothing more is handed out while stopping");
    pool.audit().unwrap();
    pool.stop(true);
    let unprocessed: Vec<TaskId> = unprocessed_ids(&pool);
    for id in &held {
        assert!(
            unprocessed.contains(id),
            "held task {id} is handed back by the forced stop"
        );
    }
    pool.audit().unwrap();
    assert_eq!(pool.stats().running, 0);
}

#[test]
fn a_worker_holds_at_most_4_kib_of_arguments_and_never_a_larger_task() {
    let (pool, a, _b) = two_workers();
    let kib = vec![7u8; 1000];
    pool.submit((0..40).map(|_| Payload::new(&kib)).collect(), 40)
        .unwrap();
    let (_, held) = holding(&pool, a);
    assert_eq!(held.len(), 4, "4 KiB of 1,000-byte arguments");

    let (pool, a, _b) = two_workers();
    let large = vec![7u8; 5000];
    pool.submit((0..40).map(|_| Payload::new(&large)).collect(), 40)
        .unwrap();
    let (_, held) = holding(&pool, a);
    assert!(
        held.is_empty(),
        "a task with 5,000 bytes of arguments is never held"
    );
    pool.audit().unwrap();
}

#[test]
fn tasks_held_during_a_graceful_stop_are_handed_back_when_their_worker_leaves_or_is_interrupted() {
    // The worker exits.
    let (pool, a, _b) = two_workers();
    submit(&pool, 40);
    let (_, held) = holding(&pool, a);
    pool.stop(false);
    let queued_back: Vec<TaskId> = unprocessed_ids(&pool);
    crash(&pool, a);
    pool.audit().unwrap();
    let handed_back: Vec<TaskId> = unprocessed_ids(&pool);
    assert_eq!(
        handed_back, held,
        "the held tasks, which no worker will take now"
    );
    assert!(held.iter().all(|id| !queued_back.contains(id)));
    assert_eq!(pool.stats().pending, 0);

    // Its task is interrupted.
    let (pool, a, _b) = two_workers();
    submit(&pool, 40);
    let (_, held) = holding(&pool, a);
    pool.stop(false);
    pool.take_unprocessed();
    thread::sleep(Duration::from_millis(5));
    assert_eq!(pool.interrupt_older_than(Duration::from_millis(1)), 1);
    pool.audit().unwrap();
    let handed_back: Vec<TaskId> = unprocessed_ids(&pool);
    assert_eq!(handed_back, held);
    pool.close();
    pool.audit().unwrap();
    let stats = pool.stats();
    assert_eq!(stats.pending + stats.running, 0, "{stats:?}");
}

#[test]
fn room_made_by_handing_tasks_ahead_wakes_a_producer_that_waits_for_it() {
    let pool = Arc::new(Pool::new(Config {
        max_queue: Some(20),
        ..Config::default()
    }));
    pool.start().unwrap();
    let a = pool.register_worker(0).unwrap();
    submit(&pool, 20);
    let (first, _) = take(&pool, a, None);
    submit(&pool, 1);
    assert_eq!(pool.want_room(), 0, "the queue is full again");
    let rings = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&rings);
    let producer = Arc::downgrade(&pool);
    // A producer woken for room takes it at once, fills the queue and waits for room again: the
    // tasks then handed ahead make room that it must hear of too.
    pool.set_notifier(Some(Arc::new(move || {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            let pool = producer.upgrade().unwrap();
            let room = pool.exchange(Vec::new(), usize::MAX).room;
            submit(&pool, room);
            assert_eq!(pool.want_room(), 0);
        }
    })));
    let (_, held) = take(&pool, a, ok(first));
    assert!(!held.is_empty());
    assert!(pool.room() > 0);
    assert_eq!(
        rings.load(Ordering::SeqCst),
        2,
        "woken again for the room holding made"
    );
    pool.set_notifier(None);
}
