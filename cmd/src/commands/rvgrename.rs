//! `rvgrename`: rename a volume group (by name or UUID), and its active devices.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use rlvm::ops::vg_change::vg_rename;
use rlvm::ops::volumes::OpenVg;

use super::lvm_common::{candidate_devices, try_backend};
use super::lvm_options::{lvm_cli, ChangeArgs, CommonArgs};

/// Rename a volume group; the active devices of its logical volumes are renamed with it.
#[derive(Debug, Parser)]
#[command(name = "rvgrename")]
pub struct Cli {
    /// The volume group's name or UUID.
    #[arg(value_name = "VG")]
    old: String,
    /// Its new name.
    #[arg(value_name = "NEWVG")]
    new: String,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    change: ChangeArgs,
}

lvm_cli!(Cli);

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rvgrename", args, |cli: Cli| {
        let devices = candidate_devices();
        if cli.old == cli.new {
            anyhow::bail!("Old and new volume group names must differ");
        }
        let open = OpenVg::open(&cli.old, &devices)?;
        let backend = try_backend();
        vg_rename(open, &cli.new, &devices, backend.as_deref())?;
        rlvm::log::print(format!(
            "Volume group \"{}\" successfully renamed to \"{}\"",
            cli.old, cli.new
        ));
        Ok(())
    })
}
