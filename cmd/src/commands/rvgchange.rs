//! `rvgchange -a y|n`: activate or deactivate every logical volume of volume groups.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use rlvm::lvm2::model::SegmentKind;
use rlvm::ops::snapshots::{activate_lv, deactivate_lv, snapshot_of};
use rlvm::ops::volumes::OpenVg;

use super::lvm_common::{candidate_devices, finish_pending_merge};
use super::lvm_options::{ChangeArgs, CommonArgs, HasCommon};

/// Change the activation of volume groups.
#[derive(Debug, Parser)]
#[command(name = "rvgchange")]
pub struct Cli {
    /// Volume groups.
    #[arg(required = true, value_name = "VG")]
    vgs: Vec<String>,
    /// Activate (y) or deactivate (n).
    #[arg(short = 'a', long = "activate", value_name = "y|n", required = true, value_parser = ["y", "n", "ay"])]
    activate: String,
    /// After activation, wait for a pending snapshot merge to finish and
    /// drop the merged snapshot (y, the default), or leave it running (n).
    #[arg(long, value_name = "y|n", default_value = "y", value_parser = ["y", "n"])]
    poll: String,
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
    crate::exit::run_lvm("rvgchange", args, |cli: Cli| {
        let backend = rlvm::backend::open_backend()?;
        let devices = candidate_devices();
        for name in &cli.vgs {
            let open = OpenVg::open_read(name, &devices)?;
            // Origins carry their snapshots; snapshot records and COWs come with them.
            let tops: Vec<String> = open
                .vg
                .lvs
                .iter()
                .filter(|lv| {
                    !lv.segments
                        .iter()
                        .any(|s| matches!(s.kind, SegmentKind::Snapshot { .. }))
                })
                .filter(|lv| snapshot_of(&open.vg, &lv.name).is_none())
                .map(|lv| lv.name.clone())
                .collect();
            let mut active = 0;
            for lv in &tops {
                if cli.activate == "n" {
                    deactivate_lv(backend.as_ref(), &open, lv)?;
                } else {
                    activate_lv(backend.as_ref(), &open, lv)?;
                    active += 1;
                }
            }
            let visible = open
                .vg
                .lvs
                .iter()
                .filter(|lv| lv.status.iter().any(|s| s == "VISIBLE"))
                .count();
            println!(
                "  {} logical volume(s) in volume group \"{name}\" now active",
                if cli.activate == "n" {
                    0
                } else {
                    visible.max(active)
                }
            );
            drop(open);
            if cli.activate != "n" && cli.poll == "y" {
                for lv in &tops {
                    finish_pending_merge(backend.as_ref(), name, lv)?;
                }
            }
        }
        Ok(())
    })
}
