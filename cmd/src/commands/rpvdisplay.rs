//! `rpvdisplay`: display physical volumes as lvm2's pvdisplay does (`-m`
//! maps, `-c` colon lines, `-s` one line each, `-C` the pvs report).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use rlvm::report::display::{pv_colon, pv_full, pv_short};
use rlvm::report::query::ReportType;
use rlvm::report::values::Row;

use super::lvm_common::{display_input, run_report, scan_order, ReportArgs};
use super::lvm_options::{lvm_cli, CommonArgs};

/// Display various attributes of physical volumes.
#[derive(Debug, Parser)]
#[command(name = "rpvdisplay")]
pub struct Cli {
    /// Physical volumes or @tags (default: all).
    #[arg(value_name = "PV|@TAG")]
    names: Vec<String>,
    /// One colon-separated line per PV.
    #[arg(short = 'c', long)]
    colon: bool,
    /// The pvs report instead (takes the report options).
    #[arg(short = 'C', long)]
    columns: bool,
    /// Show which extents each LV uses.
    #[arg(short = 'm', long)]
    maps: bool,
    /// One short line per PV.
    #[arg(short = 's', long)]
    short: bool,
    /// Accepted as lvm2 accepts it.
    #[arg(short = 'a', long)]
    all: bool,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    common: CommonArgs,
}

lvm_cli!(Cli, reporting);

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rpvdisplay", args, |cli: Cli| {
        super::lvm_common::apply_display_units(&cli.report, &cli.common);
        if cli.columns {
            return run_report(
                ReportType::Pvs,
                "rpvdisplay",
                &cli.names,
                &cli.report,
                &cli.common,
                false,
                cli.all,
            );
        }
        let input = display_input(ReportType::Pvs, &cli.names, &cli.report, &cli.common)?;
        let pvs = scan_order(&input.inventory)
            .into_iter()
            .flat_map(|vg| vg.pvs.iter().map(move |pv| (Some(vg), pv)))
            .chain(input.inventory.orphans.iter().map(|pv| (None, pv)));
        let mut out = String::new();
        for (vg, pv) in pvs {
            if !input.wanted.wants_pv(pv) {
                continue;
            }
            let row = Row {
                vg,
                pv: Some(pv),
                ..Default::default()
            };
            if !input.selects(&row) {
                continue;
            }
            if cli.colon {
                out.push_str(&pv_colon(pv, cli.common.quiet >= 2));
            } else if cli.short {
                out.push_str(&pv_short(pv));
            } else {
                out.push_str(&pv_full(vg, pv, cli.maps, cli.common.quiet >= 2));
            }
        }
        input.finish(&out)
    })
}
