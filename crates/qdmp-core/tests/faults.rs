//! Time limits, restarts, cancellation and idle exit, through the public API.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod common;

use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::CountingKill;
use qdmp_core::{
    Cancellation, Config, Departure, ExitInfo, Finished, Outcome, Payload, Pool, Step, TaskId,
    Terminator, WorkerId,
};

fn started(config: Config) -> Arc<Pool> {
    let pool = Arc::new(Pool::new(config));
    pool.start().unwrap();
    pool
}

fn submit(pool: &Pool, items: &[&str]) -> Vec<TaskId> {
    let args = items.iter().map(|s| Payload::new(s.as_bytes())).collect();
    pool.submit(args, items.len() as u64).unwrap().collect()
}

fn take(pool: &Pool, worker: WorkerId) -> TaskId {
    match pool.next(worker, None, Duration::ZERO) {
        Step::Task { id, .. } => id,
        other => panic!("expected a task, got {other:?}"),
    }
}

fn ok(task: TaskId) -> Option<Finished> {
    Some(Finished {
        task,
        outcome: Outcome::Value(b"late".to_vec()),
    })
}

/// A notifier the test can wait on.
#[derive(Default)]
struct Bell {
    rung: Mutex<usize>,
    cv: Condvar,
}

impl Bell {
    fn install(pool: &Pool) -> Arc<Bell> {
        let bell = Arc::new(Bell::default());
        let ringer = Arc::clone(&bell);
        pool.set_notifier(Some(Arc::new(move || {
            *ringer.rung.lock().unwrap() += 1;
            ringer.cv.notify_all();
        })));
        bell
    }

    fn wait(&self, timeout: Duration) -> bool {
        let rung = self.rung.lock().unwrap();
        let (rung, _) = self
            .cv
            .wait_timeout_while(rung, timeout, |r| *r == 0)
            .unwrap();
        *rung > 0
    }
}

#[test]
fn the_watchdog_times_out_a_task_counted_from_pickup_and_asks_the_producer_to_terminate_its_worker()
{
    let limit = Duration::from_millis(150);
    let pool = started(Config {
        task_timeout: Some(limit),
        ..Config::default()
    });
    let bell = Bell::install(&pool);
    let w = pool.register_worker(2).unwrap();
    let t = submit(&pool, &["hangs"])[0];
    thread::sleep(limit * 2); // queued time does not count
    let picked_up = Instant::now();
    assert_eq!(take(&pool, w), t);
    assert!(
        bell.wait(Duration::from_secs(5)),
        "the watchdog never fired"
    );
    let elapsed = picked_up.elapsed();
    assert!(
        elapsed >= limit,
        "fired after {elapsed:?}, before the limit"
    );
    assert!(elapsed < limit * 4, "fired after {elapsed:?}");

    let d = pool.drain(usize::MAX).pop().unwrap();
    assert_eq!((d.task, d.worker_slot), (t, 2));
    assert_eq!(d.outcome, Outcome::TimedOut { limit });
    assert_eq!(d.args.unwrap().as_bytes(), b"hangs");
    assert_eq!(pool.take_terminations(), vec![w]);
    assert!(matches!(pool.next(w, ok(t), Duration::ZERO), Step::Retire));
    assert!(
        pool.drain(usize::MAX).is_empty(),
        "the frozen worker's late result is dropped"
    );
    assert_eq!(
        pool.worker_exited(w, ExitInfo::default()),
        Departure::Retired
    );
    pool.audit().unwrap();
}

#[test]
fn a_worker_with_a_terminator_is_ended_by_the_engine_itself() {
    let pool = started(Config {
        task_timeout: Some(Duration::from_millis(50)),
        ..Config::default()
    });
    let bell = Bell::install(&pool);
    let kills = Arc::new(CountingKill::new());
    let w = pool.register_worker(0).unwrap();
    assert!(pool.set_terminator(w, Terminator(kills.clone())));
    submit(&pool, &["hangs"]);
    take(&pool, w);
    assert!(bell.wait(Duration::from_secs(5)));
    assert_eq!(kills.count(), 1);
    assert!(
        pool.take_terminations().is_empty(),
        "nothing left for the producer to do"
    );
}

#[test]
fn idle_workers_are_never_timed_out() {
    let pool = started(Config {
        task_timeout: Some(Duration::from_millis(20)),
        ..Config::default()
    });
    let w = pool.register_worker(0).unwrap();
    assert!(matches!(
        pool.next(w, None, Duration::from_millis(120)),
        Step::Idle
    ));
    assert!(pool.take_terminations().is_empty());
    submit(&pool, &["quick"]);
    let t = take(&pool, w);
    assert!(matches!(pool.next(w, ok(t), Duration::ZERO), Step::Idle));
    thread::sleep(Duration::from_millis(100));
    assert!(pool.take_terminations().is_empty());
    assert_eq!(
        pool.drain(usize::MAX)[0].outcome,
        Outcome::Value(b"late".to_vec())
    );
}

