//! `rvgchange -a y|n`: activate or deactivate every logical volume of volume
//! groups; `--addtag/--deltag`, `-x`, `-l`, `-p`: change their metadata.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser};
use rlvm::lvm2::model::SegmentKind;
use rlvm::ops::snapshots::{activate_lv, deactivate_lv, snapshot_of};
use rlvm::ops::vg_change::{validate_tag, vg_change, TagChange, VgChange};
use rlvm::ops::volumes::OpenVg;

use super::lvm_common::{candidate_devices, finish_pending_merge};
use super::lvm_options::{ChangeArgs, CommonArgs, HasCommon, YesNo};

/// Change the activation of volume groups.
#[derive(Debug, Parser)]
#[command(name = "rvgchange")]
pub struct Cli {
    /// Volume groups.
    #[arg(required = true, value_name = "VG")]
    vgs: Vec<String>,
    /// Activate (y) or deactivate (n).
    #[arg(short = 'a', long = "activate", value_name = "y|n", value_parser = ["y", "n", "ay"],
          required_unless_present_any = ["addtag", "deltag", "resizeable", "logicalvolume", "maxphysicalvolumes"])]
    activate: Option<String>,
    #[command(flatten)]
    metadata: VgMetadataArgs,
    /// After activation, wait for a pending snapshot merge to finish and
    /// drop the merged snapshot (y, the default), or leave it running (n).
    #[arg(long, value_name = "y|n", default_value = "y", value_parser = ["y", "n"])]
    poll: String,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    change: ChangeArgs,
}

/// vgchange's metadata-only changes (one commit per VG, before any activation).
#[derive(Debug, Args)]
struct VgMetadataArgs {
    /// Add a tag to the VG (repeatable).
    #[arg(long = "addtag", value_name = "TAG", value_parser = validate_tag)]
    addtag: Vec<String>,
    /// Delete a tag from the VG (repeatable).
    #[arg(long = "deltag", value_name = "TAG", value_parser = validate_tag)]
    deltag: Vec<String>,
    /// Whether PVs may be added to or removed from the VG.
    #[arg(
        short = 'x',
        long = "resizeable",
        visible_alias = "resizable",
        value_name = "y|n",
        value_enum
    )]
    resizeable: Option<YesNo>,
    /// The most logical volumes the VG may hold (0: no limit).
    #[arg(short = 'l', long = "logicalvolume", value_name = "NUMBER")]
    logicalvolume: Option<u64>,
    /// The most physical volumes the VG may hold (0: no limit).
    #[arg(short = 'p', long = "maxphysicalvolumes", value_name = "NUMBER")]
    maxphysicalvolumes: Option<u64>,
}

impl VgMetadataArgs {
    fn change(&self) -> VgChange {
        VgChange {
            tags: TagChange {
                add: self.addtag.clone(),
                del: self.deltag.clone(),
            },
            resizeable: self.resizeable.map(YesNo::yes),
            max_lv: self.logicalvolume,
            max_pv: self.maxphysicalvolumes,
        }
    }
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
        let change = cli.metadata.change();
        if !change.is_empty() {
            let devices = candidate_devices();
            for name in &cli.vgs {
                vg_change(&mut OpenVg::open(name, &devices)?, &change)?;
                rlvm::log::print(format!("Volume group \"{name}\" successfully changed"));
            }
        }
        let Some(activate) = cli.activate.as_deref() else {
            return Ok(());
        };
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
                if activate == "n" {
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
                if activate == "n" {
                    0
                } else {
                    visible.max(active)
                }
            );
            drop(open);
            if activate != "n" && cli.poll == "y" {
                for lv in &tops {
                    finish_pending_merge(backend.as_ref(), name, lv)?;
                }
            }
        }
        Ok(())
    })
}
