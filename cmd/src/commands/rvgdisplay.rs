//! `rvgdisplay`: display volume groups as lvm2's vgdisplay does (`-v` with
//! their LVs and PVs, `-c` colon lines, `-s` one line each, `-C` the vgs report).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use rlvm::report::display::{lv_full, vg_colon, vg_full, vg_short};
use rlvm::report::query::ReportType;
use rlvm::report::values::Row;

use super::lvm_common::{display_input, run_report, scan_order, ReportArgs};
use super::lvm_options::{lvm_cli, CommonArgs};

/// Display volume group information.
#[derive(Debug, Parser)]
#[command(name = "rvgdisplay")]
pub struct Cli {
    /// Volume groups or @tags (default: all).
    #[arg(value_name = "VG|@TAG")]
    names: Vec<String>,
    /// Only VGs with active LVs.
    #[arg(short = 'A', long)]
    activevolumegroups: bool,
    /// One colon-separated line per VG.
    #[arg(short = 'c', long)]
    colon: bool,
    /// The vgs report instead (takes the report options).
    #[arg(short = 'C', long)]
    columns: bool,
    /// One short line per VG.
    #[arg(short = 's', long)]
    short: bool,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    common: CommonArgs,
}

lvm_cli!(Cli, reporting);

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rvgdisplay", args, |cli: Cli| {
        super::lvm_common::apply_display_units(&cli.report, &cli.common);
        if cli.columns {
            return run_report(
                ReportType::Vgs,
                "rvgdisplay",
                &cli.names,
                &cli.report,
                &cli.common,
                false,
                false,
            );
        }
        let input = display_input(ReportType::Vgs, &cli.names, &cli.report, &cli.common)?;
        let mut out = String::new();
        for vg in scan_order(&input.inventory) {
            if !input.wanted.wants_vg(vg) {
                continue;
            }
            let row = Row {
                vg: Some(vg),
                ..Default::default()
            };
            if !input.selects(&row) {
                continue;
            }
            let active = vg.lvs.iter().any(|lv| {
                lv.device
                    .as_ref()
                    .and_then(|d| d.as_ref())
                    .is_some_and(|(s, _)| s.live_table)
            });
            if cli.activevolumegroups && !active {
                continue;
            }
            if cli.colon {
                out.push_str(&vg_colon(vg));
            } else if cli.short {
                out.push_str(&vg_short(vg));
            } else {
                out.push_str(&vg_full(vg));
                if cli.common.verbose > 0 {
                    for lv in vg.lvs.iter().filter(|lv| lv.visible) {
                        out.push_str(&lv_full(vg, lv, false));
                    }
                    out.push_str("  --- Physical volumes ---\n");
                    for pv in &vg.pvs {
                        out.push_str(&format!("  PV Name               {}     \n", pv.name));
                        out.push_str(&format!("  PV UUID               {}\n", pv.uuid));
                        out.push_str(&format!(
                            "  PV Status             {}\n",
                            if pv.allocatable { "allocatable" } else { "" }
                        ));
                        out.push_str(&format!(
                            "  Total PE / Free PE    {} / {}\n",
                            pv.pe_count,
                            pv.pe_count - pv.pe_alloc_count
                        ));
                        out.push_str("   \n");
                    }
                }
            }
        }
        input.finish(&out)
    })
}
