//! `rvgreduce`: remove unused physical volumes from a volume group.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgGroup, Parser};
use rlvm::ops::vg_change::{vg_reduce, vg_reduce_missing, Reduced, RemovedMissing};
use rlvm::ops::volumes::OpenVg;

use super::lvm_common::candidate_devices;
use super::lvm_options::{lvm_cli, ChangeArgs, CommonArgs};

/// Remove physical volumes that hold no logical volume from a volume group;
/// they become orphan PVs.
#[derive(Debug, Parser)]
#[command(name = "rvgreduce")]
#[command(group(ArgGroup::new("which").required(true).multiple(true).args(["pvs", "all", "removemissing"])))]
pub struct Cli {
    /// The volume group.
    #[arg(value_name = "VG")]
    vg: String,
    /// Physical volumes to remove.
    #[arg(value_name = "PV")]
    pvs: Vec<PathBuf>,
    /// Remove every PV that holds no logical volume (the last one stays).
    #[arg(short = 'a', long = "all")]
    all: bool,
    /// Remove PVs that cannot be found from the metadata.
    #[arg(long = "removemissing")]
    removemissing: bool,
    /// With --removemissing, only from mirror LVs (rlvm has none; accepted).
    #[arg(long = "mirrorsonly")]
    mirrorsonly: bool,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    change: ChangeArgs,
}

lvm_cli!(Cli);

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rvgreduce", args, |cli: Cli| {
        let devices = candidate_devices();
        if cli.removemissing {
            match vg_reduce_missing(&cli.vg, &devices, cli.change.forced())? {
                RemovedMissing::AlreadyConsistent => rlvm::log::print(format!(
                    "Volume group \"{}\" is already consistent.",
                    cli.vg
                )),
                RemovedMissing::Written { .. } => {
                    rlvm::log::print(format!("Wrote out consistent volume group {}.", cli.vg))
                }
            }
            if cli.pvs.is_empty() && !cli.all {
                return Ok(());
            }
        }
        let mut open = OpenVg::open(&cli.vg, &devices)?;
        let mut refused = 0;
        for answer in vg_reduce(&mut open, &cli.pvs, cli.all)? {
            match answer {
                Reduced::Removed(path) => {
                    rlvm::log::print(format!(
                        "Removed \"{}\" from volume group \"{}\"",
                        path.display(),
                        cli.vg
                    ));
                }
                Reduced::Refused(message) => {
                    eprintln!("  {message}");
                    refused += 1;
                }
            }
        }
        if refused > 0 {
            // lvm2 says nothing more than each refusal.
            return Err(super::lvm_common::lvm2_failure(
                "",
                crate::exit::COMMAND_FAILED,
            ));
        }
        Ok(())
    })
}