#[test]
fn interrupting_old_tasks_spares_young_ones_and_idle_workers() {
    let pool = started(Config::default());
    let (old, young, idle) = (
        pool.register_worker(0).unwrap(),
        pool.register_worker(1).unwrap(),
        pool.register_worker(2).unwrap(),
    );
    submit(&pool, &["old", "young"]);
    let t_old = take(&pool, old);
    thread::sleep(Duration::from_millis(80));
    take(&pool, young);
    assert_eq!(pool.interrupt_older_than(Duration::from_millis(60)), 1);
    let d = pool.drain(usize::MAX);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].task, d[0].outcome.clone()),
        (
            t_old,
            Outcome::TimedOut {
                limit: Duration::from_millis(60)
            }
        )
    );
    assert_eq!(pool.take_terminations(), vec![old]);
    assert!(matches!(pool.next(idle, None, Duration::ZERO), Step::Idle));
    assert_eq!(pool.stats().running, 1);
    pool.audit().unwrap();
}

#[test]
fn cancel_removes_queued_tasks_terminates_running_ones_and_leaves_settled_ones() {
    let pool = started(Config::default());
    let w = pool.register_worker(4).unwrap();
    let ids = submit(&pool, &["running", "queued", "done"]);
    let running = take(&pool, w);
    let w2 = pool.register_worker(5).unwrap();
    assert!(
        matches!(pool.cancel(&[running], false)[0], Cancellation::Busy),
        "left alone when asked"
    );
    let result = pool.cancel(&[ids[1], running], true);
    assert!(matches!(&result[0], Cancellation::Queued { args } if args.as_bytes() == b"queued"));
    assert!(
        matches!(&result[1], Cancellation::Running { args, slot: 4 } if args.as_bytes() == b"running")
    );
    let done = take(&pool, w2);
    assert_eq!(done, ids[2], "the cancelled queued task is skipped");
    assert!(matches!(
        pool.next(w2, ok(done), Duration::ZERO),
        Step::Idle
    ));
    let again = pool.cancel(&[done, ids[1], 999_999], true);
    assert!(matches!(again[0], Cancellation::AlreadySettled));
    assert!(
        matches!(again[1], Cancellation::Unknown),
        "a cancelled task is forgotten"
    );
    assert!(matches!(again[2], Cancellation::Unknown));

    assert_eq!(pool.take_terminations(), vec![w]);
    assert!(matches!(
        pool.next(w, ok(running), Duration::ZERO),
        Step::Retire
    ));
    let outcomes = pool.drain(usize::MAX);
    assert_eq!(outcomes.len(), 1, "no outcome for a cancelled task, ever");
    assert_eq!(outcomes[0].task, done);
    let stats = pool.stats();
    assert_eq!(
        (
            stats.cancelled,
            stats.pending,
            stats.running,
            stats.settling
        ),
        (2, 0, 0, 1)
    );
    pool.audit().unwrap();
}

#[test]
fn an_idle_worker_exits_after_idle_timeout_unless_its_clock_is_reset() {
    let idle = Duration::from_millis(120);
    let pool = started(Config {
        idle_timeout: Some(idle),
        ..Config::default()
    });
    let w = pool.register_worker(0).unwrap();
    thread::sleep(Duration::from_millis(80));
    pool.touch_workers();
    let waited = Instant::now();
    let step = pool.next(w, None, Duration::from_secs(5));
    assert!(matches!(step, Step::Retire), "{step:?}");
    assert!(
        waited.elapsed() >= Duration::from_millis(100),
        "the reset clock was ignored"
    );
    assert!(
        waited.elapsed() < Duration::from_secs(2),
        "the wait did not end at the idle deadline"
    );
    assert_eq!(
        pool.worker_exited(
            w,
            ExitInfo {
                code: Some(0),
                signal: None
            }
        ),
        Departure::Idle
    );
}

#[test]
fn a_busy_worker_does_not_exit_for_idleness() {
    let pool = started(Config {
        idle_timeout: Some(Duration::from_millis(50)),
        ..Config::default()
    });
    let w = pool.register_worker(0).unwrap();
    submit(&pool, &["a"]);
    let t = take(&pool, w);
    thread::sleep(Duration::from_millis(80)); // running longer than the idle timeout
    submit(&pool, &["b"]);
    assert!(matches!(
        pool.next(w, ok(t), Duration::ZERO),
        Step::Task { .. }
    ));
}

#[test]
fn departures_say_why_a_worker_left() {
    let pool = started(Config::default());
    let crashed = pool.register_worker(0).unwrap();
    let retired = pool.register_worker(1).unwrap();
    pool.retire_worker(retired);
    assert_eq!(
        pool.worker_exited(crashed, ExitInfo::default()),
        Departure::Unexpected
    );
    assert_eq!(
        pool.worker_exited(retired, ExitInfo::default()),
        Departure::Retired
    );
    assert_eq!(
        pool.worker_exited(retired, ExitInfo::default()),
        Departure::Unknown
    );
}

#[test]
fn abandoning_fails_every_queued_task_and_only_those() {
    let pool = started(Config::default());
    let w = pool.register_worker(0).unwrap();
    let ids = submit(&pool, &["running", "a", "b"]);
    take(&pool, w);
    assert_eq!(pool.cancel(&[ids[1]], true).len(), 1);
    assert_eq!(pool.abandon_queued(), 1);
    let d = pool.drain(usize::MAX);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].task, d[0].outcome.clone()),
        (ids[2], Outcome::Abandoned)
    );
    assert_eq!(d[0].args.as_ref().unwrap().as_bytes(), b"b");
    assert_eq!(pool.stats().running, 1, "the running task is untouched");
    pool.audit().unwrap();
}
