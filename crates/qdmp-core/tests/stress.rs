//! Many threads at once: no task is lost or settled twice, whatever the workers do.
//!
//! Worker threads pull tasks and, by a fixed pseudo-random plan per argument, return a value, throw
//! (the producer retries with new arguments), "crash" (the worker reports its own exit and comes
//! back as a new instance), or "hang" past the task time limit (the watchdog times the task out;
//! the frozen worker's late result must be dropped, and it comes back as a new instance). A producer thread submits in batches while a collector thread
//! drains on notification and settles. At the end every original argument must be accounted for
//! exactly once: completed, failed, or handed back by `stop`.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use qdmp_core::{Config, Decision, ExitInfo, Finished, Outcome, Payload, Pool, Step};

/// Arguments are `"<index>:<attempt>"`; the plan depends only on them, so runs are reproducible.
fn plan(index: u64, attempt: u64) -> u64 {
    let mut x =
        index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ attempt.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    x ^= x >> 29;
    x % 1000
}

const TIME_LIMIT: Duration = Duration::from_millis(20);

fn parse(bytes: &[u8]) -> (u64, u64) {
    let text = std::str::from_utf8(bytes).unwrap();
    let (i, a) = text.split_once(':').unwrap();
    (i.parse().unwrap(), a.parse().unwrap())
}

#[derive(Default)]
struct Signal {
    ready: Mutex<bool>,
    cv: Condvar,
}

impl Signal {
    fn set(&self) {
        *self.ready.lock().unwrap() = true;
        self.cv.notify_all();
    }
    fn wait(&self) {
        let mut ready = self.ready.lock().unwrap();
        while !*ready {
            ready = self
                .cv
                .wait_timeout(ready, Duration::from_millis(5))
                .unwrap()
                .0;
        }
        *ready = false;
    }
}

fn worker_loop(pool: Arc<Pool>, slot: u32) {
    let mut me = pool.register_worker(slot).unwrap();
    let mut finished = None;
    loop {
        match pool.next(me, finished.take(), Duration::from_millis(2)) {
            // Retired: after a stop, exit; after a time-out, come back as a new instance, as a
            // replacement worker would.
            Step::Retire => match pool.register_worker(slot) {
                Ok(id) => me = id,
                Err(_) => return,
            },
            Step::Idle => continue,
            Step::Task { id, args, .. } => {
                let (index, attempt) = parse(args.as_bytes());
                let value = Some(Finished {
                    task: id,
                    outcome: Outcome::Value(args.as_bytes().to_vec()),
                });
                match plan(index, attempt) {
                    0..=1 => {
                        // Hang past the limit, then report as if nothing happened.
                        thread::sleep(TIME_LIMIT * 3);
                        finished = value;
                    }
                    2..=49 => {
                        // Crash mid-task: the engine must fail the task, and the replacement is a
                        // new instance whose calls never touch the old one's task.
                        pool.worker_exited(
                            me,
                            ExitInfo {
                                code: Some(1),
                                signal: None,
                            },
                        );
                        me = match pool.register_worker(slot) {
                            Ok(id) => id,
                            Err(_) => return, // stopping: no replacement
                        };
                    }
                    50..=149 => {
                        finished = Some(Finished {
                            task: id,
                            outcome: Outcome::Thrown(args.as_bytes().to_vec()),
                        })
                    }
                    _ => finished = value,
                }
            }
        }
    }
}

#[derive(Default)]
struct Ledger {
    /// index -> how it ended: 'c' completed, 'f' failed, 'u' unprocessed.
    ended: HashMap<u64, char>,
    /// Attempts the watchdog timed out.
    timeouts: u64,
}

impl Ledger {
    fn end(&mut self, index: u64, how: char) {
        if let Some(before) = self.ended.insert(index, how) {
            panic!("argument {index} ended twice: {before} then {how}");
        }
    }
}

