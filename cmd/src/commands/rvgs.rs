//! `rvgs`: report volume groups as lvm2's vgs does.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use rlvm::report::query::ReportType;

use super::lvm_common::{run_report, ReportArgs};
use super::lvm_options::{lvm_cli, CommonArgs};

/// Display information about volume groups.
#[derive(Debug, Parser)]
#[command(name = "rvgs")]
pub struct Cli {
    /// Volume groups or @tags (default: all).
    #[arg(value_name = "VG|@TAG")]
    names: Vec<String>,
    /// Accepted as lvm2 accepts it (vgs lists every VG it finds).
    #[arg(short, long)]
    all: bool,
    /// Accepted as lvm2 accepts it (rlvm has no partial VGs).
    #[arg(short = 'P', long)]
    partial: bool,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    common: CommonArgs,
}

lvm_cli!(Cli, reporting);

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rvgs", args, |cli: Cli| {
        run_report(
            ReportType::Vgs,
            "rvgs",
            &cli.names,
            &cli.report,
            &cli.common,
            false,
            cli.all,
        )
    })
}
