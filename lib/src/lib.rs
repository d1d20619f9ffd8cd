//! rlvm: LVM2-style volume management built around device-mapper snapshots.
//!
//! The crate is the product; the command-line programs in `cmd/` only parse
//! arguments, call into it and render. Each module owns one concept:
//!
//! | module | concept |
//! |---|---|
//! | [`units`] | sectors, bytes and lvm2's size syntax |
//! | [`names`] | lvm2 name rules, dm names (`VG-LV-real`, `VG-SNAP-cow`) and dm UUIDs |
//! | [`io`] | the block-I/O seam under every on-disk format |
//! | [`dm`] | the device-mapper table model: targets, table lines, status lines |
//! | [`cow`] | the kernel's persistent (and transient) COW exception store |
//! | [`backend`] | the dm operations behind one trait: kernel ioctls or the userspace engine |
//! | [`lvm2`] | LVM2's on-disk metadata: label, PV header, metadata areas, text metadata |
//! | [`sync`] | incremental backup streams from snapshots: export, apply, verify |
//! | [`log`] | lvm2's message classes (result lines, warnings, progress) under `-q`/`-v` |
//!
//! # The four-device snapshot stack
//!
//! A snapshot of `vg/base` named `snap` is four dm devices (see
//! [`names::DmLayer`]): `vg-base-real` (linear, the origin's old mapping),
//! `vg-snap-cow` (linear, the COW space), `vg-snap` (`snapshot real cow P 8`)
//! and `vg-base` (`snapshot-origin real`), loaded with the origin suspended so
//! that the snapshot is one point in time.

pub mod backend;
pub mod config;
pub mod cow;
pub mod dm;
pub mod io;
pub mod log;
pub mod lvm2;
pub mod monitor;
pub mod names;
pub mod ops;
pub mod report;
pub mod sync;
pub mod units;
