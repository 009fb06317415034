//! `NativePool`: the producer's handle on an engine. Batches cross as one buffer plus typed arrays
//! of offsets and ids, so one call moves many tasks or outcomes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use napi::bindgen_prelude::{Buffer, Float64Array, Function, Uint32Array, Uint8Array};
use napi_derive::napi;
use qdmp_core::{Config, Decision, ExitInfo, Outcome, Payload, Pool, Stats};

use crate::errors::{id_from_js, to_js, Result};
use crate::notifier::JsNotifier;
use crate::registry;

/// Engine settings.
#[napi(object)]
pub struct PoolOptions {
    /// How many times one task may be re-submitted.
    pub max_retries: Option<u32>,
    /// How many tasks may wait in the queue.
    pub max_queue: Option<u32>,
    /// How long a task may run once picked up, in milliseconds.
    pub task_timeout_ms: Option<f64>,
}

/// How an attempt ended, in [`Deliveries::kinds`].
#[napi]
pub enum OutcomeKind {
    /// The bytes are the encoded result.
    Value = 0,
    /// The bytes are the encoded error record.
    Thrown = 1,
    /// The bytes are JSON `{ code, signal }`.
    WorkerExited = 2,
    /// The bytes are JSON `{ limitMs }`.
    TimedOut = 3,
}

/// The producer's verdict on a delivered outcome, in `settle`'s `decisions`.
#[napi]
pub enum DecisionKind {
    /// The result was accepted.
    Completed = 0,
    /// The result failed validation.
    DiscardedResult = 1,
    /// The failure is reported.
    Failed = 2,
    /// Run again with the next retry payload.
    Retry = 3,
}

/// Drained outcomes. Delivery `i` has its outcome bytes at `data[ends[2i-1] .. ends[2i]]` and its
/// arguments (failures only, else empty) at `data[ends[2i] .. ends[2i+1]]`, with `ends[-1] = 0`.
#[napi(object)]
pub struct Deliveries {
    pub ids: Float64Array,
    pub attempts: Uint32Array,
    /// 1 when a retry is still allowed.
    pub can_retry: Uint8Array,
    pub slots: Uint32Array,
    /// [`OutcomeKind`] values.
    pub kinds: Uint8Array,
    pub data: Buffer,
    pub ends: Uint32Array,
}

/// Task arguments: task `i`'s bytes are `data[ends[i-1] .. ends[i]]`, with `ends[-1] = 0`.
#[napi(object)]
pub struct PayloadBatch {
    pub ids: Float64Array,
    pub data: Buffer,
    pub ends: Uint32Array,
}

/// Tasks running now, with their arguments laid out as in [`PayloadBatch`].
#[napi(object)]
pub struct RunningTasks {
    pub ids: Float64Array,
    pub workers: Float64Array,
    pub slots: Uint32Array,
    /// How long each has been running, in milliseconds.
    pub running_ms: Float64Array,
    pub data: Buffer,
    pub ends: Uint32Array,
}

/// The engine's counters (see the core's `Stats`).
#[napi(object)]
pub struct EngineStats {
    pub submitted: f64,
    pub accepted: f64,
    pub discarded_args: f64,
    pub retried: f64,
    pub pending: f64,
    pub running: f64,
    pub settling: f64,
    pub completed: f64,
    pub failed: f64,
    pub discarded_results: f64,
    pub cancelled: f64,
}

impl From<Stats> for EngineStats {
    fn from(s: Stats) -> EngineStats {
        EngineStats {
            submitted: s.submitted as f64,
            accepted: s.accepted as f64,
            discarded_args: s.discarded_args as f64,
            retried: s.retried as f64,
            pending: s.pending as f64,
            running: s.running as f64,
            settling: s.settling as f64,
            completed: s.completed as f64,
            failed: s.failed as f64,
            discarded_results: s.discarded_results as f64,
            cancelled: s.cancelled as f64,
        }
    }
}

