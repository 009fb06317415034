//! The engine's settings, fixed when it is built.

use std::time::Duration;

/// The most workers one engine accepts: far past any machine's cores, low enough to catch a unit
/// mix-up (a byte count passed as a worker count) before it spawns a thread storm.
pub const MAX_WORKERS: usize = 1024;

/// Engine settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// How many times one original task may be re-submitted; `None` = no limit.
    pub max_retries: Option<u32>,
    /// How many tasks may be queued (not yet running); `None` = no bound.
    pub max_queue: Option<usize>,
    /// How long a task may run once a worker picked it up; `None` = no limit.
    pub task_timeout: Option<Duration>,
    /// How long a worker may wait for work before it exits; `None` = never.
    pub idle_timeout: Option<Duration>,
}
