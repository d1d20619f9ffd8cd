//! `rlvconvert --merge`: roll an origin back to its snapshot.

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};
use rlvm::backend::TableSlot;
use rlvm::lvm2::model::SegmentKind;
use rlvm::names::{dm_name, DmLayer};
use rlvm::ops::snapshots::{complete_merge, origin_spec, snapshot_of, snapshot_spec};
use rlvm::ops::start_merge;
use rlvm::ops::volumes::OpenVg;

use super::lvm_common::{candidate_devices, split_lv, try_backend};
use super::lvm_options::{ChangeArgs, CommonArgs, HasCommon};

/// Merge a snapshot back into its origin.
#[derive(Debug, Parser)]
#[command(name = "rlvconvert")]
pub struct Cli {
    /// The snapshot, as VG/SNAP.
    #[arg(value_name = "VG/SNAP")]
    lv: String,
    /// Merge the snapshot into its origin (the only conversion rlvm does).
    #[arg(long, required = true)]
    merge: bool,
    /// Seconds between progress reports.
    #[arg(
        short = 'i',
        long = "interval",
        value_name = "SECONDS",
        default_value = "1"
    )]
    interval: f64,
    /// Start the merge and return without waiting for it.
    #[arg(short = 'b', long = "background")]
    background: bool,
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
    crate::exit::run_lvm("rlvconvert", args, |cli: Cli| {
        let (vg_name, snap) = split_lv(&cli.lv)?;
        let devices = candidate_devices();
        let mut open = OpenVg::open(&vg_name, &devices)?;
        let (origin, _, hidden, already) = snapshot_of(&open.vg, &snap)
            .ok_or_else(|| anyhow::anyhow!("{vg_name}/{snap} is not a snapshot"))?;
        let backend = try_backend();
        let origin_top = dm_name(&vg_name, &origin, DmLayer::Top)?;
        let origin_info = backend.as_deref().and_then(|b| b.info(&origin_top).ok());
        if let (Some(backend), Some(_)) = (&backend, &origin_info) {
            let status = backend
                .status(&dm_name(&vg_name, &snap, DmLayer::Top)?)
                .ok()
                .and_then(|l| l.first().map(|l| l.params.clone()))
                .unwrap_or_default();
            if status == "Invalid" {
                anyhow::bail!("Unable to merge invalidated snapshot LV \"{vg_name}/{snap}\".");
            }
        }
        if !already {
            let mut vg = open.vg.clone();
            for lv in vg.lvs.iter_mut().filter(|lv| lv.name == hidden) {
                for seg in &mut lv.segments {
                    if let SegmentKind::Snapshot { merging, .. } = &mut seg.kind {
                        *merging = true;
                    }
                }
            }
            open.commit(vg)?;
        }
        let (Some(backend), Some(info)) = (backend, origin_info) else {
            println!("  Merging of snapshot {vg_name}/{snap} will occur on next activation of {vg_name}/{origin}.");
            return Ok(());
        };
        let origin_devices = origin_spec(&open, &origin)?;
        let snap_devices = snapshot_spec(&open, &snap)?;
        let merging_now = backend
            .table(&origin_top, TableSlot::Live)?
            .first()
            .is_some_and(|l| l.target_type == "snapshot-merge");
        if !merging_now {
            if info.open_count > 0 {
                println!("  Delaying merge since origin is open.");
                println!("  Merging of snapshot {vg_name}/{snap} will occur on next activation of {vg_name}/{origin}.");
                return Ok(());
            }
            start_merge(backend.as_ref(), &origin_devices, &snap_devices)?;
            println!("  Merging of volume {vg_name}/{snap} started.");
        }
        if cli.background {
            return Ok(());
        }
        complete_merge(
            backend.as_ref(),
            &mut open,
            &snap,
            Duration::from_secs_f64(cli.interval.clamp(0.05, 60.0)),
            |percent| println!("  {vg_name}/{origin}: Merged: {percent:.2}%"),
        )?;
        println!("  Merge of snapshot into logical volume {vg_name}/{origin} has finished.");
        Ok(())
    })
}
