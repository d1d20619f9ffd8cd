//! `rvgextend`: add physical volumes to a volume group.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rlvm::ops::volumes::vg_extend;

use super::lvm_common::{candidate_devices, register_file, PvInitArgs};
use super::lvm_options::{lvm_cli, CommonArgs};

/// Add physical volumes to a volume group; devices or image files that are
/// not PVs yet are initialised first, as rpvcreate does.
#[derive(Debug, Parser)]
#[command(name = "rvgextend")]
pub struct Cli {
    /// The volume group.
    vg: String,
    /// Block devices, image files or orphan PVs to add.
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
    crate::exit::run_lvm("rvgextend", args, |cli: Cli| {
        let options = cli.init.options()?;
        let initialised = vg_extend(&cli.vg, &cli.pvs, &options, &candidate_devices())?;
        for (path, new) in cli.pvs.iter().zip(initialised) {
            if std::fs::metadata(path)?.is_file() {
                register_file(path)?;
            }
            if new {
                rlvm::log::print(format!(
                    "Physical volume \"{}\" successfully created.",
                    path.display()
                ));
            }
        }
        rlvm::log::print(format!("Volume group \"{}\" successfully extended", cli.vg));
        Ok(())
    })
}
