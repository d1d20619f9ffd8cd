//! `rlvdisplay`: display logical volumes as lvm2's lvdisplay does (`-m`
//! maps, `-c` colon lines, `-C` the lvs report).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use rlvm::report::display::{lv_colon, lv_full};
use rlvm::report::query::ReportType;
use rlvm::report::values::Row;

use super::lvm_common::{
    display_input, lvm2_failure, run_report, scan_order, HistoryArgs, ReportArgs,
};
use super::lvm_options::{lvm_cli, CommonArgs};

/// Display information about logical volumes.
#[derive(Debug, Parser)]
#[command(name = "rlvdisplay")]
pub struct Cli {
    /// Volume groups, VG/LV names or @tags (default: all).
    #[arg(value_name = "VG|VG/LV|@TAG")]
    names: Vec<String>,
    /// Show hidden LVs too.
    #[arg(short, long)]
    all: bool,
    /// One colon-separated line per LV.
    #[arg(short = 'c', long)]
    colon: bool,
    /// The lvs report instead (takes the report options).
    #[arg(short = 'C', long)]
    columns: bool,
    /// Show each LV's segments and the PVs they map to.
    #[arg(short = 'm', long)]
    maps: bool,
    #[command(flatten)]
    history: HistoryArgs,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    common: CommonArgs,
}

lvm_cli!(Cli, reporting);

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rlvdisplay", args, |cli: Cli| {
        super::lvm_common::apply_display_units(&cli.report, &cli.common);
        if cli.colon && cli.maps {
            return Err(lvm2_failure(
                "  Options -c and -m are incompatible.\n  Run `lvdisplay --help' for more information.",
                crate::exit::INVALID_COMMAND_LINE,
            ));
        }
        if cli.columns {
            return run_report(
                ReportType::Lvs,
                "rlvdisplay",
                &cli.names,
                &cli.report,
                &cli.common,
                false,
                cli.all,
            );
        }
        let input = display_input(ReportType::Lvs, &cli.names, &cli.report, &cli.common)?;
        let mut out = String::new();
        for vg in scan_order(&input.inventory) {
            for lv in &vg.lvs {
                if !(lv.visible || cli.all) || !input.wanted.wants_lv(vg, lv) {
                    continue;
                }
                let row = Row {
                    vg: Some(vg),
                    lv: Some(lv),
                    ..Default::default()
                };
                if !input.selects(&row) {
                    continue;
                }
                if cli.colon {
                    out.push_str(&lv_colon(lv));
                } else {
                    out.push_str(&lv_full(vg, lv, cli.maps));
                }
            }
        }
        input.finish(&out)
    })
}
