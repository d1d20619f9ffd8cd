//! `rpvremove`: take the label off physical volumes that belong to no VG.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rlvm::ops::volumes::pv_remove_forced;

use super::lvm_common::unregister_file;
use super::lvm_options::{lvm_cli, ChangeArgs, CommonArgs};

/// Remove the LVM label from physical volumes.
#[derive(Debug, Parser)]
#[command(name = "rpvremove")]
pub struct Cli {
    /// Physical volumes.
    #[arg(required = true, value_name = "PV")]
    pvs: Vec<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    change: ChangeArgs,
}

lvm_cli!(Cli);

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rpvremove", args, |cli: Cli| {
        // lvm2 goes on to the next PV after one it cannot remove.
        let mut failed = false;
        for path in &cli.pvs {
            if let Err(e) = pv_remove_forced(path, cli.change.force > 1) {
                eprintln!("  {e:#}");
                failed = true;
                continue;
            }
            unregister_file(path)?;
            rlvm::log::print(format!(
                "Labels on physical volume \"{}\" successfully wiped.",
                path.display()
            ));
        }
        if failed {
            return Err(super::lvm_common::lvm2_failure(
                "",
                crate::exit::COMMAND_FAILED,
            ));
        }
        Ok(())
    })
}
