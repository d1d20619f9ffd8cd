//! `rlvremove`: deactivate and remove logical volumes, through
//! [`rlvm::ops::lvm::Session::remove`].

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use rlvm::ops::lvm::Session;

use super::lvm_common::{candidate_devices, confirm, split_lv, try_backend};
use super::lvm_options::{ChangeArgs, CommonArgs, HasCommon};

/// Remove logical volumes.
#[derive(Debug, Parser)]
#[command(name = "rlvremove")]
pub struct Cli {
    /// Logical volumes, as VG/LV.
    #[arg(required = true, value_name = "VG/LV")]
    lvs: Vec<String>,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    change: ChangeArgs,
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
    crate::exit::run_lvm("rlvremove", args, |cli: Cli| {
        let devices = candidate_devices();
        let backend = try_backend();
        let test = cli.common.test;
        let force = cli.change.forced();
        let mut ask = |question: &str| confirm(&cli.common, question);
        for arg in &cli.lvs {
            let (vg_name, lv_name) = split_lv(arg)?;
            let mut session = Session::open(&vg_name, &devices, backend.as_deref(), test)?;
            session.remove(&lv_name, force, &mut ask)?;
        }
        Ok(())
    })
}
