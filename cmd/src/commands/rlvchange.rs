//! `rlvchange -a y|n`: activate or deactivate logical volumes from metadata;
//! `-p r|rw`, `--addtag/--deltag`: change their metadata.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser};
use rlvm::ops::snapshots::{activate_lv, deactivate_lv, snapshot_of};
use rlvm::ops::vg_change::{lv_change, validate_tag, LvChange, TagChange};
use rlvm::ops::volumes::OpenVg;

use super::lvm_common::{candidate_devices, finish_pending_merge, split_lv, try_backend};
use super::lvm_options::{CommonArgs, HasCommon};

/// Change the activation of logical volumes.
#[derive(Debug, Parser)]
#[command(name = "rlvchange")]
pub struct Cli {
    /// Logical volumes, as VG/LV.
    #[arg(required = true, value_name = "VG/LV")]
    lvs: Vec<String>,
    /// Activate (y) or deactivate (n).
    #[arg(short = 'a', long = "activate", value_name = "y|n", value_parser = ["y", "n", "ay"],
          required_unless_present_any = ["addtag", "deltag", "permission"])]
    activate: Option<String>,
    #[command(flatten)]
    metadata: LvMetadataArgs,
    /// After activation, wait for a pending snapshot merge to finish and
    /// drop the merged snapshot (y, the default), or leave it running (n).
    #[arg(long, value_name = "y|n", default_value = "y", value_parser = ["y", "n"])]
    poll: String,
    #[command(flatten)]
    common: CommonArgs,
}

/// lvchange's metadata changes (one commit per LV, before any activation).
#[derive(Debug, Args)]
struct LvMetadataArgs {
    /// Add a tag to the LV (repeatable).
    #[arg(long = "addtag", value_name = "TAG", value_parser = validate_tag)]
    addtag: Vec<String>,
    /// Delete a tag from the LV (repeatable).
    #[arg(long = "deltag", value_name = "TAG", value_parser = validate_tag)]
    deltag: Vec<String>,
    /// Access permission: read-only (r) or read/write (rw); an active LV's device follows.
    #[arg(short = 'p', long = "permission", value_name = "r|rw", value_parser = ["r", "rw"])]
    permission: Option<String>,
}

impl LvMetadataArgs {
    fn change(&self) -> LvChange {
        LvChange {
            tags: TagChange {
                add: self.addtag.clone(),
                del: self.deltag.clone(),
            },
            writable: self.permission.as_deref().map(|p| p == "rw"),
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
    crate::exit::run_lvm("rlvchange", args, |cli: Cli| {
        let change = cli.metadata.change();
        if change != LvChange::default() {
            let devices = candidate_devices();
            let backend = try_backend();
            for arg in &cli.lvs {
                let (vg, lv) = split_lv(arg)?;
                let mut open = OpenVg::open(&vg, &devices)?;
                lv_change(&mut open, &lv, &change, backend.as_deref())?;
                rlvm::log::print(format!("Logical volume {vg}/{lv} changed."));
            }
        }
        let Some(activate) = cli.activate.as_deref() else {
            return Ok(());
        };
        let backend = rlvm::backend::open_backend()?;
        let devices = candidate_devices();
        for arg in &cli.lvs {
            let (vg, lv) = split_lv(arg)?;
            let open = OpenVg::open_read(&vg, &devices)?;
            if activate == "n" {
                deactivate_lv(backend.as_ref(), &open, &lv)?;
            } else {
                activate_lv(backend.as_ref(), &open, &lv)?;
                let origin = snapshot_of(&open.vg, &lv).map_or(lv.clone(), |s| s.0);
                drop(open);
                if cli.poll == "y" {
                    finish_pending_merge(backend.as_ref(), &vg, &origin)?;
                }
            }
        }
        Ok(())
    })
}
