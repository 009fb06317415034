//! The engine's state machine: every transition of tasks and workers, and the counters, without
//! any locking. [`crate::Pool`] wraps it in a mutex and adds the waiting and waking.
//!
//! Each method keeps the invariants listed in the crate docs; [`State::audit`] re-derives the
//! counters from the records so tests can check them after every step.

use std::collections::VecDeque;
use std::mem;
use std::time::Instant;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::faults::Followup;
use crate::id_map::IdMap;
use crate::payload::Payload;
use crate::stats::Stats;
use crate::task::{Attachment, ExitInfo, Outcome, Task, TaskId, TaskState};
use crate::worker::{Departure, Finished, WorkerId, WorkerRec};

mod ahead;
mod audit;
mod queries;
mod settle;
mod stop;
mod wake;

/// The engine's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Built, not started: workers may register, tasks are refused.
    Created,
    /// Accepting and running tasks.
    Running,
    /// Refusing tasks; queued ones were cancelled; workers retire once idle (at once if `forced`).
    Stopping { forced: bool },
    /// Closed: no workers. Outcomes produced before may still be drained and settled.
    Stopped,
}

/// What the queue has for a worker asking for work.
#[derive(Debug)]
pub(crate) enum Take {
    Task(TaskId, Payload, Vec<Attachment>),
    Empty,
    Retire,
}

/// What [`State::take`] will do for a worker, decided before anything changes.
enum Offer {
    Task,
    Nothing,
    Retire,
    /// Nothing queued, and the worker has been idle past the idle timeout: it retires.
    IdleTooLong,
}

/// A task running on a worker, as reported by [`State::running_tasks`].
#[derive(Debug, Clone)]
pub struct RunningTask {
    /// The task.
    pub task: TaskId,
    /// The worker instance running it.
    pub worker: WorkerId,
    /// That worker's slot.
    pub slot: u32,
    /// When the worker picked it up.
    pub since: Instant,
    /// Its arguments.
    pub args: Payload,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) config: Config,
    pub phase: Phase,
    next_task: TaskId,
    next_worker: WorkerId,
    /// Every accepted task not yet finished by a decision (or a cancellation).
    pub(crate) tasks: IdMap<Task>,
    /// Ids of queued tasks, oldest first. Invariant: every `Queued` task is here once; ids of
    /// tasks cancelled while queued stay until a worker's take skips them, or finds nothing
    /// queued and drops them all.
    queue: VecDeque<TaskId>,
    /// Outcomes not yet drained, in completion order, with the slot that produced them.
    /// Invariant: holds exactly the `Done` tasks.
    done: VecDeque<(TaskId, u32, Outcome)>,
    pub(crate) workers: IdMap<WorkerRec>,
    /// Workers the producer must terminate (interrupted, and with no terminator of their own).
    pub(crate) terminations: Vec<WorkerId>,
    /// Whether the producer was told that `done` or `terminations` is non-empty, or that room
    /// opened, and has not taken all of it since.
    notified: bool,
    /// When a wake-up deferred while many tasks are queued is due (see `state/wake.rs`).
    wake_at: Option<Instant>,
    /// Whether a timer thread delivers deferred wake-ups (else none is deferred).
    defers: bool,
    /// When the last outcome was recorded: an outcome long after it is not deferred.
    last_outcome: Option<Instant>,
    /// The producer waits for room in the bounded queue: tell it when a worker makes some.
    room_wanted: bool,
    /// Room opened since the producer asked; it learns of it through the notifier.
    room_ready: bool,
    pub(crate) stats: Stats,
    /// Arguments of tasks cancelled by `stop`, not yet handed to the producer.
    unprocessed: Vec<(TaskId, Payload)>,
    /// Pins whose memory no worker views any more, not yet handed to the producer.
    released_pins: Vec<u32>,
}

impl State {
    pub fn new(config: Config) -> State {
        State {
            config,
            phase: Phase::Created,
            next_task: 1,
            next_worker: 1,
            tasks: IdMap::default(),
            queue: VecDeque::new(),
            done: VecDeque::new(),
            workers: IdMap::default(),
            terminations: Vec::new(),
            notified: false,
            wake_at: None,
            defers: false,
            last_outcome: None,
            room_wanted: false,
            room_ready: false,
            stats: Stats::default(),
            unprocessed: Vec::new(),
            released_pins: Vec::new(),
        }
    }

    /// A worker no longer views the memory of `pin`: the producer may free it.
    pub fn release_pin(&mut self, pin: u32) {
        self.released_pins.push(pin);
    }

