//! Command-line tests of rlvm's programs, run against the built binaries.

mod crash_loop;
mod device_suite;
mod diff;
mod diff_active;
mod diff_qemu;
mod docs;
mod engine_safety;
mod golden_cow;
mod lvm2_commands;
mod lvm2_metadata;
mod lvm2_scan;
mod lvm2_style;
mod lvm_ops;
mod monitor_engine;
mod multicall;
mod rcow;
mod rdmsetup;
mod rdmsetup_options;
mod rlvsync;
mod snapshots_engine;
mod support;
mod units;
