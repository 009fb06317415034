//! `WorkerPort`: a worker thread's handle on its producer's engine, attached by registry number.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::{Buffer, Either, Uint8Array};
use napi_derive::napi;
use qdmp_core::{Attachment, Error, Finished, Outcome, Pool, Step, TaskId, WorkerId};

use crate::errors::{id_from_js, to_js, Result};
use crate::inbox::{Inbox, INBOX_BYTES};
use crate::registry;

/// What `next()` answers instead of the length of a task's arguments.
#[napi]
pub enum WorkerSignal {
    /// No task arrived within the wait; let the event loop turn, then call again.
    Idle = -1,
    /// Exit: the engine is stopping or this worker was retired.
    Retire = -2,
}

/// A step of a port as JavaScript receives it: the length of the arguments written to the inbox,
/// a [`WorkerSignal`], or, for arguments too large for the inbox, a `Buffer` of their own.
pub(crate) fn hand_out(inbox: &Inbox, args: &[u8]) -> Either<i32, Buffer> {
    if inbox.put(args) {
        Either::A(args.len() as i32)
    } else {
        Either::B(args.to_vec().into())
    }
}

/// One worker instance's connection to the engine.
#[napi]
pub struct WorkerPort {
    pool: Arc<Pool>,
    worker: WorkerId,
    /// The task handed out by the last `next`, whose outcome the following `next` reports.
    task: Option<TaskId>,
    inbox: std::sync::Arc<Inbox>,
    /// The pinned memory the current task's arguments refer to, until `attachments()` maps it.
    attachments: Vec<Attachment>,
    /// The pins the current task's views lease, in order, until `end_lease` (or their finalizer).
    leases: Vec<Lease>,
}

/// A worker's lease on pinned memory: released once, by `end_lease` or by the view's finalizer.
struct Lease {
    pin: u32,
    released: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Lease {
    fn release(&self, pool: &Pool) {
        if !self
            .released
            .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            pool.release_pin(self.pin);
        }
    }
}

#[napi]
impl WorkerPort {
    /// Attaches to engine `pool_id` as worker instance `worker` (registered by the producer).
    #[napi(factory)]
    pub fn attach(pool_id: u32, worker: f64) -> Result<WorkerPort> {
        let worker = id_from_js("worker", worker)?;
        let pool = registry::lookup(pool_id).ok_or_else(|| {
            to_js(Error::UnknownId {
                kind: "engine",
                id: u64::from(pool_id),
            })
        })?;
        Ok(WorkerPort {
            pool,
            worker,
            task: None,
            inbox: Inbox::new(INBOX_BYTES),
            attachments: Vec::new(),
            leases: Vec::new(),
        })
    }

    /// Views of the memory the current task's arguments refer to in place, in the order the
    /// producer listed it. The task leases them: `end_lease` detaches them when it settles and
    /// gives the pins back at once; a view collected before that gives its pin back itself.
    #[napi]
    pub fn attachments(&mut self) -> Vec<Uint8Array> {
        let pool = &self.pool;
        let mut views = Vec::new();
        for a in std::mem::take(&mut self.attachments) {
            let lease = Lease {
                pin: a.pin,
                released: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
            };
            if a.len == 0 {
                lease.release(pool); // nothing to view; kept in the list so that orders match
                views.push(Uint8Array::new(Vec::new()));
                self.leases.push(lease);
                continue;
            }
            let (pool, released) = (
                std::sync::Arc::clone(pool),
                std::sync::Arc::clone(&lease.released),
            );
            let finalizer = Lease {
                pin: a.pin,
                released,
            };
            // SAFETY: `addr`/`len` describe a buffer the producer pinned in this process and keeps
            // alive, untouched, until the pin comes back released. It comes back only once no
            // JavaScript can reach this view: from `end_lease`, after detaching it, or from this
            // finalizer (or from the producer's stop, after every worker has exited).
            views.push(unsafe {
                Uint8Array::with_external_data(a.addr as *mut u8, a.len, move |_, _| {
                    finalizer.release(&pool)
                })
            });
            self.leases.push(lease);
        }
        views
    }

    /// The task that used `attachments()` settled: detaches its views (`buffers`, in the same
    /// order) so that nothing can reach the pinned memory any more, and gives the pins back.
    #[napi]
    pub fn end_lease(
        &mut self,
        buffers: Vec<napi::bindgen_prelude::ArrayBuffer>,
    ) -> napi::Result<()> {
        let leases = std::mem::take(&mut self.leases);
        for (buffer, lease) in buffers.into_iter().zip(&leases) {
            if buffer.is_empty() {
                continue; // a zero-length view owns nothing (its pin went back already)
            }
            buffer.detach()?;
            lease.release(&self.pool);
        }
        Ok(())
    }

    /// The memory where `next()` writes a task's arguments (call once; it stays the same).
    #[napi]
    pub fn inbox(&self) -> Uint8Array {
        self.inbox.view()
    }

    /// Reports the outcome of the current task (`failed` = it threw; `bytes` = the encoded result
    /// or error record), then waits up to `wait_ms` for the next task. Returns the length of its
    /// encoded arguments, written at the start of the inbox; or a [`WorkerSignal`]; or, when they
    /// do not fit the inbox, the arguments in a `Buffer`.
    ///
    /// Blocks this worker thread while it waits, which is the point: an idle worker sleeps in the
    /// engine's condvar and wakes the moment a task is queued, without a trip through any event loop.
    #[napi]
    pub fn next(
        &mut self,
        failed: bool,
        bytes: Option<&[u8]>,
        wait_ms: u32,
    ) -> Either<i32, Buffer> {
        let finished = match (self.task.take(), bytes) {
            (Some(task), Some(bytes)) => {
                let outcome = if failed {
                    Outcome::Thrown(bytes.to_vec())
                } else {
                    Outcome::Value(bytes.to_vec())
                };
                Some(Finished { task, outcome })
            }
            _ => None,
        };
        match self.pool.next(
            self.worker,
            finished,
            Duration::from_millis(u64::from(wait_ms)),
        ) {
            Step::Task {
                id,
                args,
                attachments,
            } => {
                self.task = Some(id);
                self.attachments = attachments;
                hand_out(&self.inbox, args.as_bytes())
            }
            Step::Idle => Either::A(WorkerSignal::Idle as i32),
            Step::Retire => Either::A(WorkerSignal::Retire as i32),
        }
    }
}
