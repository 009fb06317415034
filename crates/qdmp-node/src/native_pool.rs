//! `NativePool`: the producer's handle on an engine (submit, drain, settle, stop, stats).
//! Fault handling and child-process channels add methods in `faults.rs` and `channel.rs`.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::{Buffer, Either, Float64Array, Function, Uint8Array};
use napi_derive::napi;
use qdmp_core::{Attachment, Config, Decision, Departure, ExitInfo, Payload, Pool};

use crate::batches::{
    exchange_buffer, payload_batch, room_f64, running_tasks, EngineStats, PayloadBatch,
    RunningTasks,
};
use crate::errors::{id_from_js, to_js, Result};
use crate::inbox::Inbox;
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
    /// How long a worker may wait for work before it exits, in milliseconds.
    pub idle_timeout_ms: Option<f64>,
}

/// Why a worker left (see the core's `Departure`).
#[napi(string_enum = "lowercase")]
pub enum WorkerDeparture {
    /// Idle past `idleTimeout`: start another only when work arrives.
    Idle,
    /// Retired or interrupted by the engine: replace it unless stopping.
    Retired,
    /// It exited by itself: replace it.
    Unexpected,
    /// Not known to the engine.
    Unknown,
}

/// Decisions from their JavaScript layout: one kind per id, retries' payloads in order.
fn decisions_from(
    ids: &[f64],
    kinds: &[u8],
    retry_data: &[u8],
    retry_ends: &[u32],
) -> Result<Vec<(u64, Decision)>> {
    let mut retries = Payload::split_batch(retry_data, retry_ends)
        .map_err(to_js)?
        .into_iter();
    let mut list = Vec::with_capacity(ids.len());
    for (&id, &kind) in ids.iter().zip(kinds) {
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
    Ok(list)
}

fn millis(ms: f64) -> Duration {
    Duration::from_secs_f64(ms.max(0.0) / 1e3)
}

/// The producer's handle on one engine.
#[napi]
pub struct NativePool {
    pub(crate) pool: Arc<Pool>,
    id: u32,
    /// Where `exchange` writes its answer, mapped once by the producer's JavaScript.
    mailbox: Arc<Inbox>,
}

/// Exchanges larger than this come in a `Buffer` of their own.
const MAILBOX_BYTES: usize = 1 << 20;

#[napi]
impl NativePool {
    #[napi(constructor)]
    pub fn new(options: PoolOptions) -> NativePool {
        let config = Config {
            max_retries: options.max_retries,
            max_queue: options.max_queue.map(|n| n as usize),
            task_timeout: options.task_timeout_ms.map(millis),
            idle_timeout: options.idle_timeout_ms.map(millis),
        };
        let pool = Arc::new(Pool::new(config));
        let id = registry::register(&pool);
        NativePool {
            pool,
            id,
            mailbox: Inbox::new(MAILBOX_BYTES),
        }
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

    /// Sets the function called (on this thread, coalesced) when outcomes or terminations wait.
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

    /// Like `submit`, for tasks whose arguments refer to pinned memory: `attachments` holds
    /// `(address, length, pin)` triples, `attachment_ends` the end (in triples) of each task's.
    /// The producer keeps each pinned buffer alive until the pin comes back as released.
    #[napi]
    pub fn submit_attached(
        &self,
        data: &[u8],
        ends: &[u32],
        offered: u32,
        attachments: &[f64],
        attachment_ends: &[u32],
    ) -> Result<f64> {
        let args = Payload::split_batch(data, ends).map_err(to_js)?;
        let mut start = 0usize;
        let mut tasks = Vec::with_capacity(args.len());
        for (payload, &end) in args.into_iter().zip(attachment_ends) {
            let end = (end as usize).min(attachments.len() / 3);
            let list = (start..end)
                .map(|i| Attachment {
                    addr: attachments[3 * i] as usize,
                    len: attachments[3 * i + 1] as usize,
                    pin: attachments[3 * i + 2] as u32,
                })
                .collect();
            start = end;
            tasks.push((payload, list));
        }
        let ids = self
            .pool
            .submit_attached(tasks, u64::from(offered))
            .map_err(to_js)?;
        Ok(ids.start as f64)
    }

    /// The address of a buffer's bytes, for a pinned buffer's attachment. The producer then parks
    /// the buffer, whose memory stays where it is until the pin is let go (src/pins.ts).
    #[napi]
    pub fn address_of(buffer: napi::bindgen_prelude::ArrayBuffer) -> f64 {
        buffer.as_ptr() as usize as f64
    }

    /// Copies a pinned buffer's bytes into `target` (as many as it holds), for the producer's
    /// own decoding of a moved argument: the producer holds the memory by its pin, not as an
    /// ArrayBuffer, and a copy cannot outlive the pin.
    #[napi]
    pub fn copy_pinned(address: f64, mut target: Uint8Array) {
        // SAFETY: `target` is a live typed array this call borrows, and nothing else in this
        // thread touches it during the call. The caller (src/pins.ts) passes the address of a
        // buffer it pinned and has not let go, at least as long as `target`: that memory stays
        // allocated until the pin is let go. A task may write its arguments while the producer
        // copies them (for a report on a running task): the bytes are plain `u8`s, so such a
        // race can only tear the copy, and JavaScript views of shared memory allow the same.
        let out = unsafe { target.as_mut() };
        if out.is_empty() {
            return;
        }
        // SAFETY: as above; the two ranges are distinct allocations, so they do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(
                address as usize as *const u8,
                out.as_mut_ptr(),
                out.len(),
            );
        }
    }

    /// How many more tasks the bounded queue takes now (`Infinity` when unbounded).
    #[napi]
    pub fn room(&self) -> f64 {
        room_f64(self.pool.room())
    }

    /// The room now; when there is none, the notifier fires once a worker makes some.
    #[napi]
    pub fn want_room(&self) -> f64 {
        room_f64(self.pool.want_room())
    }

    #[napi]
    pub fn register_worker(&self, slot: u32) -> Result<f64> {
        self.pool
            .register_worker(slot)
            .map(|id| id as f64)
            .map_err(to_js)
    }

    /// Records a worker's exit (settling its task) and says why it left.
    #[napi]
    pub fn worker_exited(
        &self,
        worker: f64,
        code: Option<i32>,
        signal: Option<String>,
    ) -> Result<WorkerDeparture> {
        let worker = id_from_js("worker", worker)?;
        Ok(
            match self.pool.worker_exited(worker, ExitInfo { code, signal }) {
                Departure::Idle => WorkerDeparture::Idle,
                Departure::Retired => WorkerDeparture::Retired,
                Departure::Unexpected => WorkerDeparture::Unexpected,
                Departure::Unknown => WorkerDeparture::Unknown,
            },
        )
    }

    #[napi]
    pub fn retire_worker(&self, worker: f64) -> Result<bool> {
        Ok(self.pool.retire_worker(id_from_js("worker", worker)?))
    }

    /// The memory where `exchange` writes its answer (call once; it stays the same). Only the
    /// thread that created the pool may call `exchange`, and it reads an answer before the next.
    #[napi]
    pub fn mailbox(&self) -> napi::bindgen_prelude::Uint8Array {
        self.mailbox.view()
    }

    /// The producer's round trip: applies one `DecisionKind` per task of the last exchange (each
    /// `Retry` takes the next payload of `retry_data`/`retry_ends`), then drains up to `max`
    /// outcomes. Writes the answer (layout: the binding's `exchange_buffer`) at the start of the
    /// mailbox and returns its length, or returns it in a `Buffer` when it does not fit.
    #[napi]
    pub fn exchange(
        &self,
        ids: &[f64],
        decisions: &[u8],
        retry_data: &[u8],
        retry_ends: &[u32],
        max: u32,
    ) -> Result<Either<i32, Buffer>> {
        let decisions = decisions_from(ids, decisions, retry_data, retry_ends)?;
        let answer = exchange_buffer(self.pool.exchange(decisions, max as usize));
        Ok(if self.mailbox.put(&answer) {
            Either::A(answer.len() as i32)
        } else {
            Either::B(answer.into())
        })
    }

    /// Writes `[pending, running, settling, room]` into `out` (room is `Infinity` without a
    /// bound): the counts the producer checks after every change, without building an object.
    #[napi]
    pub fn counts(&self, mut out: Float64Array) {
        let (stats, room) = self.pool.counts();
        let values = [
            stats.pending as f64,
            stats.running as f64,
            stats.settling as f64,
            room_f64(room),
        ];
        // SAFETY: `out` is a typed array JavaScript passed for this call and does not touch during
        // it (this thread runs no JavaScript until we return); nothing else holds a Rust view of it.
        let out = unsafe { out.as_mut() };
        for (slot, value) in out.iter_mut().zip(values) {
            *slot = value;
        }
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
        running_tasks(self.pool.running_tasks())
    }

    /// `null` when every invariant holds, else what is broken. For tests.
    #[napi]
    pub fn audit(&self) -> Option<String> {
        self.pool.audit().err()
    }
}
