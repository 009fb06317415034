//! [`State::audit`]: the invariants of the crate docs, re-derived from the records, so that tests
//! can check them after every step. Separate from the transitions it checks.

use super::State;
use crate::stats::Stats;
use crate::task::TaskState;

impl State {
    /// Re-derives every counter and cross-link from the records; `Err` names the first mismatch.
    pub fn audit(&self) -> std::result::Result<(), String> {
        let mut s = Stats { ..self.stats };
        s.pending = 0;
        s.running = 0;
        s.settling = 0;
        for (id, task) in &self.tasks {
            match task.state {
                TaskState::Queued => s.pending += 1,
                TaskState::Running { worker, .. } => {
                    s.running += 1;
                    let rec = self
                        .workers
                        .get(&worker)
                        .ok_or(format!("task {id} on missing worker"))?;
                    if rec.running != Some(*id) {
                        return Err(format!(
                            "task {id} runs on worker {worker}, which does not know it"
                        ));
                    }
                }
                TaskState::Held { worker } => {
                    s.running += 1;
                    let rec = self
                        .workers
                        .get(&worker)
                        .ok_or(format!("task {id} held by missing worker"))?;
                    if !rec.held.contains(id) {
                        return Err(format!(
                            "task {id} is held by worker {worker}, which does not know it"
                        ));
                    }
                }
                TaskState::Done | TaskState::Collecting => s.settling += 1,
            }
        }
        if s != self.stats {
            return Err(format!("counters {:?} but records say {s:?}", self.stats));
        }
        if !self.stats.is_consistent() {
            return Err(format!("inconsistent counters {:?}", self.stats));
        }
        let queued = self
            .queue
            .iter()
            .filter(|id| self.tasks.get(id).map(|t| t.state) == Some(TaskState::Queued));
        if queued.count() as u64 != s.pending {
            return Err("the queue does not hold exactly the queued tasks".into());
        }
        if s.pending > 0 && self.phase != super::Phase::Running {
            return Err(format!(
                "{} tasks are queued in phase {:?}, where no worker takes them",
                s.pending, self.phase
            ));
        }
        let done = self
            .tasks
            .values()
            .filter(|t| t.state == TaskState::Done)
            .count();
        if done != self.done.len() {
            return Err(format!(
                "{done} tasks are done but {} outcomes are waiting",
                self.done.len()
            ));
        }
        Ok(())
    }
}
