//! One module per program.

use crate::Program;

pub mod rcow;
pub mod rdmsetup;
pub mod rlvmonitor;

/// The registry that `rlvm`, the shims and the doc generator read.
pub(crate) const PROGRAMS: &[Program] = &[
    Program {
        name: "rcow",
        command: rcow::command,
        run: rcow::run,
    },
    Program {
        name: "rdmsetup",
        command: rdmsetup::command,
        run: rdmsetup::run,
    },
    Program {
        name: "rlvmonitor",
        command: rlvmonitor::command,
        run: rlvmonitor::run,
    },
];
