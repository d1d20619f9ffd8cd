//! Every way a COW store can be wrong or fail, one variant per invariant,
//! each naming the offset, area or chunk it is about.

use std::io;

use thiserror::Error;

use super::header::MAGIC;

/// Where an exception record sits on disk: metadata area and slot within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Slot {
    /// Metadata area index (area 0 is chunk 1).
    pub area: u64,
    /// Record index within the area.
    pub index: u64,
}

impl std::fmt::Display for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "area {} entry {}", self.area, self.index)
    }
}

/// A COW store that is malformed, or an operation on one that failed.
#[derive(Debug, Error)]
pub enum CowError {
    /// The first four bytes are neither zero (fresh) nor `SnAp`.
    #[error("bad magic {found:#010x} at byte 0 (expected {MAGIC:#010x} \"SnAp\"): invalid or corrupt snapshot")]
    BadMagic {
        /// The magic found.
        found: u32,
    },
    /// The first four bytes are zero where an existing store was required.
    #[error("no COW header (magic is 0): not a snapshot store")]
    NotACow,
    /// The header's version is not 1.
    #[error("unable to handle snapshot disk version {found} (byte 8; only 1 is known)")]
    UnsupportedVersion {
        /// The version found.
        found: u32,
    },
    /// Chunk size (sectors) zero or not a power of two.
    #[error("chunk size {chunk_size} sectors is not a power of 2")]
    ChunkSizeNotPowerOfTwo {
        /// Chunk size in sectors.
        chunk_size: u64,
    },
    /// Chunk size not a multiple of the device's logical block size.
    #[error("chunk size {chunk_size} sectors is not a multiple of the {block_sectors}-sector logical block size")]
    ChunkSizeNotBlockMultiple {
        /// Chunk size in sectors.
        chunk_size: u64,
        /// Logical block size in sectors.
        block_sectors: u64,
    },
    /// Chunk size above the kernel's limit of `INT_MAX >> 9` sectors.
    #[error("chunk size {chunk_size} sectors is too large (limit {limit})")]
    ChunkSizeTooLarge {
        /// Chunk size in sectors.
        chunk_size: u64,
        /// The limit in sectors.
        limit: u64,
    },
    /// Chunk size outside lvm2's accepted range (8..=1024 sectors, power of two).
    #[error("Chunk size must be a power of 2 in the range 4K to 512K")]
    ChunkSizeOutOfLvm2Range {
        /// Chunk size in sectors.
        chunk_size: u64,
    },
    /// An exception's data chunk is the header or a metadata area.
    #[error("{slot}: new_chunk {new_chunk} lies in a metadata area")]
    ExceptionInMetadataArea {
        /// Where the record is.
        slot: Slot,
        /// The offending data chunk.
        new_chunk: u64,
    },
    /// An exception's data chunk lies (partly) beyond the end of the device.
    #[error("{slot}: new_chunk {new_chunk} lies past the end of the device ({device_chunks} whole chunks)")]
    ExceptionPastEnd {
        /// Where the record is.
        slot: Slot,
        /// The offending data chunk.
        new_chunk: u64,
        /// Whole chunks the device holds.
        device_chunks: u64,
    },
    /// Two exceptions remap the same origin chunk.
    #[error("{second}: old_chunk {old_chunk} already remapped at {first}")]
    DuplicateOldChunk {
        /// The origin chunk.
        old_chunk: u64,
        /// First record.
        first: Slot,
        /// Second record.
        second: Slot,
    },
    /// Two exceptions share one data chunk.
    #[error("{second}: new_chunk {new_chunk} already used at {first}")]
    DuplicateNewChunk {
        /// The data chunk.
        new_chunk: u64,
        /// First record.
        first: Slot,
        /// Second record.
        second: Slot,
    },
    /// A structure the store needs lies beyond the end of the device.
    #[error("device truncated: {what} needs bytes up to {needed}, device has {device_bytes}")]
    Truncated {
        /// What was being read or written.
        what: String,
        /// End offset needed, in bytes.
        needed: u64,
        /// Device size in bytes.
        device_bytes: u64,
    },
    /// No room for another data chunk (the kernel's -ENOSPC).
    #[error(
        "COW full: chunk {next_free} of {chunk_size} sectors does not fit in {cow_sectors} sectors"
    )]
    Full {
        /// The chunk that would have been allocated.
        next_free: u64,
        /// Chunk size in sectors.
        chunk_size: u64,
        /// Device size in sectors.
        cow_sectors: u64,
    },
    /// The store is (or was marked on disk as) invalid.
    #[error("snapshot is marked invalid")]
    Invalidated,
    /// A chunk committed that this store never handed out.
    #[error("new_chunk {new_chunk} was not allocated by this store")]
    NotAllocated {
        /// The chunk.
        new_chunk: u64,
    },
    /// A commit for an origin chunk that already has an exception.
    #[error("old_chunk {old_chunk} already has an exception")]
    AlreadyRemapped {
        /// The origin chunk.
        old_chunk: u64,
    },
    /// An operation the store kind does not support (merge on a transient store).
    #[error("{0} is not supported by this exception store")]
    Unsupported(&'static str),
    /// `commit_merge` asked for more entries than the current area holds.
    #[error("cannot merge {requested} exceptions: only {available} committed in the current area")]
    MergeTooMany {
        /// Entries asked for.
        requested: u64,
        /// Entries available.
        available: u64,
    },
    /// An I/O error from the device.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with its byte offset.
        context: String,
        /// The device's error.
        #[source]
        source: io::Error,
    },
}

impl CowError {
    /// Wrap an I/O error with what was being done.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        CowError::Io {
            context: context.into(),
            source,
        }
    }
}
