//! N-API binding of qdmp-core. It only translates: JavaScript values in, engine calls, JavaScript
//! values out. Every decision about tasks and workers is made in the core.
//!
//! The addon is loaded once per process but initialised once per JavaScript environment (the main
//! thread and each worker thread). Engines live in a process-wide registry so that worker threads
//! can reach the engine their producer created ([`registry`]); JavaScript handles never cross
//! environments.

mod batches;
mod channel;
mod codes;
mod errors;
mod faults;
mod inbox;
mod native_pool;
mod notifier;
mod registry;
mod worker_port;
