//! Fault handling on `NativePool`: time-outs, restarts, cancellation, idle clocks.

use napi::bindgen_prelude::{Float64Array, Uint32Array, Uint8Array};
use napi_derive::napi;
use qdmp_core::Cancellation;

use crate::batches::PayloadBatch;
use crate::errors::{id_from_js, Result};
use crate::native_pool::NativePool;

/// What `cancel` did with each task: `kinds[i]` is 0 (was queued), 1 (was running: its worker
/// is being terminated), 2 (already settled: nothing done), 3 (unknown id), 4 (running, left
/// alone); the arguments of the cancelled ones (others empty) are laid out as in [`PayloadBatch`].
#[napi(object)]
pub struct CancelResults {
    pub kinds: Uint8Array,
    pub slots: Uint32Array,
    pub args: PayloadBatch,
}

#[napi]
impl NativePool {
    /// The worker ids the producer must terminate now (interrupted threads).
    #[napi]
    pub fn take_terminations(&self) -> Float64Array {
        let ids: Vec<f64> = self
            .pool
            .take_terminations()
            .into_iter()
            .map(|id| id as f64)
            .collect();
        ids.into()
    }

    /// Ends, as timed out, every task running for `ms` milliseconds or more; returns how many.
    #[napi]
    pub fn interrupt_older_than(&self, ms: f64) -> u32 {
        self.pool
            .interrupt_older_than(std::time::Duration::from_secs_f64(ms.max(0.0) / 1e3))
            as u32
    }

    /// Cancels tasks by id; running ones too when `running`.
    #[napi]
    pub fn cancel(&self, ids: &[f64], running: bool) -> Result<CancelResults> {
        let ids = ids
            .iter()
            .map(|&id| id_from_js("task", id))
            .collect::<Result<Vec<u64>>>()?;
        let outcomes = self.pool.cancel(&ids, running);
        let mut kinds = Vec::with_capacity(ids.len());
        let mut slots = Vec::with_capacity(ids.len());
        let mut args = Vec::with_capacity(ids.len());
        for (&id, outcome) in ids.iter().zip(outcomes) {
            let (kind, slot, payload) = match outcome {
                Cancellation::Queued { args } => (0, u32::MAX, args),
                Cancellation::Running { args, slot } => (1, slot, args),
                Cancellation::AlreadySettled => (2, u32::MAX, qdmp_core::Payload::new(&[])),
                Cancellation::Unknown => (3, u32::MAX, qdmp_core::Payload::new(&[])),
                Cancellation::Busy => (4, u32::MAX, qdmp_core::Payload::new(&[])),
            };
            kinds.push(kind);
            slots.push(slot);
            args.push((id, payload));
        }
        Ok(CancelResults {
            kinds: kinds.into(),
            slots: slots.into(),
            args: crate::batches::payload_batch(args),
        })
    }

    /// Ends every queued task as abandoned (no worker can start); returns how many.
    #[napi]
    pub fn abandon_queued(&self) -> u32 {
        self.pool.abandon_queued() as u32
    }

    /// Restarts every worker's idle clock.
    #[napi]
    pub fn touch_workers(&self) {
        self.pool.touch_workers();
    }
}
