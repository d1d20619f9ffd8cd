//! `rlvremove`: deactivate and remove logical volumes.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use rlvm::names::{dm_name, DmLayer};
use rlvm::ops::snapshots::{
    origin_spec, remove_snapshot_record, snapshot_of, snapshot_spec, snapshots_of,
};
use rlvm::ops::volumes::{lv_remove, OpenVg};
use rlvm::ops::{deactivate_device, remove_snapshot};

use super::lvm_common::{candidate_devices, split_lv, try_backend};
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
        for arg in &cli.lvs {
            let (vg_name, lv_name) = split_lv(arg)?;
            let mut open = OpenVg::open(&vg_name, &devices)?;
            let snapshots = snapshots_of(&open.vg, &lv_name);
            let confirmed = cli.change.forced() || cli.common.yes;
            if !snapshots.is_empty() && !confirmed {
                anyhow::bail!(
                    "{vg_name}/{lv_name} has {} snapshot(s); use --force to remove it with them",
                    snapshots.len()
                );
            }
            // Snapshots go first: each one's stack comes down, then its record.
            let mut doomed: Vec<String> = snapshots.clone();
            if snapshot_of(&open.vg, &lv_name).is_some() {
                doomed.push(lv_name.clone());
            }
            for cow in &doomed {
                let (origin, _, _, _) = snapshot_of(&open.vg, cow).expect("a snapshot");
                if let Some(backend) = &backend {
                    let others = snapshots_of(&open.vg, &origin).len() > 1;
                    remove_snapshot(
                        backend.as_ref(),
                        &origin_spec(&open, &origin)?,
                        &snapshot_spec(&open, cow)?,
                        others,
                    )?;
                }
                let mut vg = open.vg.clone();
                remove_snapshot_record(&mut vg, cow)?;
                open.commit(vg)?;
                println!("  Logical volume \"{cow}\" successfully removed.");
            }
            if doomed.last() == Some(&lv_name) {
                continue;
            }
            if let Some(backend) = &backend {
                deactivate_device(
                    backend.as_ref(),
                    &dm_name(&vg_name, &lv_name, DmLayer::Top)?,
                )?;
            }
            let mut vg = open.vg.clone();
            lv_remove(&mut vg, &lv_name)?;
            open.commit(vg)?;
            println!("  Logical volume \"{lv_name}\" successfully removed.");
        }
        Ok(())
    })
}
