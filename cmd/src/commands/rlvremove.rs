//! `rlvremove`: deactivate and remove logical volumes.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use rlvm::lvm2::model::SegmentKind;
use rlvm::names::{dm_name, DmLayer};
use rlvm::ops::deactivate_device;
use rlvm::ops::volumes::{lv_remove, OpenVg};

use super::lvm_common::{candidate_devices, split_lv, try_backend};

/// Remove logical volumes.
#[derive(Debug, Parser)]
#[command(name = "rlvremove", version)]
pub struct Cli {
    /// Logical volumes, as VG/LV.
    #[arg(required = true, value_name = "VG/LV")]
    lvs: Vec<String>,
    /// Remove an origin together with its snapshots, without asking.
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
    crate::exit::run("rlvremove", args, |cli: Cli| {
        let devices = candidate_devices();
        let backend = try_backend();
        for arg in &cli.lvs {
            let (vg_name, lv_name) = split_lv(arg)?;
            let mut open = OpenVg::open(&vg_name, &devices)?;
            let has_snapshots = open.vg.lvs.iter().flat_map(|l| &l.segments).any(
                |s| matches!(&s.kind, SegmentKind::Snapshot { origin, .. } if origin == &lv_name),
            );
            if has_snapshots && !(cli.force || cli.yes) {
                anyhow::bail!(
                    "{vg_name}/{lv_name} has snapshots; use --force to remove it with them"
                );
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
