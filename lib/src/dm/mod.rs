//! The device-mapper table model: the kernel's table-line syntax parsed into
//! typed targets and printed back as the kernel prints it.
//!
//! A table is a list of [`TableLine`]s, `<start> <length> <target> <params>`
//! in 512-byte sectors. [`RawLine`] is the untyped form both backends pass to
//! and from the kernel (or the userspace engine); [`Target`] is its meaning.

mod device;
mod status;
mod table;
mod target;

pub use device::{DevRef, DevRefError};
pub use status::{SnapshotStatus, StatusError};
pub use table::{
    check_line_numbers, line_end, parse_table, RawLine, TableError, TableLine, MAX_SECTORS,
};
pub use target::{SnapshotParams, StoreKind, Target, TargetError};
