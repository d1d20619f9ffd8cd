//! `rvgchange -a y|n`: activate or deactivate every logical volume of
//! volume groups, through [`rlvm::ops::lvm::Session`]; `--addtag/--deltag`,
//! `-x`, `-l`, `-p`: change their metadata (before any activation).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Args, Parser};
use rlvm::ops::lvm::Session;
use rlvm::ops::vg_change::{validate_tag, vg_change, TagChange, VgChange};
use rlvm::ops::volumes::OpenVg;

use super::lvm_common::{activates, candidate_devices, poll_merge, ACTIVATION_VALUES};
use super::lvm_options::{lvm_cli, ChangeArgs, CommonArgs, YesNo};

/// Change the activation of volume groups.
#[derive(Debug, Parser)]
#[command(name = "rvgchange")]
pub struct Cli {
    /// Volume groups.
    #[arg(required = true, value_name = "VG")]
    vgs: Vec<String>,
    /// Activate (y) or deactivate (n); ay, ey, ly activate, an, en, ln deactivate.
    #[arg(short = 'a', long = "activate", value_name = "y|n", value_parser = ACTIVATION_VALUES,
          required_unless_present_any = ["addtag", "deltag", "resizeable", "logicalvolume", "maxphysicalvolumes"])]
    activate: Option<String>,
    #[command(flatten)]
    metadata: VgMetadataArgs,
    /// After activation, wait for a pending snapshot merge to finish and
    /// drop the merged snapshot (y, the default), or leave it running (n).
    #[arg(long, value_name = "y|n", value_enum, default_value = "y")]
    poll: YesNo,
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

lvm_cli!(Cli);

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
        let test = cli.common.test;
        let backend = if test || cli.common.driverloaded == Some(YesNo::N) {
            None
        } else {
            Some(rlvm::backend::open_backend()?)
        };
        let activate = activates(activate);
        let devices = candidate_devices();
        for name in &cli.vgs {
            let mut session = Session::open(name, &devices, backend.as_deref(), test)?;
            // Origins carry their snapshots; snapshot records and COWs come with them.
            let stacks = session.stacks();
            let mut merging = Vec::new();
            for lv in &stacks {
                if activate {
                    if session.activate(lv)? {
                        merging.push(lv.clone());
                    }
                } else {
                    session.deactivate(lv)?;
                }
            }
            rlvm::log::print(format!(
                "{} logical volume(s) in volume group \"{name}\" now active",
                session.active_count()?
            ));
            if cli.poll.yes() {
                for origin in &merging {
                    poll_merge(&mut session, origin)?;
                }
            }
        }
        Ok(())
    })
}
