//! `rlvs`: report logical volumes as lvm2's lvs does.

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use rlvm::report::query::ReportType;

use super::lvm_common::{run_report, HistoryArgs, ReportArgs};
use super::lvm_options::{lvm_cli, CommonArgs};

/// Display information about logical volumes.
#[derive(Debug, Parser)]
#[command(name = "rlvs")]
pub struct Cli {
    /// Volume groups, VG/LV names or @tags (default: all).
    #[arg(value_name = "VG|VG/LV|@TAG")]
    names: Vec<String>,
    /// Show hidden LVs too (in brackets), as lvm2 does.
    #[arg(short, long)]
    all: bool,
    /// One row per segment, with lvm2's segment columns.
    #[arg(long)]
    segments: bool,
    /// Redraw the report every SECONDS until interrupted (on a terminal the
    /// screen is cleared between reports, elsewhere a blank line separates them).
    #[arg(long, value_name = "SECONDS", value_parser = parse_watch)]
    watch: Option<Duration>,
    #[command(flatten)]
    history: HistoryArgs,
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

lvm_cli!(Cli, reporting);

/// One report of the LVs `cli` names.
fn report(cli: &Cli) -> anyhow::Result<()> {
    run_report(
        ReportType::Lvs,
        "rlvs",
        &cli.names,
        &cli.report,
        &cli.common,
        cli.segments,
        cli.all,
    )
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