    /// The pins released since the last call.
    pub fn take_released_pins(&mut self) -> Vec<u32> {
        mem::take(&mut self.released_pins)
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    pub fn start(&mut self) -> Result<()> {
        match self.phase {
            Phase::Created | Phase::Stopped => {
                self.phase = Phase::Running;
                Ok(())
            }
            Phase::Running | Phase::Stopping { .. } => Err(Error::AlreadyStarted),
        }
    }

    fn ensure_running(&self, operation: &'static str) -> Result<()> {
        match self.phase {
            Phase::Running => Ok(()),
            Phase::Created => Err(Error::NotStarted { operation }),
            Phase::Stopping { .. } | Phase::Stopped => Err(Error::Stopped { operation }),
        }
    }

    /// Queues `args` as new tasks. `offered` counts them plus the arguments the producer discarded
    /// before encoding; returns the ids given, in order.
    pub fn submit(&mut self, args: Vec<Payload>, offered: u64) -> Result<std::ops::Range<TaskId>> {
        self.submit_attached(args.into_iter().map(|p| (p, Vec::new())).collect(), offered)
    }

    /// Like [`State::submit`], with the attachments of each task's arguments.
    pub fn submit_attached(
        &mut self,
        args: Vec<(Payload, Vec<Attachment>)>,
        offered: u64,
    ) -> Result<std::ops::Range<TaskId>> {
        self.ensure_running("adding tasks")?;
        let count = args.len() as u64;
        if count > offered {
            return Err(Error::MalformedBatch {
                reason: format!("{count} tasks but only {offered} arguments offered"),
            });
        }
        if let Some(max_queue) = self.config.max_queue {
            let room = max_queue.saturating_sub(self.stats.pending as usize);
            if args.len() > room {
                return Err(Error::QueueFull { max_queue });
            }
        }
        let first = self.next_task;
        for (args, attachments) in args {
            let id = self.next_task;
            self.next_task += 1;
            self.tasks.insert(
                id,
                Task {
                    args,
                    attachments,
                    attempt: 0,
                    state: TaskState::Queued,
                },
            );
            self.queue.push_back(id);
        }
        self.stats.submitted += offered;
        self.stats.accepted += count;
        self.stats.discarded_args += offered - count;
        self.stats.pending += count;
        Ok(first..self.next_task)
    }

    pub fn register_worker(&mut self, slot: u32) -> Result<WorkerId> {
        if matches!(self.phase, Phase::Stopping { .. } | Phase::Stopped) {
            return Err(Error::Stopped {
                operation: "starting a worker",
            });
        }
        let id = self.next_worker;
        self.next_worker += 1;
        let rec = WorkerRec {
            slot,
            running: None,
            held: VecDeque::new(),
            last_run: None,
            retired: false,
            last_active: Instant::now(),
            started: false,
            idle_exit: false,
            terminator: None,
        };
        self.workers.insert(id, rec);
        Ok(id)
    }

    /// Gives `worker` the oldest queued task, or tells it to wait or to retire.
    pub fn take(&mut self, worker: WorkerId, now: Instant) -> Take {
        let offer = self.offer_for(worker, now);
        if !matches!(offer, Offer::Retire) {
            // A worker's first ask counts as activity (a retired or misbehaving one's does not).
            if let Some(rec) = self.workers.get_mut(&worker) {
                if !rec.started {
                    rec.started = true;
                    rec.last_active = now;
                }
            }
        }
        if self.stats.pending == 0 {
            // Only ids of cancelled tasks are left: drop them now rather than hold them while idle.
            self.queue.clear();
        }
        match offer {
            Offer::Retire => Take::Retire,
            Offer::Nothing => Take::Empty,
            Offer::IdleTooLong => {
                if let Some(rec) = self.workers.get_mut(&worker) {
                    rec.retired = true;
                    rec.idle_exit = true;
                }
                Take::Retire
            }
            Offer::Task => {
                let Some((id, args, attachments)) =
                    self.pop_queued(TaskState::Running { worker, since: now })
                else {
                    // `pending` said a task was queued: the counters and the queue disagree.
                    debug_assert!(false, "pending > 0 with no queued task");
                    return Take::Empty;
                };
                if let Some(rec) = self.workers.get_mut(&worker) {
                    rec.running = Some(id);
                    rec.last_active = now;
                }
                Take::Task(id, args, attachments)
            }
        }
    }

    /// Whether [`State::take`] would give `worker` something now (a task, or retirement),
    /// without giving it: for a worker whose readiness costs a system call to check, only worth
    /// checking when there is something to hand it. A wrong `true` costs a needless check; a
    /// wrong `false` would leave the worker waiting with work queued, so it must never happen.
    pub fn has_offer(&self, worker: WorkerId, now: Instant) -> bool {
        !matches!(self.offer_for(worker, now), Offer::Nothing)
    }

    /// What the queue has for `worker`; [`State::take`] carries it out.
    fn offer_for(&self, worker: WorkerId, now: Instant) -> Offer {
        let stopping = matches!(self.phase, Phase::Stopping { .. } | Phase::Stopped);
        let Some(rec) = self.workers.get(&worker) else {
            return Offer::Retire;
        };
        // A worker asking for work while still holding a task broke the protocol; retiring it makes
        // its exit settle that task (as WorkerExited) instead of overwriting and losing it.
        if rec.retired || stopping || rec.running.is_some() || !rec.held.is_empty() {
            return Offer::Retire;
        }
        if self.phase != Phase::Running {
            return Offer::Nothing;
        }
        // `pending` counts the queued tasks exactly (the queue also keeps ids it will skip).
        if self.stats.pending > 0 {
            return Offer::Task;
        }
        // A worker that never asked before counts as active from now (take() records it).
        let last_active = if rec.started { rec.last_active } else { now };
        match self.config.idle_timeout {
            Some(idle) if now >= last_active + idle => Offer::IdleTooLong,
            _ => Offer::Nothing,
        }
    }

    /// Takes the oldest queued task out of the queue into `state` (handed to a worker) and returns
    /// what the worker needs of it.
    pub(crate) fn pop_queued(
        &mut self,
        state: TaskState,
    ) -> Option<(TaskId, Payload, Vec<Attachment>)> {
        while let Some(id) = self.queue.pop_front() {
            let Some(task) = self.tasks.get_mut(&id) else {
                continue;
            };
            if task.state != TaskState::Queued {
                continue;
            }
            task.state = state;
            let taken = (id, task.args.clone(), task.attachments.clone());
            self.stats.pending -= 1;
            self.stats.running += 1;
            if self.room_wanted && self.room() > 0 {
                self.room_wanted = false;
                self.room_ready = true;
            }
            return Some(taken);
        }
        None
    }

    /// The ids of the queued tasks, oldest first (the queue without the ids it skips).
    pub(crate) fn queued_ids(&self) -> impl Iterator<Item = TaskId> + '_ {
        self.queue
            .iter()
            .copied()
            .filter(|id| self.tasks.get(id).map(|t| t.state) == Some(TaskState::Queued))
    }

