//! Checks the sizes an Arrow IPC (Feather v2) file declares against the file itself
//! and the memory limit before polars reads it.
//!
//! polars-arrow takes buffer lengths, message lengths and compressed buffers'
//! uncompressed lengths from the file and allocates them unchecked (43 GB to 5·10^18
//! bytes in `fuzz/regressions/ipc/*-alloc`); such an allocation ends the process
//! (see `vet_parquet`). So every block, message, node and buffer the reader will
//! trust is read here first, with the same flatbuffer types, and refused with a
//! one-line reason when it points outside the file, is negative, or adds up to more
//! memory than the limit.

use super::declared_limit;
use super::vet_parquet::too_large;
use polars_arrow::io::ipc::format::ipc::{
    planus::ReadAsRoot, Block, MessageHeaderRef, MessageRef, RecordBatchRef,
};
use std::io::{Read, Seek, SeekFrom};

/// "ARROW1" and its padding at the start; the footer's length and "ARROW1" at the end.
const HEAD: u64 = 8;
const TAIL: u64 = 10;

/// Ok when what the file declares is consistent with it and fits the limit (`each`:
/// one record batch at a time, with the dictionaries, which stay, for a reader that
/// holds one batch at a time); otherwise why not, in words.
pub fn vet_batches<R: Read + Seek>(mut file: R, len: u64, each: bool) -> Result<(), String> {
    if len < HEAD + TAIL {
        return Err(format!("{len} bytes: too short for an Arrow IPC file"));
    }
    let footer = read_at(&mut file, len - TAIL, 4)?;
    let footer_len = i32::from_le_bytes([footer[0], footer[1], footer[2], footer[3]]);
    let data_end = (len - TAIL)
        .checked_sub(footer_len.max(0) as u64)
        .filter(|end| footer_len >= 0 && *end >= HEAD)
        .ok_or_else(|| format!("footer of {footer_len} bytes in a file of {len}"))?;
    let footer = read_at(&mut file, data_end, footer_len as usize)?;
    let meta = polars_arrow::io::ipc::read::deserialize_footer(&footer, len)
        .map_err(|e| format!("arrow ipc: {e}"))?;
    let limit = declared_limit();
    let mut decoded: u128 = 0;
    let mut dictionaries: u128 = 0;
    let n_dictionaries = meta.dictionaries.iter().flatten().count();
    let blocks = meta.dictionaries.iter().flatten().chain(meta.blocks.iter());
    for (i, block) in blocks.enumerate() {
        let bytes =
            vet_block(&mut file, block, data_end, limit).map_err(|e| format!("block {i}: {e}"))?;
        decoded = match each && i >= n_dictionaries {
            true => dictionaries + bytes,
            false => decoded + bytes,
        };
        if i < n_dictionaries {
            dictionaries += bytes;
        }
        if decoded > limit as u128 {
            return Err(too_large(decoded, limit));
        }
    }
    Ok(())
}

fn read_at<R: Read + Seek>(file: &mut R, at: u64, n: usize) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; n];
    file.seek(SeekFrom::Start(at))
        .and_then(|_| file.read_exact(&mut buf))
        .map_err(|e| format!("cannot read {n} bytes at byte {at}: {e}"))?;
    Ok(buf)
}

/// One record batch or dictionary block: its message inside the block, its body
/// inside the data, its nodes and buffers inside its body. Returns the decoded bytes
/// it declares.
fn vet_block<R: Read + Seek>(
    file: &mut R,
    block: &Block,
    data_end: u64,
    limit: u64,
) -> Result<u128, String> {
    let (offset, meta_len, body_len) = (block.offset, block.meta_data_length, block.body_length);
    let end = (offset as i128) + (meta_len as i128) + (body_len as i128);
    if offset < HEAD as i64 || meta_len < 8 || body_len < 0 || end > data_end as i128 {
        return Err(format!(
            "bytes {offset}+{meta_len}+{body_len} lie outside the data ({data_end} bytes)"
        ));
    }
    let frame = read_at(file, offset as u64, meta_len as usize)?;
    // A message is its length (after a continuation marker in newer files), then the
    // flatbuffer; the length must fit the block.
    let skip = if frame[..4] == [0xff; 4] { 4 } else { 0 };
    let n = i32::from_le_bytes(frame[skip..skip + 4].try_into().expect("4 bytes"));
    let body_at = skip + 4;
    if n < 0 || body_at + n as usize > frame.len() {
        return Err(format!("a message of {n} bytes in a block of {meta_len}"));
    }
    let message = MessageRef::read_as_root(&frame[body_at..body_at + n as usize])
        .map_err(|e| format!("message: {e}"))?;
    let batch = match message.header().map_err(|e| format!("message: {e}"))? {
        Some(MessageHeaderRef::RecordBatch(b)) => b,
        Some(MessageHeaderRef::DictionaryBatch(d)) => match d.data() {
            Ok(Some(b)) => b,
            _ => return Err("a dictionary without its data".into()),
        },
        _ => return Err("not a record batch".into()),
    };
    let body_at = offset as u64 + meta_len as u64;
    vet_batch(file, batch, body_at, body_len as u64, limit)
}

fn vet_batch<R: Read + Seek>(
    file: &mut R,
    batch: RecordBatchRef,
    body_at: u64,
    body_len: u64,
    limit: u64,
) -> Result<u128, String> {
    let bad = |e: polars_arrow::io::ipc::format::ipc::planus::Error| format!("record batch: {e}");
    let rows = batch.length().map_err(bad)?;
    if rows < 0 || rows as u64 > limit {
        return Err(format!("{rows} rows declared"));
    }
    let mut decoded = rows as u128;
    for node in batch.nodes().map_err(bad)?.into_iter().flatten() {
        let (n, nulls) = (node.length(), node.null_count());
        if n < 0 || nulls < 0 || nulls > n || n as u64 > limit {
            return Err(format!("an array of {n} slots with {nulls} nulls"));
        }
        decoded += n as u128;
    }
    let buffers: Vec<_> = batch
        .buffers()
        .map_err(bad)?
        .into_iter()
        .flatten()
        .collect();
    let counts = batch.variadic_buffer_counts().map_err(bad)?;
    for c in counts.into_iter().flatten() {
        if c < 0 || c as usize > buffers.len() {
            return Err(format!("{c} variadic buffers of {}", buffers.len()));
        }
    }
    let compressed = batch.compression().map_err(bad)?.is_some();
    for b in buffers {
        let (at, n) = (b.offset(), b.length());
        if at < 0 || n < 0 || (at as u128 + n as u128) > body_len as u128 {
            return Err(format!(
                "a buffer at {at}+{n} outside its body of {body_len} bytes"
            ));
        }
        decoded += n as u128;
        // A compressed buffer starts with its uncompressed length (-1: stored as is).
        if compressed && n >= 8 {
            let head = read_at(file, body_at + at as u64, 8)?;
            let plain = i64::from_le_bytes(head.try_into().expect("8 bytes"));
            if plain < -1 {
                return Err(format!("a compressed buffer of negative length {plain}"));
            }
            if plain as i128 > limit as i128 {
                return Err(too_large(plain as u128, limit));
            }
            decoded += plain.max(0) as u128;
        }
    }
    Ok(decoded)
}
