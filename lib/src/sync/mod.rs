//! Incremental backup from snapshots (`rlvsync`): a snapshot's COW lists the
//! origin chunks changed since it was taken; a stream of exactly those chunks,
//! read through a newer snapshot, brings a copy from OLD to NEW.
//!
//! | module | concept |
//! |---|---|
//! | `format` | the versioned stream: header, checksummed records, trailer with a whole-stream digest |
//! | `export` | which chunks (OLD's exception list, or all) and where they are read (NEW's device) |
//! | `snapshot` | taking NEW when `export` is not given one: the seam to the operations layer |
//! | `apply` | writing a stream to a file, block device, LV or NBD export; verify; info; snapback |
//! | `progress` | the progress file next to a target: resume, and the previous round's identity |
//! | `nbd` | a minimal NBD client for `nbd+unix://` targets |
//! | `timing` | phase timings on stderr when `RLVM_SYNC_TIMING` is set |

mod apply;
mod error;
mod export;
pub mod format;
mod nbd;
pub mod progress;
mod snapshot;
pub mod timing;

pub use apply::{
    apply, info, progress_of, verify, ApplyOptions, ApplyReport, StreamInfo, Target, VerifyReport,
    DEFAULT_CHECKPOINT_BYTES,
};
pub use error::SyncError;
pub use export::{check_old, full_plan, incremental_plan, offline_plan, ExportPlan};
pub use format::{DigestKind, SnapshotIdentity, SourceVolume, StreamHeader, StreamKind, Trailer};
pub use nbd::{NbdDisk, NbdUri};
pub use progress::RoundProgress;
pub use snapshot::{cow_extents, take_snapshot, CowSize};
