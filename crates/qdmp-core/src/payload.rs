//! `Payload`: the serialized bytes of one task's arguments, a slice of a shared batch buffer.
//!
//! The producer hands arguments over in batches (one buffer plus end offsets), so the engine copies
//! each batch once and gives every task a cheap, reference-counted view of its part instead of one
//! allocation per task.

use std::sync::Arc;

use crate::error::{Error, Result};

/// Immutable bytes shared between the tasks of one batch.
#[derive(Clone)]
pub struct Payload {
    buf: Arc<[u8]>,
    start: usize,
    end: usize,
}

impl Payload {
    /// A payload that owns its bytes alone.
    pub fn new(bytes: &[u8]) -> Payload {
        Payload {
            buf: Arc::from(bytes),
            start: 0,
            end: bytes.len(),
        }
    }

    /// Copies `bytes` once and splits it at `ends` (exclusive end offsets, non-decreasing, the last
    /// one equal to `bytes.len()`), giving one payload per end.
    pub fn split_batch(bytes: &[u8], ends: &[u32]) -> Result<Vec<Payload>> {
        let mut start = 0usize;
        for &end in ends {
            let end = end as usize;
            if end < start || end > bytes.len() {
                return Err(Error::MalformedBatch {
                    reason: format!(
                        "end offset {end} after {start} in a batch of {} bytes",
                        bytes.len()
                    ),
                });
            }
            start = end;
        }
        if start != bytes.len() {
            return Err(Error::MalformedBatch {
                reason: format!("offsets cover {start} of {} bytes", bytes.len()),
            });
        }
        let buf: Arc<[u8]> = Arc::from(bytes);
        let mut start = 0usize;
        Ok(ends
            .iter()
            .map(|&end| {
                let payload = Payload {
                    buf: Arc::clone(&buf),
                    start,
                    end: end as usize,
                };
                start = end as usize;
                payload
            })
            .collect())
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        // The constructors guarantee start <= end <= buf.len().
        &self.buf[self.start..self.end]
    }

    /// The number of bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Payload({} bytes)", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_batch_at_its_ends() {
        let parts = Payload::split_batch(b"abcdef", &[1, 1, 4, 6]).unwrap();
        let parts: Vec<&[u8]> = parts.iter().map(Payload::as_bytes).collect();
        assert_eq!(parts, vec![&b"a"[..], b"", b"bcd", b"ef"]);
    }

    #[test]
    fn rejects_offsets_that_do_not_cover_the_bytes() {
        assert!(Payload::split_batch(b"abc", &[2]).is_err());
        assert!(Payload::split_batch(b"abc", &[2, 1, 3]).is_err());
        assert!(Payload::split_batch(b"abc", &[4]).is_err());
        assert!(Payload::split_batch(b"", &[]).unwrap().is_empty());
    }
}
