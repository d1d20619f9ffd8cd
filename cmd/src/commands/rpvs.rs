//! `rpvs`: report physical volumes as lvm2's pvs does.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use rlvm::report::query::ReportType;

use super::lvm_common::{run_report, ReportArgs};
use super::lvm_options::{lvm_cli, CommonArgs};

/// Display information about physical volumes.
#[derive(Debug, Parser)]
#[command(name = "rpvs")]
pub struct Cli {
    /// Physical volumes or @tags (default: all).
    #[arg(value_name = "PV|@TAG")]
    names: Vec<String>,
    /// Accepted as lvm2 accepts it (every device with a label is listed).
    #[arg(short, long)]
    all: bool,
    /// One row per PV segment, with lvm2's segment columns.
    #[arg(long)]
    segments: bool,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    common: CommonArgs,
}

lvm_cli!(Cli, reporting);

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rpvs", args, |cli: Cli| {
        run_report(
            ReportType::Pvs,
            "rpvs",
            &cli.names,
            &cli.report,
            &cli.common,
            cli.segments,
            cli.all,
        )
    })
}
