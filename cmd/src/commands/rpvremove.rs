//! `rpvremove`: take the label off physical volumes that belong to no VG.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use rlvm::ops::volumes::pv_remove;

use super::lvm_common::unregister_file;

/// Remove the LVM label from physical volumes.
#[derive(Debug, Parser)]
#[command(name = "rpvremove", version)]
pub struct Cli {
    /// Physical volumes.
    #[arg(required = true, value_name = "PV")]
    pvs: Vec<PathBuf>,
    /// Accepted for lvm2 compatibility; a PV in a VG is still refused.
    #[arg(short, long)]
    force: bool,
    /// Answer yes to every prompt.
    #[arg(short, long)]
    yes: bool,
}

/// The clap definition.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run("rpvremove", args, |cli: Cli| {
        for path in &cli.pvs {
            pv_remove(path)?;
            unregister_file(path)?;
            println!(
                "  Labels on physical volume \"{}\" successfully wiped.",
                path.display()
            );
        }
        Ok(())
    })
}
