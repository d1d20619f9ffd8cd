//! Watching COW fill: dmeventd's snapshot policy (warnings in 5 % steps from
//! 80 %, an extension attempt per step from 50 %, a notice on invalidation)
//! and lvm2's autoextend arithmetic.

pub mod policy;
pub mod watcher;
