//! `rlvchange -a y|n`: activate or deactivate logical volumes (or every LV
//! of a VG given alone), through [`rlvm::ops::lvm::Session::activate`] and
//! [`rlvm::ops::lvm::Session::deactivate`]; `-p r|rw`, `--addtag/--deltag`:
//! change their metadata (before any activation).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Args, Parser};
use rlvm::ops::lvm::Session;
use rlvm::ops::vg_change::{lv_change, validate_tag, LvChange, TagChange};
use rlvm::ops::volumes::OpenVg;

use super::lvm_common::{
    activates, candidate_devices, poll_merge, split_lv, try_backend, ACTIVATION_VALUES,
};
use super::lvm_options::{lvm_cli, CommonArgs, YesNo};

/// Change the activation of logical volumes.
#[derive(Debug, Parser)]
#[command(name = "rlvchange")]
pub struct Cli {
    /// Logical volumes, as VG/LV, or a VG for all of its LVs.
    #[arg(required = true, value_name = "VG/LV|VG")]
    lvs: Vec<String>,
    /// Activate (y) or deactivate (n); ay, ey, ly activate, an, en, ln deactivate.
    #[arg(short = 'a', long = "activate", value_name = "y|n", value_parser = ACTIVATION_VALUES,
          required_unless_present_any = ["addtag", "deltag", "permission"])]
    activate: Option<String>,
    #[command(flatten)]
    metadata: LvMetadataArgs,
    /// After activation, wait for a pending snapshot merge to finish and
    /// drop the merged snapshot (y, the default), or leave it running (n).
    #[arg(long, value_name = "y|n", value_enum, default_value = "y")]
    poll: YesNo,
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

lvm_cli!(Cli);

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
        let test = cli.common.test;
        let backend = if test || cli.common.driverloaded == Some(YesNo::N) {
            None
        } else {
            Some(rlvm::backend::open_backend()?)
        };
        let devices = candidate_devices();
        // `@tag`: the LVs carrying it (all of a VG carrying it), VG by VG.
        let mut targets: Vec<(String, Option<String>, Option<String>)> = Vec::new();
        for arg in &cli.lvs {
            let arg = arg.strip_prefix("/dev/").unwrap_or(arg);
            if let Some(tag) = arg.strip_prefix('@') {
                let mut vgs: Vec<_> = OpenVg::open_all_read(&devices)
                    .into_iter()
                    .map(|open| open.vg.name)
                    .collect();
                vgs.sort();
                targets.extend(vgs.into_iter().map(|vg| (vg, None, Some(tag.to_string()))));
                continue;
            }
            match arg.split_once('/') {
                Some((vg, lv)) => targets.push((vg.into(), Some(lv.into()), None)),
                None => targets.push((arg.into(), None, None)),
            }
        }
        for (vg, lv, tag) in targets {
            let mut session = Session::open(&vg, &devices, backend.as_deref(), test)?;
            let names = match (lv, tag) {
                (Some(lv), _) => vec![lv],
                (None, Some(tag)) => rlvm::ops::lvm::lvs_selected(session.vg(), Some(&tag))
                    .into_iter()
                    .filter(|name| session.stack_of(name).is_ok())
                    .collect(),
                (None, None) => session.stacks(),
            };
            for name in names {
                if !activates(activate) {
                    session.deactivate(&name)?;
                    continue;
                }
                let merging = session.activate(&name)?;
                if merging && cli.poll.yes() {
                    let origin = session.stack_of(&name)?;
                    poll_merge(&mut session, &origin)?;
                }
            }
        }
        Ok(())
    })
}
