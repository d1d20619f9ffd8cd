//! `rlvrename`: rename a logical volume and every layer of its devices,
//! through [`rlvm::ops::lvm::Session::rename`].

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use super::lvm_common::{candidate_devices, split_lv, try_backend};
use super::lvm_options::{lvm_cli, ChangeArgs, CommonArgs};

/// Rename a logical volume: `VG OLD NEW` or `VG/OLD [VG/]NEW`.
#[derive(Debug, Parser)]
#[command(name = "rlvrename")]
pub struct Cli {
    /// VG, or VG/OLD.
    #[arg(value_name = "VG|VG/OLD")]
    first: String,
    /// OLD, or the new name.
    #[arg(value_name = "OLD|NEW")]
    second: String,
    /// The new name when the VG is given alone.
    #[arg(value_name = "NEW")]
    third: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    change: ChangeArgs,
}

lvm_cli!(Cli);

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rlvrename", args, |cli: Cli| {
        let (vg_name, old, new) = match &cli.third {
            Some(new) => (cli.first.clone(), cli.second.clone(), new.clone()),
            None => {
                let (vg, old) = split_lv(&cli.first)?;
                let new = match split_lv(&cli.second) {
                    Ok((new_vg, new)) if new_vg == vg => new,
                    Ok((new_vg, _)) => {
                        return Err(rlvm::ops::lvm::LvmError::Usage(format!(
                            "Logical volume names must have the same volume group (\"{vg}\" or \"{new_vg}\")"
                        ))
                        .into())
                    }
                    Err(_) => cli.second.clone(),
                };
                (vg, old, new)
            }
        };
        let backend = try_backend();
        let mut session = rlvm::ops::lvm::Session::open(
            &vg_name,
            &candidate_devices(),
            backend.as_deref(),
            cli.common.test,
        )?;
        session.rename(&old, &new)?;
        Ok(())
    })
}
