//! A hash map keyed by the engine's sequential `u64` ids.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Map from engine ids (sequential `u64`s) to records.
pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Fibonacci hashing of one `u64`. Ids are sequential and never attacker-chosen, so SipHash's
/// DoS resistance buys nothing here; the multiply spreads sequential ids over all bits, which the
/// map's bucket index (low bits) and control byte (high bits) both need.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}