    /// When `worker`, waiting for work, would exit for being idle.
    pub fn idle_deadline(&self, worker: WorkerId) -> Option<Instant> {
        let idle = self.config.idle_timeout?;
        self.workers.get(&worker).map(|rec| rec.last_active + idle)
    }

    /// Records `worker`'s outcome for its task. Returns `(accepted, notify)`: whether the outcome
    /// was taken (a late one, for a task no longer running there, is dropped), and whether the
    /// producer must now be notified.
    pub fn finish(&mut self, worker: WorkerId, finished: Finished, now: Instant) -> (bool, bool) {
        let Some(rec) = self.workers.get_mut(&worker) else {
            return (false, false);
        };
        if rec.running != Some(finished.task) {
            return (false, false);
        }
        rec.running = None;
        rec.last_active = now;
        if let Some(TaskState::Running { since, .. }) =
            self.tasks.get(&finished.task).map(|t| t.state)
        {
            rec.last_run = Some(now.saturating_duration_since(since));
        }
        let slot = rec.slot;
        self.record_outcome(finished.task, slot, finished.outcome);
        (true, self.outcome_ready(now))
    }

    /// Moves a running task to `Done`. Returns whether the producer must be notified.
    pub(crate) fn end_attempt(&mut self, task: TaskId, slot: u32, outcome: Outcome) -> bool {
        self.record_outcome(task, slot, outcome);
        self.wake_due()
    }

    fn record_outcome(&mut self, task: TaskId, slot: u32, outcome: Outcome) {
        if let Some(t) = self.tasks.get_mut(&task) {
            t.state = TaskState::Done;
            self.done.push_back((task, slot, outcome));
            self.stats.running -= 1;
            self.stats.settling += 1;
        }
    }

    /// How many more tasks the bounded queue takes now (`usize::MAX` when unbounded).
    pub fn room(&self) -> usize {
        match self.config.max_queue {
            Some(max) => max.saturating_sub(self.stats.pending as usize),
            None => usize::MAX,
        }
    }

    /// The producer will wait for room: returns the room now, and if there is none, arranges a
    /// notification when a worker takes a task and makes some.
    pub fn want_room(&mut self) -> usize {
        let room = self.room();
        self.room_wanted = room == 0;
        room
    }

    /// Removes `worker` (it exited). A task it was running ends with `WorkerExited`; tasks it held
    /// go back to the queue. Returns why it left; `followup` says whom to wake.
    pub fn worker_exited(
        &mut self,
        worker: WorkerId,
        exit: ExitInfo,
        followup: &mut Followup,
    ) -> Departure {
        let Some(rec) = self.workers.remove(&worker) else {
            return Departure::Unknown;
        };
        self.terminations.retain(|&w| w != worker);
        let departure = match (rec.idle_exit, rec.retired) {
            (true, _) => Departure::Idle,
            (false, true) => Departure::Retired,
            (false, false) => Departure::Unexpected,
        };
        // Tasks it held ahead never started: they go back to the queue, no attempt counted.
        followup.requeued += self.requeue(rec.held);
        if let Some(task) = rec.running {
            followup.notify |= self.end_attempt(task, rec.slot, Outcome::WorkerExited(exit));
        }
        departure
    }

    /// Marks `worker` so that it takes no more tasks. Returns whether it was live.
    pub fn retire(&mut self, worker: WorkerId) -> bool {
        match self.workers.get_mut(&worker) {
            Some(rec) => {
                rec.retired = true;
                true
            }
            None => false,
        }
    }
}
