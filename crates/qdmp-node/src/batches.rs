//! The shapes in which batches cross to JavaScript: one buffer of bytes plus typed arrays of
//! offsets, ids and kinds, so that one call moves many tasks or outcomes.

use napi::bindgen_prelude::{Buffer, Float64Array, Uint32Array};
use napi_derive::napi;
use qdmp_core::{Exchange, ExitInfo, Outcome, Payload, Stats};

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

/// Bytes of the header of one delivery: id (f64), attempt (u32), slot (u32), outcome bytes (u32),
/// argument bytes (u32), kind (u8), can-retry (u8), 2 bytes of padding.
pub const DELIVERY_HEADER: usize = 28;

/// Bytes before the terminations in an exchange buffer.
pub const EXCHANGE_HEADER: usize = 48;

/// An [`Exchange`] in one buffer, so that a round trip of the producer costs one allocation
/// however many outcomes it carries. Little-endian:
/// - `[0]` deliveries (u32), `[4]` terminations (u32), `[8]` pending, `[16]` running,
///   `[24]` settling, `[32]` room (`Infinity` when unbounded) (f64 each), `[40]` tasks queued
///   again by the decisions, or `u32::MAX` when a decision was invalid (u32), `[44]` released
///   pins (u32);
/// - `[48]` the worker ids to terminate (f64 each), then the released pins (f64 each);
/// - a header per delivery ([`DELIVERY_HEADER`]);
/// - each delivery's outcome bytes followed by its argument bytes (failures only), in order.
pub(crate) fn exchange_buffer(exchange: Exchange) -> Vec<u8> {
    let Exchange {
        settled,
        deliveries,
        terminations,
        released_pins,
        stats,
        room,
    } = exchange;
    let headers = EXCHANGE_HEADER
        + 8 * (terminations.len() + released_pins.len())
        + DELIVERY_HEADER * deliveries.len();
    let mut out = Vec::with_capacity(headers + 64 * deliveries.len());
    out.extend_from_slice(&(deliveries.len() as u32).to_le_bytes());
    out.extend_from_slice(&(terminations.len() as u32).to_le_bytes());
    for count in [
        stats.pending as f64,
        stats.running as f64,
        stats.settling as f64,
        room_f64(room),
    ] {
        out.extend_from_slice(&count.to_le_bytes());
    }
    out.extend_from_slice(&settled.map_or(u32::MAX, |n| n as u32).to_le_bytes());
    out.extend_from_slice(&(released_pins.len() as u32).to_le_bytes());
    for worker in terminations {
        out.extend_from_slice(&(worker as f64).to_le_bytes());
    }
    for pin in released_pins {
        out.extend_from_slice(&f64::from(pin).to_le_bytes());
    }
    let first_header = out.len();
    out.resize(headers, 0);
    for (i, d) in deliveries.into_iter().enumerate() {
        let start = out.len();
        let kind = outcome_bytes(d.outcome, &mut out) as u8;
        let outcome_len = out.len() - start;
        let args_len = d.args.map_or(0, |args| {
            out.extend_from_slice(args.as_bytes());
            args.len()
        });
        let at = first_header + i * DELIVERY_HEADER;
        let header = &mut out[at..at + DELIVERY_HEADER];
        header[0..8].copy_from_slice(&(d.task as f64).to_le_bytes());
        header[8..12].copy_from_slice(&d.attempt.to_le_bytes());
        header[12..16].copy_from_slice(&d.worker_slot.to_le_bytes());
        header[16..20].copy_from_slice(&(outcome_len as u32).to_le_bytes());
        header[20..24].copy_from_slice(&(args_len as u32).to_le_bytes());
        header[24] = kind;
        header[25] = u8::from(d.can_retry);
    }
    out
}

/// A bounded queue's room as a JavaScript number.
pub(crate) fn room_f64(room: usize) -> f64 {
    if room == usize::MAX {
        f64::INFINITY
    } else {
        room as f64
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
