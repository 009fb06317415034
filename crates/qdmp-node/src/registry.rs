//! The process-wide table of engines, so that a worker thread (a separate JavaScript environment
//! loading the same addon image) can attach to the engine its producer created, by number.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use qdmp_core::Pool;

/// The last number given out, and the engines by number.
type Table = (u32, HashMap<u32, Weak<Pool>>);

fn table() -> &'static Mutex<Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    TABLE.get_or_init(|| Mutex::new((0, HashMap::new())))
}

/// Registers an engine; the table holds it weakly, so it never keeps an engine alive.
pub(crate) fn register(pool: &Arc<Pool>) -> u32 {
    let mut table = table().lock().unwrap_or_else(PoisonError::into_inner);
    table.1.retain(|_, pool| pool.strong_count() > 0);
    table.0 += 1;
    let id = table.0;
    table.1.insert(id, Arc::downgrade(pool));
    id
}

/// The engine registered as `id`, if it is still alive.
pub(crate) fn lookup(id: u32) -> Option<Arc<Pool>> {
    let table = table().lock().unwrap_or_else(PoisonError::into_inner);
    table.1.get(&id).and_then(Weak::upgrade)
}