fn collect(pool: &Pool, ledger: &Mutex<Ledger>) {
    // This producer has no threads to terminate: frozen workers come back by themselves here.
    pool.take_terminations();
    loop {
        let batch = pool.drain(64);
        if batch.is_empty() {
            return;
        }
        let mut decisions = Vec::new();
        let mut ledger = ledger.lock().unwrap();
        for d in batch {
            match d.outcome {
                Outcome::Value(bytes) => {
                    ledger.end(parse(&bytes).0, 'c');
                    decisions.push((d.task, Decision::Completed));
                }
                failure => {
                    if matches!(failure, Outcome::TimedOut { .. }) {
                        ledger.timeouts += 1;
                    }
                    let (index, attempt) = parse(d.args.as_ref().unwrap().as_bytes());
                    if d.can_retry {
                        let next = format!("{index}:{}", attempt + 1);
                        decisions.push((d.task, Decision::Retry(Payload::new(next.as_bytes()))));
                    } else {
                        ledger.end(index, 'f');
                        decisions.push((d.task, Decision::Failed));
                    }
                }
            }
        }
        drop(ledger);
        pool.settle(decisions).unwrap();
    }
}

fn run(total: u64, workers: u32, stop_after: Option<u64>, force: bool) {
    let pool = Arc::new(Pool::new(Config {
        max_retries: Some(2),
        ..Config::default()
    }));
    let signal = Arc::new(Signal::default());
    let notified = Arc::clone(&signal);
    pool.set_notifier(Some(Arc::new(move || notified.set())));
    pool.start().unwrap();

    let threads: Vec<_> = (0..workers)
        .map(|slot| {
            let pool = Arc::clone(&pool);
            thread::spawn(move || worker_loop(pool, slot))
        })
        .collect();

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let done_submitting = Arc::new(AtomicBool::new(false));
    let collector = {
        let (pool, ledger, signal, done) = (
            Arc::clone(&pool),
            Arc::clone(&ledger),
            Arc::clone(&signal),
            Arc::clone(&done_submitting),
        );
        thread::spawn(move || loop {
            signal.wait();
            collect(&pool, &ledger);
            pool.audit().unwrap();
            let s = pool.stats();
            if done.load(Ordering::SeqCst) && s.pending + s.running + s.settling == 0 {
                return;
            }
        })
    };

    let submit_upto = stop_after.unwrap_or(total);
    let mut next = 0;
    while next < submit_upto {
        let end = (next + 97).min(submit_upto);
        let args: Vec<_> = (next..end)
            .map(|i| Payload::new(format!("{i}:0").as_bytes()))
            .collect();
        pool.submit(args, end - next).unwrap();
        next = end;
    }
    if stop_after.is_some() {
        pool.stop(force);
        for (_, args) in pool.take_unprocessed() {
            ledger.lock().unwrap().end(parse(args.as_bytes()).0, 'u');
        }
    }
    done_submitting.store(true, Ordering::SeqCst);
    signal.set();
    collector.join().unwrap();
    pool.stop(false);
    for t in threads {
        t.join().unwrap();
    }
    collect(&pool, &ledger);
    pool.close();
    for (_, args) in pool.take_unprocessed() {
        ledger.lock().unwrap().end(parse(args.as_bytes()).0, 'u');
    }
    pool.audit().unwrap();

    let ledger = ledger.lock().unwrap();
    let expected = stop_after.unwrap_or(total);
    for index in 0..expected {
        assert!(
            ledger.ended.contains_key(&index),
            "argument {index} was lost"
        );
    }
    assert_eq!(ledger.ended.len() as u64, expected);
    let stats = pool.stats();
    assert!(stats.is_consistent(), "{stats:?}");
    assert_eq!(stats.accepted, expected);
    assert_eq!(
        stats.completed + stats.failed + stats.cancelled,
        expected,
        "{stats:?}"
    );
    let count = |c| ledger.ended.values().filter(|&&v| v == c).count() as u64;
    assert_eq!(
        (count('c'), count('f'), count('u')),
        (stats.completed, stats.failed, stats.cancelled)
    );
    if stop_after.is_some() {
        assert!(
            stats.cancelled > 0,
            "the stop came too late to hand anything back: {stats:?}"
        );
    }
}

#[test]
fn every_task_settles_exactly_once_under_concurrency() {
    run(40_000, 6, None, false);
}

#[test]
fn a_graceful_stop_mid_stream_hands_back_the_rest() {
    run(20_000, 4, Some(20_000), false);
}

#[test]
fn a_forced_stop_mid_stream_loses_nothing() {
    run(20_000, 4, Some(20_000), true);
}