fn payload_batch(items: Vec<(u64, Payload)>) -> PayloadBatch {
    let mut ids = Vec::with_capacity(items.len());
    let mut data = Vec::new();
    let mut ends = Vec::with_capacity(items.len());
    for (id, payload) in items {
        ids.push(id as f64);
        data.extend_from_slice(payload.as_bytes());
        ends.push(data.len() as u32);
    }
    PayloadBatch {
        ids: ids.into(),
        data: data.into(),
        ends: ends.into(),
    }
}

fn outcome_bytes(outcome: Outcome, data: &mut Vec<u8>) -> OutcomeKind {
    match outcome {
        Outcome::Value(bytes) => {
            data.extend_from_slice(&bytes);
            OutcomeKind::Value
        }
        Outcome::Thrown(bytes) => {
            data.extend_from_slice(&bytes);
            OutcomeKind::Thrown
        }
        Outcome::WorkerExited(ExitInfo { code, signal }) => {
            let code = code.map_or("null".to_owned(), |c| c.to_string());
            // Signal names are short ASCII identifiers chosen by Node (`SIGKILL`), never quotes.
            let signal = signal.map_or("null".to_owned(), |s| format!("\"{s}\""));
            data.extend_from_slice(format!("{{\"code\":{code},\"signal\":{signal}}}").as_bytes());
            OutcomeKind::WorkerExited
        }
        Outcome::TimedOut { limit } => {
            data.extend_from_slice(
                format!("{{\"limitMs\":{}}}", limit.as_secs_f64() * 1e3).as_bytes(),
            );
            OutcomeKind::TimedOut
        }
    }
}

/// The producer's handle on one engine.
#[napi]
pub struct NativePool {
    pool: Arc<Pool>,
    id: u32,
}

#[napi]
impl NativePool {
    #[napi(constructor)]
    pub fn new(options: PoolOptions) -> NativePool {
        let config = Config {
            max_retries: options.max_retries,
            max_queue: options.max_queue.map(|n| n as usize),
            task_timeout: options
                .task_timeout_ms
                .map(|ms| Duration::from_secs_f64(ms / 1e3)),
        };
        let pool = Arc::new(Pool::new(config));
        let id = registry::register(&pool);
        NativePool { pool, id }
    }

    /// The number worker threads use to attach to this engine.
    #[napi(getter)]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Checks a worker count; returns it, or throws `ERR_QDMP_INVALID_WORKER_COUNT`.
    #[napi]
    pub fn check_worker_count(requested: i64) -> Result<u32> {
        Pool::check_worker_count(requested)
            .map(|n| n as u32)
            .map_err(to_js)
    }

    #[napi]
    pub fn start(&self) -> Result<()> {
        self.pool.start().map_err(to_js)
    }

    /// Sets the function called (on this thread, coalesced) when outcomes are waiting.
    #[napi]
    pub fn set_notifier(&self, callback: Option<Function<(), ()>>) -> napi::Result<()> {
        let notifier = match callback {
            Some(callback) => {
                Some(Arc::new(JsNotifier::new(callback)?) as Arc<dyn qdmp_core::Notify>)
            }
            None => None,
        };
        self.pool.set_notifier(notifier);
        Ok(())
    }

    /// Queues the tasks encoded in `data` at `ends`; `offered` also counts discarded arguments.
    /// Returns the first new task id (ids are consecutive).
    #[napi]
    pub fn submit(&self, data: &[u8], ends: &[u32], offered: u32) -> Result<f64> {
        let args = Payload::split_batch(data, ends).map_err(to_js)?;
        let ids = self.pool.submit(args, u64::from(offered)).map_err(to_js)?;
        Ok(ids.start as f64)
    }

    #[napi]
    pub fn register_worker(&self, slot: u32) -> Result<f64> {
        self.pool
            .register_worker(slot)
            .map(|id| id as f64)
            .map_err(to_js)
    }

    #[napi]
    pub fn worker_exited(
        &self,
        worker: f64,
        code: Option<i32>,
        signal: Option<String>,
    ) -> Result<()> {
        let worker = id_from_js("worker", worker)?;
        self.pool.worker_exited(worker, ExitInfo { code, signal });
        Ok(())
    }

