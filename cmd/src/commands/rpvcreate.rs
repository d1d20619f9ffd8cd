//! `rpvcreate`: make devices or image files physical volumes.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rlvm::ops::volumes::pv_create;

use super::lvm_common::{register_file, PvInitArgs};
use super::lvm_options::{lvm_cli, CommonArgs};

/// Initialize physical volumes for use by rlvm and lvm2.
#[derive(Debug, Parser)]
#[command(name = "rpvcreate")]
pub struct Cli {
    /// Block devices or image files.
    #[arg(required = true, value_name = "PV")]
    pvs: Vec<PathBuf>,
    #[command(flatten)]
    init: PvInitArgs,
    #[command(flatten)]
    common: CommonArgs,
}

lvm_cli!(Cli);

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rpvcreate", args, |cli: Cli| {
        let options = cli.init.options()?;
        for path in &cli.pvs {
            pv_create(path, &options)?;
            if std::fs::metadata(path)?.is_file() {
                register_file(path)?;
            }
            rlvm::log::print(format!(
                "Physical volume \"{}\" successfully created.",
                path.display()
            ));
        }
        Ok(())
    })
}
