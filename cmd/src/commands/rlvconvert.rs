//! `rlvconvert --merge`: roll an origin back to its snapshot, through
//! [`rlvm::ops::lvm::Session::merge`] and [`rlvm::ops::lvm::Session::finish_merge`].

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use rlvm::ops::lvm::{MergeStart, Session};

use super::lvm_common::{candidate_devices, split_lv, try_backend};
use super::lvm_options::{lvm_cli, ChangeArgs, CommonArgs, YesNo};

/// Merge a snapshot back into its origin.
#[derive(Debug, Parser)]
#[command(name = "rlvconvert")]
pub struct Cli {
    /// The snapshot, as VG/SNAP.
    #[arg(value_name = "VG/SNAP")]
    lv: String,
    /// Merge the snapshot into its origin (the only conversion rlvm does).
    #[arg(long, required = true)]
    merge: bool,
    /// Seconds between progress reports.
    #[arg(
        short = 'i',
        long = "interval",
        value_name = "SECONDS",
        default_value = "1",
        value_parser = parse_interval
    )]
    interval: f64,
    /// Start the merge and return without waiting for it.
    #[arg(short = 'b', long = "background")]
    background: bool,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    change: ChangeArgs,
}

lvm_cli!(Cli);

fn parse_interval(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => Ok(seconds),
        _ => Err(format!("'{text}' is not a number of seconds")),
    }
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rlvconvert", args, |cli: Cli| {
        let (vg_name, snap) = split_lv(&cli.lv)?;
        let test = cli.common.test;
        let backend = try_backend();
        let driver = cli.common.driverloaded != Some(YesNo::N);
        let mut session = Session::open(&vg_name, &candidate_devices(), backend.as_deref(), test)?
            .driverloaded(driver);
        let started = session.merge(&snap)?;
        let origin = session.stack_of(&snap)?;
        let deferred = || {
            rlvm::log::print(format!(
                "Merging of snapshot {vg_name}/{snap} will occur on next activation of {vg_name}/{origin}."
            ))
        };
        match started {
            MergeStart::Deferred => {
                deferred();
                return Ok(());
            }
            MergeStart::DelayedOpen => {
                rlvm::log::print("Delaying merge since origin is open.");
                deferred();
                return Ok(());
            }
            MergeStart::Started => {
                rlvm::log::print(format!("Merging of volume {vg_name}/{snap} started."))
            }
            MergeStart::Running => {}
        }
        if cli.background {
            return Ok(());
        }
        let interval = Duration::from_secs_f64(cli.interval.clamp(0.05, 60.0));
        let finished = session.finish_merge(&origin, interval, |percent| {
            rlvm::log::print(format!("{vg_name}/{origin}: Merged: {percent:.2}%"))
        })?;
        if finished.is_some() {
            rlvm::log::print(format!(
                "Merge of snapshot into logical volume {vg_name}/{origin} has finished."
            ));
        }
        Ok(())
    })
}
