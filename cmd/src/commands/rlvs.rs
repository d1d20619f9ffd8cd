//! `rlvs`: report logical volumes as lvm2's lvs does.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};
use rlvm::report::fields::{LV_DEFAULT, LV_FIELDS};

use super::lvm_common::{all_vgs, lv_rows, print_report, split_lv, try_backend, ReportArgs};
use super::lvm_options::{CommonArgs, HasCommon};

/// Display information about logical volumes.
#[derive(Debug, Parser)]
#[command(name = "rlvs")]
pub struct Cli {
    /// Volume groups or VG/LV names (default: all).
    #[arg(value_name = "VG|VG/LV")]
    names: Vec<String>,
    /// Show hidden LVs too (in brackets), as lvm2 does.
    #[arg(short, long)]
    all: bool,
    /// Redraw the report every SECONDS until interrupted (on a terminal the
    /// screen is cleared between reports, elsewhere a blank line separates them).
    #[arg(long, value_name = "SECONDS", value_parser = parse_watch)]
    watch: Option<Duration>,
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    common: CommonArgs,
}

fn parse_watch(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !(0.1..=86_400.0).contains(&seconds) {
        return Err(format!("'{text}' is not between 0.1 and 86400 seconds"));
    }
    Ok(Duration::from_secs_f64(seconds))
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

/// One report of the LVs `cli` names.
fn report(cli: &Cli) -> anyhow::Result<()> {
    let backend = try_backend();
    let mut rows = Vec::new();
    let vgs = all_vgs();
    for name in &cli.names {
        let vg = name.split('/').next().unwrap_or_default();
        if !vgs.iter().any(|open| open.vg.name == vg) {
            anyhow::bail!("volume group \"{vg}\" not found");
        }
    }
    for open in &vgs {
        let wanted_lvs: Vec<String> = cli
            .names
            .iter()
            .filter_map(|n| split_lv(n).ok())
            .filter(|(vg, _)| vg == &open.vg.name)
            .map(|(_, lv)| lv)
            .collect();
        let whole = cli.names.is_empty() || cli.names.iter().any(|n| n == &open.vg.name);
        if !whole && wanted_lvs.is_empty() {
            continue;
        }
        let mut vg_rows = lv_rows(&open.vg, backend.as_deref(), cli.all);
        if !whole {
            vg_rows.retain(|row| wanted_lvs.contains(&row.name));
        }
        if rows.is_empty() {
            rows = vg_rows;
        } else {
            rows.append(&mut vg_rows);
        }
    }
    // The rows are a snapshot: release the VGs (their locks and memory) before rendering.
    drop(vgs);
    // lvm2's default order (lvm.conf report/lvs_sort = "vg_name,lv_name"),
    // by the bare name: a hidden LV sorts where its name, not its bracket, puts it.
    let bare = |name: &str| {
        name.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string()
    };
    rows.sort_by_cached_key(|row| (row.vg_name.clone(), bare(&row.name)));
    print_report("lv", LV_FIELDS, LV_DEFAULT, &["lv_"], &cli.report, &rows)
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rlvs", args, |cli: Cli| {
        let Some(every) = cli.watch else {
            return report(&cli);
        };
        let terminal = std::io::stdout().is_terminal();
        for frame in 0u64.. {
            {
                let mut out = std::io::stdout().lock();
                if terminal {
                    // Home the cursor and clear the screen, as watch(1) does.
                    out.write_all(b"\x1b[H\x1b[2J")?;
                } else if frame > 0 {
                    out.write_all(b"\n")?;
                }
            }
            report(&cli)?;
            std::io::stdout().flush()?;
            std::thread::sleep(every);
        }
        Ok(())
    })
}
