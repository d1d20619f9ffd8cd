//! `rvgcfgbackup`: write volume groups' metadata to lvm2's backup files.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rlvm::ops::vg_change::vg_cfg_backup;
use rlvm::ops::volumes::OpenVg;

use super::lvm_common::{all_vgs, candidate_devices};
use super::lvm_options::{lvm_cli, CommonArgs};

/// Back up volume group metadata: to the backup directory
/// (`backup/backup_dir`), or to FILE (`%s` in it becomes the VG name).
#[derive(Debug, Parser)]
#[command(name = "rvgcfgbackup")]
pub struct Cli {
    /// Volume groups (default: all).
    #[arg(value_name = "VG")]
    vgs: Vec<String>,
    /// Write the metadata to this file instead (`%s`: the VG name).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// Ignored: lvm2's option for VGs whose metadata is inconsistent.
    #[arg(long = "ignorelockingfailure")]
    ignorelockingfailure: bool,
    #[command(flatten)]
    common: CommonArgs,
}

lvm_cli!(Cli);

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rvgcfgbackup", args, |cli: Cli| {
        let opened = if cli.vgs.is_empty() {
            all_vgs()
        } else {
            let devices = candidate_devices();
            cli.vgs
                .iter()
                .map(|name| OpenVg::open_read(name, &devices))
                .collect::<Result<Vec<_>, _>>()?
        };
        for open in &opened {
            vg_cfg_backup(&open.vg, cli.file.as_deref())?;
            rlvm::log::print(format!(
                "Volume group \"{}\" successfully backed up.",
                open.vg.name
            ));
        }
        Ok(())
    })
}
