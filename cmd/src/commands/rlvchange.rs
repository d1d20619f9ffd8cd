//! `rlvchange -a y|n`: activate or deactivate logical volumes from metadata.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use rlvm::ops::snapshots::{activate_lv, deactivate_lv, snapshot_of};
use rlvm::ops::volumes::OpenVg;

use super::lvm_common::{candidate_devices, finish_pending_merge, split_lv};
use super::lvm_options::{CommonArgs, HasCommon};

/// Change the activation of logical volumes.
#[derive(Debug, Parser)]
#[command(name = "rlvchange")]
pub struct Cli {
    /// Logical volumes, as VG/LV.
    #[arg(required = true, value_name = "VG/LV")]
    lvs: Vec<String>,
    /// Activate (y) or deactivate (n).
    #[arg(short = 'a', long = "activate", value_name = "y|n", required = true, value_parser = ["y", "n", "ay"])]
    activate: String,
    /// After activation, wait for a pending snapshot merge to finish and
    /// drop the merged snapshot (y, the default), or leave it running (n).
    #[arg(long, value_name = "y|n", default_value = "y", value_parser = ["y", "n"])]
    poll: String,
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
    crate::exit::run_lvm("rlvchange", args, |cli: Cli| {
        let backend = rlvm::backend::open_backend()?;
        let devices = candidate_devices();
        for arg in &cli.lvs {
            let (vg, lv) = split_lv(arg)?;
            let open = OpenVg::open_read(&vg, &devices)?;
            if cli.activate == "n" {
                deactivate_lv(backend.as_ref(), &open, &lv)?;
            } else {
                activate_lv(backend.as_ref(), &open, &lv)?;
                let origin = snapshot_of(&open.vg, &lv).map_or(lv.clone(), |s| s.0);
                drop(open);
                if cli.poll == "y" {
                    finish_pending_merge(backend.as_ref(), &vg, &origin)?;
                }
            }
        }
        Ok(())
    })
}
