//! Every way a sync stream, a source snapshot or a target can be refused, one
//! variant per reason, each naming the record, snapshot or file it is about.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

use crate::backend::BackendError;
use crate::cow::CowError;
use crate::ops::volumes::VolumeError;
use crate::ops::OpsError;

/// A sync stream that is malformed, a source that cannot be exported, or a target that refuses the stream.
#[derive(Debug, Error)]
pub enum SyncError {
    /// The stream does not start with `RLVSYNC` magic.
    #[error("not an rlvsync stream (bad magic at byte 0)")]
    BadMagic,
    /// The stream's format version is not one this build reads.
    #[error(
        "rlvsync stream version {found} is not supported (this build reads versions {} to {})",
        super::format::OLDEST_VERSION,
        super::format::VERSION
    )]
    UnsupportedVersion {
        /// The version found.
        found: u32,
    },
    /// The header's checksum does not match its bytes, or a field is out of range.
    #[error("stream header: {reason}")]
    BadHeader {
        /// What is wrong.
        reason: String,
    },
    /// A record's checksum does not match: nothing of it was written.
    #[error("record {record} (chunk {chunk}, stream byte {offset}): checksum mismatch, nothing of it was written")]
    RecordChecksum {
        /// Record number, from 0.
        record: u64,
        /// Chunk index the record claims.
        chunk: u64,
        /// Stream offset of the record.
        offset: u64,
    },
    /// A record breaks the stream's rules (order, range, length).
    #[error("record {record} (stream byte {offset}): {reason}")]
    BadRecord {
        /// Record number, from 0.
        record: u64,
        /// Stream offset of the record.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The stream ends before its trailer.
    #[error(
        "stream truncated at byte {offset}: {what} is cut short (after {records} whole records)"
    )]
    Truncated {
        /// What was being read.
        what: String,
        /// Stream offset where it ends.
        offset: u64,
        /// Whole records read before the cut.
        records: u64,
    },
    /// The trailer disagrees with what was read.
    #[error("stream trailer: {reason}")]
    BadTrailer {
        /// What is wrong.
        reason: String,
    },
    /// Data follows the trailer.
    #[error("{bytes} bytes follow the stream's trailer")]
    TrailingBytes {
        /// How many (at least).
        bytes: u64,
    },
    /// The named LV is not a snapshot.
    #[error("{vg}/{lv} is not a snapshot")]
    NotASnapshot {
        /// VG name.
        vg: String,
        /// LV name.
        lv: String,
    },
    /// The snapshot is merging into its origin: its COW is being emptied.
    #[error("{vg}/{lv} is merging into its origin: its exception list is being consumed")]
    Merging {
        /// VG name.
        vg: String,
        /// LV name.
        lv: String,
    },
    /// The snapshot is invalid (full COW or I/O error): its list is not the truth.
    #[error("{vg}/{lv} is invalid: its COW no longer records every changed chunk")]
    Invalid {
        /// VG name.
        vg: String,
        /// LV name.
        lv: String,
    },
    /// The snapshot's store is transient: its exception list is in memory only.
    #[error("{vg}/{lv} is a transient (N) snapshot: its exception list lives only in the loaded table and is lost on reactivation, so it cannot say what changed")]
    Transient {
        /// VG name.
        vg: String,
        /// LV name.
        lv: String,
    },
    /// The snapshot's devices are not active.
    #[error("{vg}/{lv} is not active (activate its origin with rlvchange -ay)")]
    NotActive {
        /// VG name.
        vg: String,
        /// LV name.
        lv: String,
    },
    /// The COW's exception list cannot be read: the store on its device is missing or damaged.
    #[error("{what}: no usable exception list")]
    NoExceptionList {
        /// The snapshot or COW file.
        what: String,
        /// The store's error.
        #[source]
        source: CowError,
    },
    /// The COW records chunks of some other origin, or the two snapshots have different origins.
    #[error("{what}")]
    OtherOrigin {
        /// What does not match.
        what: String,
    },
    /// NEW was taken before OLD: the stream would not be the volume as of NEW.
    #[error(
        "{new} was taken before {old}: give the older snapshot to --since and the newer to --at"
    )]
    WrongOrder {
        /// OLD's name.
        old: String,
        /// NEW's name.
        new: String,
    },
    /// The target's previous round was of another source, size or snapshot.
    #[error("{target}: {reason} (use --force to apply anyway)")]
    TargetMismatch {
        /// The target.
        target: String,
        /// What differs.
        reason: String,
    },
    /// `--resume` was asked for but there is nothing to resume, or the stream is another one.
    #[error("{target}: cannot resume: {reason}")]
    CannotResume {
        /// The target.
        target: String,
        /// Why.
        reason: String,
    },
    /// The target's bytes differ from the stream's (verify).
    #[error("{target}: {mismatched} of {records} records differ from the stream (first at chunk {first_chunk})")]
    Differs {
        /// The target.
        target: String,
        /// Records whose bytes differ.
        mismatched: u64,
        /// Records checked.
        records: u64,
        /// Chunk index of the first difference.
        first_chunk: u64,
    },
    /// The target is smaller than the stream's volume.
    #[error(
        "{target}: {target_bytes} bytes, smaller than the stream's {origin_bytes}-byte volume"
    )]
    TargetTooSmall {
        /// The target.
        target: String,
        /// Its size.
        target_bytes: u64,
        /// The stream's origin size.
        origin_bytes: u64,
    },
    /// An NBD server answered something this client cannot use.
    #[error("{uri}: {reason}")]
    Nbd {
        /// The URI.
        uri: String,
        /// What went wrong.
        reason: String,
    },
    /// The progress file next to the target is damaged.
    #[error("{path}: damaged progress file: {reason}")]
    BadProgressFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An I/O error, with what was being done.
    #[error("{context}")]
    Io {
        /// What was being done, with its path or offset.
        context: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The VG's metadata could not be read or changed.
    #[error(transparent)]
    Volume(VolumeError),
    /// A name breaks lvm2's rules.
    #[error(transparent)]
    Name(crate::names::NameError),
    /// A dm operation failed.
    #[error(transparent)]
    Backend(BackendError),
    /// Building the new snapshot's devices failed (and was undone).
    #[error("taking the new snapshot")]
    Ops(#[source] OpsError),
    /// The operations layer refused or failed to take the new snapshot.
    #[error(transparent)]
    Lvm(Box<crate::ops::lvm::LvmError>),
}

impl SyncError {
    /// Wrap an I/O error with what was being done.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        SyncError::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<VolumeError> for SyncError {
    fn from(e: VolumeError) -> Self {
        SyncError::Volume(e)
    }
}

impl From<BackendError> for SyncError {
    fn from(e: BackendError) -> Self {
        SyncError::Backend(e)
    }
}

impl From<crate::ops::lvm::LvmError> for SyncError {
    fn from(e: crate::ops::lvm::LvmError) -> Self {
        SyncError::Lvm(Box::new(e))
    }
}

impl From<OpsError> for SyncError {
    fn from(e: OpsError) -> Self {
        SyncError::Ops(e)
    }
}

impl From<crate::names::NameError> for SyncError {
    fn from(e: crate::names::NameError) -> Self {
        SyncError::Name(e)
    }
}
