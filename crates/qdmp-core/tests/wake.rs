//! When the producer is woken: at once for what needs it, in batches while the queue is deep.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use qdmp_core::{Config, Finished, Outcome, Payload, Pool, Step, TaskId, WorkerId};

fn started(config: Config) -> (Arc<Pool>, Arc<AtomicUsize>) {
    let pool = Arc::new(Pool::new(config));
    pool.start().unwrap();
    let rings = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&rings);
    pool.set_notifier(Some(Arc::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    })));
    (pool, rings)
}

fn submit(pool: &Pool, count: usize) {
    let args = (0..count).map(|i| Payload::new(&[i as u8])).collect();
    pool.submit(args, count as u64).unwrap();
}

fn take(pool: &Pool, worker: WorkerId, finished: Option<TaskId>) -> TaskId {
    let finished = finished.map(|task| Finished {
        task,
        outcome: Outcome::Value(b"ok".to_vec()),
    });
    match pool.next(worker, finished, Duration::ZERO) {
        Step::Task { id, .. } => id,
        other => panic!("expected a task, got {other:?}"),
    }
}

/// Waits (at most a second after `since`) for the timer to deliver a deferred wake-up.
fn wait_for_deferred_wake_up(rings: &AtomicUsize, since: Instant) {
    while rings.load(Ordering::SeqCst) == 0 {
        assert!(
            since.elapsed() < Duration::from_secs(1),
            "the deferred wake-up never came"
        );
        thread::sleep(Duration::from_micros(200));
    }
}

#[test]
fn outcomes_share_a_wake_up_while_the_queue_is_deep_and_it_comes_within_the_deferral() {
    let (pool, rings) = started(Config::default());
    let worker = pool.register_worker(0).unwrap();
    submit(&pool, 20);
    let first = take(&pool, worker, None);
    let reported = Instant::now();
    let second = take(&pool, worker, Some(first));
    take(&pool, worker, Some(second));
    assert_eq!(rings.load(Ordering::SeqCst), 0, "not woken per outcome");
    wait_for_deferred_wake_up(&rings, reported);
    assert_eq!(rings.load(Ordering::SeqCst), 1, "one wake-up for both");
    assert!(
        reported.elapsed() >= Duration::from_millis(10),
        "deferred, by the deferral (10 ms)"
    );
    assert_eq!(pool.drain(usize::MAX).len(), 2);
}

#[test]
fn an_outcome_long_after_the_last_wakes_the_producer_at_once_though_the_queue_is_deep() {
    let (pool, rings) = started(Config::default());
    let worker = pool.register_worker(0).unwrap();
    submit(&pool, 20);
    let first = take(&pool, worker, None);
    let second = take(&pool, worker, Some(first));
    assert_eq!(rings.load(Ordering::SeqCst), 0, "the first outcome waits");
    let reported = Instant::now();
    wait_for_deferred_wake_up(&rings, reported);
    assert_eq!(pool.drain(usize::MAX).len(), 1);
    // A task slower than the deferral: nothing would share its outcome's wake-up.
    thread::sleep(Duration::from_millis(11).saturating_sub(reported.elapsed()));
    take(&pool, worker, Some(second));
    assert_eq!(
        rings.load(Ordering::SeqCst),
        2,
        "woken in the worker's own call, not held back"
    );
}

#[test]
fn an_outcome_wakes_the_producer_at_once_when_few_tasks_are_queued() {
    let (pool, rings) = started(Config::default());
    let worker = pool.register_worker(0).unwrap();
    submit(&pool, 3);
    let first = take(&pool, worker, None);
    take(&pool, worker, Some(first));
    assert_eq!(
        rings.load(Ordering::SeqCst),
        1,
        "woken in the worker's own call"
    );
}

#[test]
fn room_in_the_bounded_queue_wakes_the_producer_at_once() {
    let (pool, rings) = started(Config {
        max_queue: Some(20),
        ..Config::default()
    });
    let worker = pool.register_worker(0).unwrap();
    submit(&pool, 20);
    assert_eq!(pool.want_room(), 0);
    take(&pool, worker, None);
    assert_eq!(
        rings.load(Ordering::SeqCst),
        1,
        "room opened: woken at once"
    );
}
