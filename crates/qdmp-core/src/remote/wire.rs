//! The frames of the child-process protocol (described in `remote.rs`): their kinds, and how
//! they are encoded, read from a blocking stream and split from received bytes.

use std::io::{self, Read};

pub(super) const NEXT: u8 = 1;
pub(super) const TASK: u8 = 2;
pub(super) const RETIRE: u8 = 4;
pub(super) const AHEAD: u8 = 5;
pub(super) const POLL: u8 = 6;

pub(super) const HAS_OUTCOME: u8 = 1;
pub(super) const FAILED: u8 = 2;
pub(super) const STARTING: u8 = 4;

/// A frame larger than this is refused as corrupt (arguments and results are far smaller).
const MAX_FRAME: usize = 1 << 31;

fn too_large() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "frame too large")
}

pub(super) fn unexpected(kind: u8) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("unexpected frame kind {kind}"),
    )
}

pub(super) fn malformed(kind: u8, len: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("malformed frame of kind {kind} ({len} bytes with its kind)"),
    )
}

/// Encodes a frame into `out` (cleared first), so that it leaves in one write.
pub(super) fn encode_frame(
    out: &mut Vec<u8>,
    kind: u8,
    head: &[u8],
    body: &[u8],
) -> io::Result<()> {
    let len = u32::try_from(1 + head.len() + body.len()).map_err(|_| too_large())?;
    out.clear();
    out.extend_from_slice(&len.to_le_bytes());
    out.push(kind);
    out.extend_from_slice(head);
    out.extend_from_slice(body);
    Ok(())
}

/// Encodes a `TASK` or `AHEAD` frame carrying `tasks` into `out` (cleared first).
pub(super) fn encode_tasks<'a>(
    out: &mut Vec<u8>,
    kind: u8,
    tasks: impl Iterator<Item = &'a [u8]>,
) -> io::Result<()> {
    out.clear();
    out.extend_from_slice(&[0, 0, 0, 0, kind]);
    for task in tasks {
        let len = u32::try_from(task.len()).map_err(|_| too_large())?;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(task);
    }
    let len = u32::try_from(out.len() - 4).map_err(|_| too_large())?;
    out[..4].copy_from_slice(&len.to_le_bytes());
    Ok(())
}

/// Splits the body of a `TASK` or `AHEAD` frame into its tasks' arguments.
pub(super) fn split_tasks(mut body: &[u8]) -> io::Result<Vec<&[u8]>> {
    let corrupt = || io::Error::new(io::ErrorKind::InvalidData, "corrupt task list");
    let mut tasks = Vec::new();
    while !body.is_empty() {
        let (len, rest) = body.split_first_chunk::<4>().ok_or_else(corrupt)?;
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len {
            return Err(corrupt());
        }
        tasks.push(&rest[..len]);
        body = &rest[len..];
    }
    Ok(tasks)
}

fn frame_len(len: [u8; 4]) -> io::Result<usize> {
    let len = u32::from_le_bytes(len) as usize;
    if len == 0 || len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("bad frame length {len}"),
        ));
    }
    Ok(len)
}

/// Reads one frame into `buf` (kind first); `Ok(None)` at a clean end of stream.
pub(super) fn read_frame(input: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<Option<u8>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = frame_len(len)?;
    buf.resize(len, 0);
    input.read_exact(buf)?;
    Ok(Some(buf[0]))
}

/// The first whole frame of `bytes` (kind first), and how many bytes it took with its length;
/// `None` while it has not all arrived.
pub(super) fn split_frame(bytes: &[u8]) -> io::Result<Option<(&[u8], usize)>> {
    let Some((len, rest)) = bytes.split_first_chunk::<4>() else {
        return Ok(None);
    };
    let len = frame_len(*len)?;
    Ok(rest.get(..len).map(|frame| (frame, 4 + len)))
}
