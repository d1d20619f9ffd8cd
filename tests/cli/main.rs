//! Command-line tests of rlvm's programs, run against the built binaries.

mod crash_loop;
mod device_suite;
mod diff;
mod diff_active;
mod docs;
mod golden_cow;
mod lvm2_commands;
mod monitor_engine;
mod multicall;
mod rcow;
mod rdmsetup;
mod snapshots_engine;
mod support;
mod units;
