//! `rpvs`: report physical volumes as lvm2's pvs does.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use rlvm::report::fields::{PvRow, PV_DEFAULT, PV_FIELDS};

use super::lvm_common::{all_vgs, orphan_pv_rows, print_report, pv_rows, ReportArgs};
use super::lvm_options::{CommonArgs, HasCommon};

/// Display information about physical volumes.
#[derive(Debug, Parser)]
#[command(name = "rpvs")]
pub struct Cli {
    /// Physical volumes (default: all).
    #[arg(value_name = "PV")]
    names: Vec<PathBuf>,
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
    crate::exit::run_lvm("rpvs", args, |cli: Cli| {
        let mut rows: Vec<PvRow> = Vec::new();
        for open in all_vgs() {
            rows.extend(pv_rows(&open.vg, &open.paths));
        }
        rows.extend(orphan_pv_rows());
        if !cli.names.is_empty() {
            let wanted: Vec<String> = cli.names.iter().map(|p| p.display().to_string()).collect();
            for name in &wanted {
                if !rows.iter().any(|r| &r.name == name) {
                    anyhow::bail!("failed to find physical volume \"{name}\"");
                }
            }
            rows.retain(|r| wanted.contains(&r.name));
        }
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        print_report("pv", PV_FIELDS, PV_DEFAULT, &["pv_"], &cli.report, &rows)
    })
}
