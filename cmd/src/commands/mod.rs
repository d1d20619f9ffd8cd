//! One module per program.

use crate::Program;

pub mod lvm_common;
pub mod lvm_options;
pub mod rcow;
pub mod rdmd;
pub mod rdmsetup;
pub mod rlvchange;
pub mod rlvconvert;
pub mod rlvcreate;
pub mod rlvdisplay;
pub mod rlvextend;
pub mod rlvmonitor;
pub mod rlvremove;
pub mod rlvrename;
pub mod rlvs;
pub mod rlvscan;
pub mod rlvsync;
pub mod rpvchange;
pub mod rpvcreate;
pub mod rpvdisplay;
pub mod rpvremove;
pub mod rpvresize;
pub mod rpvs;
pub mod rpvscan;
pub mod rvgcfgbackup;
pub mod rvgcfgrestore;
pub mod rvgchange;
pub mod rvgcreate;
pub mod rvgdisplay;
pub mod rvgextend;
pub mod rvgreduce;
pub mod rvgremove;
pub mod rvgrename;
pub mod rvgs;
pub mod rvgscan;

/// The registry that `rlvm`, the shims and the doc generator read.
pub(crate) const PROGRAMS: &[Program] = &[
    Program {
        name: "rcow",
        command: rcow::command,
        run: rcow::run,
    },
    Program {
        name: "rdmd",
        command: rdmd::command,
        run: rdmd::run,
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
    Program {
        name: "rlvcreate",
        command: rlvcreate::command,
        run: rlvcreate::run,
    },
    Program {
        name: "rlvreduce",
        command: rlvextend::command_reduce,
        run: rlvextend::run_reduce,
    },
    Program {
        name: "rlvresize",
        command: rlvextend::command_resize,
        run: rlvextend::run_resize,
    },
    Program {
        name: "rlvremove",
        command: rlvremove::command,
        run: rlvremove::run,
    },
    Program {
        name: "rlvrename",
        command: rlvrename::command,
        run: rlvrename::run,
    },
    Program {
        name: "rlvs",
        command: rlvs::command,
        run: rlvs::run,
    },
    Program {
        name: "rlvsync",
        command: rlvsync::command,
        run: rlvsync::run,
    },
    Program {
        name: "rpvcreate",
        command: rpvcreate::command,
        run: rpvcreate::run,
    },
    Program {
        name: "rpvremove",
        command: rpvremove::command,
        run: rpvremove::run,
    },
    Program {
        name: "rpvs",
        command: rpvs::command,
        run: rpvs::run,
    },
    Program {
        name: "rpvscan",
        command: rpvscan::command,
        run: rpvscan::run,
    },
    Program {
        name: "rvgcreate",
        command: rvgcreate::command,
        run: rvgcreate::run,
    },
    Program {
        name: "rvgextend",
        command: rvgextend::command,
        run: rvgextend::run,
    },
    Program {
        name: "rvgremove",
        command: rvgremove::command,
        run: rvgremove::run,
    },
    Program {
        name: "rvgs",
        command: rvgs::command,
        run: rvgs::run,
    },
    Program {
        name: "rlvchange",
        command: rlvchange::command,
        run: rlvchange::run,
    },
    Program {
        name: "rvgchange",
        command: rvgchange::command,
        run: rvgchange::run,
    },
    Program {
        name: "rlvextend",
        command: rlvextend::command,
        run: rlvextend::run,
    },
    Program {
        name: "rlvconvert",
        command: rlvconvert::command,
        run: rlvconvert::run,
    },
    Program {
        name: "rvgcfgbackup",
        command: rvgcfgbackup::command,
        run: rvgcfgbackup::run,
    },
    Program {
        name: "rvgcfgrestore",
        command: rvgcfgrestore::command,
        run: rvgcfgrestore::run,
    },
    Program {
        name: "rvgrename",
        command: rvgrename::command,
        run: rvgrename::run,
    },
    Program {
        name: "rvgreduce",
        command: rvgreduce::command,
        run: rvgreduce::run,
    },
    Program {
        name: "rpvresize",
        command: rpvresize::command,
        run: rpvresize::run,
    },
    Program {
        name: "rpvchange",
        command: rpvchange::command,
        run: rpvchange::run,
    },
    Program {
        name: "rlvscan",
        command: rlvscan::command,
        run: rlvscan::run,
    },
    Program {
        name: "rvgscan",
        command: rvgscan::command,
        run: rvgscan::run,
    },
    Program {
        name: "rlvdisplay",
        command: rlvdisplay::command,
        run: rlvdisplay::run,
    },
    Program {
        name: "rvgdisplay",
        command: rvgdisplay::command,
        run: rvgdisplay::run,
    },
    Program {
        name: "rpvdisplay",
        command: rpvdisplay::command,
        run: rpvdisplay::run,
    },
];
