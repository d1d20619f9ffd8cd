//! `rvgs`: report volume groups as lvm2's vgs does.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use rlvm::report::fields::{VG_DEFAULT, VG_FIELDS};

use super::lvm_common::{all_vgs, print_report, vg_row, ReportArgs};
use super::lvm_options::{CommonArgs, HasCommon};

/// Display information about volume groups.
#[derive(Debug, Parser)]
#[command(name = "rvgs")]
pub struct Cli {
    /// Volume groups (default: all).
    #[arg(value_name = "VG")]
    names: Vec<String>,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    common: CommonArgs,
}

impl HasCommon for Cli {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

/// The clap definition.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rvgs", args, |cli: Cli| {
        let vgs = all_vgs();
        for name in &cli.names {
            if !vgs.iter().any(|open| &open.vg.name == name) {
                anyhow::bail!("volume group \"{name}\" not found");
            }
        }
        let rows: Vec<_> = vgs
            .iter()
            .filter(|open| cli.names.is_empty() || cli.names.contains(&open.vg.name))
            .map(|open| vg_row(&open.vg))
            .collect();
        print_report("vg", VG_FIELDS, VG_DEFAULT, &["vg_"], &cli.report, &rows)
    })
}
