//! `rvgcreate`: a volume group over physical volumes.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rlvm::ops::vg_change::validate_tag;
use rlvm::ops::volumes::{vg_create, DEFAULT_EXTENT_SECTORS};
use rlvm::units::parse_size;

use super::lvm_common::candidate_devices;
use super::lvm_options::{lvm_cli, ChangeArgs, CommonArgs};

/// Create a volume group.
#[derive(Debug, Parser)]
#[command(name = "rvgcreate")]
pub struct Cli {
    /// Name of the new VG.
    vg: String,
    /// Its physical volumes.
    #[arg(required = true, value_name = "PV")]
    pvs: Vec<PathBuf>,
    /// Extent size (default 4 MiB).
    #[arg(short = 's', long = "physicalextentsize", value_name = "SIZE")]
    extent_size: Option<String>,
    /// Tag the new VG (repeatable).
    #[arg(long = "addtag", value_name = "TAG", value_parser = validate_tag)]
    addtag: Vec<String>,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    change: ChangeArgs,
}

lvm_cli!(Cli);

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rvgcreate", args, |cli: Cli| {
        let extent = match &cli.extent_size {
            Some(s) => parse_size(s, 'm')? / 512,
            None => DEFAULT_EXTENT_SECTORS,
        };
        vg_create(&cli.vg, &cli.pvs, extent, &cli.addtag, &candidate_devices())?;
        rlvm::log::print(format!("Volume group \"{}\" successfully created", cli.vg));
        Ok(())
    })
}