    #[napi]
    pub fn retire_worker(&self, worker: f64) -> Result<bool> {
        Ok(self.pool.retire_worker(id_from_js("worker", worker)?))
    }

    /// Up to `max` waiting outcomes, or `null` when there are none.
    #[napi]
    pub fn drain(&self, max: u32) -> Option<Deliveries> {
        let batch = self.pool.drain(max as usize);
        if batch.is_empty() {
            return None;
        }
        let n = batch.len();
        let (mut ids, mut attempts, mut can_retry) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut slots, mut kinds, mut ends) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(2 * n),
        );
        let mut data = Vec::new();
        for d in batch {
            ids.push(d.task as f64);
            attempts.push(d.attempt);
            can_retry.push(u8::from(d.can_retry));
            slots.push(d.worker_slot);
            kinds.push(outcome_bytes(d.outcome, &mut data) as u8);
            ends.push(data.len() as u32);
            if let Some(args) = d.args {
                data.extend_from_slice(args.as_bytes());
            }
            ends.push(data.len() as u32);
        }
        Some(Deliveries {
            ids: ids.into(),
            attempts: attempts.into(),
            can_retry: can_retry.into(),
            slots: slots.into(),
            kinds: kinds.into(),
            data: data.into(),
            ends: ends.into(),
        })
    }

    /// Applies one [`DecisionKind`] per drained task; each `Retry` takes the next payload of
    /// `retry_data`/`retry_ends` in order. Returns how many tasks were queued again.
    #[napi]
    pub fn settle(
        &self,
        ids: &[f64],
        decisions: &[u8],
        retry_data: &[u8],
        retry_ends: &[u32],
    ) -> Result<u32> {
        let mut retries = Payload::split_batch(retry_data, retry_ends)
            .map_err(to_js)?
            .into_iter();
        let mut list = Vec::with_capacity(ids.len());
        for (&id, &kind) in ids.iter().zip(decisions) {
            let decision = match kind {
                0 => Decision::Completed,
                1 => Decision::DiscardedResult,
                2 => Decision::Failed,
                _ => match retries.next() {
                    Some(args) => Decision::Retry(args),
                    None => Decision::Failed,
                },
            };
            list.push((id_from_js("task", id)?, decision));
        }
        self.pool.settle(list).map(|n| n as u32).map_err(to_js)
    }

    /// Stops accepting tasks; see the core's `Pool::stop`.
    #[napi]
    pub fn stop(&self, force: bool) {
        self.pool.stop(force);
    }

    #[napi]
    pub fn close(&self) {
        self.pool.close();
    }

    #[napi]
    pub fn take_unprocessed(&self) -> PayloadBatch {
        payload_batch(self.pool.take_unprocessed())
    }

    #[napi]
    pub fn stats(&self) -> EngineStats {
        self.pool.stats().into()
    }

    /// The arguments of a task awaiting a decision (or still queued or running), or `null`.
    #[napi]
    pub fn task_args(&self, task: f64) -> Result<Option<Buffer>> {
        let task = id_from_js("task", task)?;
        Ok(self
            .pool
            .task_args(task)
            .map(|args| args.as_bytes().to_vec().into()))
    }

    #[napi]
    pub fn running_tasks(&self) -> RunningTasks {
        let now = Instant::now();
        let running = self.pool.running_tasks();
        let workers: Vec<f64> = running.iter().map(|r| r.worker as f64).collect();
        let slots: Vec<u32> = running.iter().map(|r| r.slot).collect();
        let running_ms: Vec<f64> = running
            .iter()
            .map(|r| now.saturating_duration_since(r.since).as_secs_f64() * 1e3)
            .collect();
        let batch = payload_batch(running.into_iter().map(|r| (r.task, r.args)).collect());
        RunningTasks {
            ids: batch.ids,
            workers: workers.into(),
            slots: slots.into(),
            running_ms: running_ms.into(),
            data: batch.data,
            ends: batch.ends,
        }
    }

    /// `null` when every invariant holds, else what is broken. For tests.
    #[napi]
    pub fn audit(&self) -> Option<String> {
        self.pool.audit().err()
    }
}
