//! The shapes in which batches cross to JavaScript: one buffer of bytes plus typed arrays of
//! offsets, ids and kinds, so that one call moves many tasks or outcomes.

use napi::bindgen_prelude::{Buffer, Float64Array, Uint32Array, Uint8Array};
use napi_derive::napi;
use qdmp_core::{Delivery, ExitInfo, Outcome, Payload, Stats};

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
    /// No worker could start to run it; no bytes.
    Abandoned = 4,
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

/// Task ids and their arguments, laid out as a [`PayloadBatch`].
pub(crate) fn payload_batch(items: Vec<(u64, Payload)>) -> PayloadBatch {
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
        Outcome::Abandoned => OutcomeKind::Abandoned,
        Outcome::TimedOut { limit } => {
            data.extend_from_slice(
                format!("{{\"limitMs\":{}}}", limit.as_secs_f64() * 1e3).as_bytes(),
            );
            OutcomeKind::TimedOut
        }
    }
}

/// Drained outcomes, laid out as [`Deliveries`].
pub(crate) fn deliveries(batch: Vec<Delivery>) -> Deliveries {
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
    Deliveries {
        ids: ids.into(),
        attempts: attempts.into(),
        can_retry: can_retry.into(),
        slots: slots.into(),
        kinds: kinds.into(),
        data: data.into(),
        ends: ends.into(),
    }
}

/// Running tasks, laid out as [`RunningTasks`].
pub(crate) fn running_tasks(running: Vec<qdmp_core::RunningTask>) -> RunningTasks {
    let now = std::time::Instant::now();
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
