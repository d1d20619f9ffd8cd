//! `rvgremove`: remove volume groups (with their LVs, once confirmed);
//! their PVs become orphans. The operation is [`rlvm::ops::lvm::Session::remove_vg`].

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use rlvm::ops::lvm::Session;

use super::lvm_common::{candidate_devices, confirm, try_backend};
use super::lvm_options::{lvm_cli, ChangeArgs, CommonArgs};

/// Remove volume groups.
#[derive(Debug, Parser)]
#[command(name = "rvgremove")]
pub struct Cli {
    /// Volume groups.
    #[arg(required = true, value_name = "VG")]
    vgs: Vec<String>,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    change: ChangeArgs,
}

lvm_cli!(Cli);

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rvgremove", args, |cli: Cli| {
        let devices = candidate_devices();
        let backend = try_backend();
        let test = cli.common.test;
        for name in &cli.vgs {
            let session = Session::open(name, &devices, backend.as_deref(), test)?;
            let count = session.stacks().len() + {
                let vg = session.vg();
                vg.lvs
                    .iter()
                    .filter(|lv| rlvm::ops::snapshots::snapshot_of(vg, &lv.name).is_some())
                    .count()
            };
            if count == 0 {
                session.remove_empty_vg()?;
            } else {
                if !cli.change.forced()
                    && !confirm(
                        &cli.common,
                        &format!(
                            "Do you really want to remove volume group \"{name}\" containing {count} logical volumes? [y/n]: "
                        ),
                    )
                {
                    anyhow::bail!("Volume group \"{name}\" not removed");
                }
                session.remove_vg()?;
            }
            rlvm::log::print(format!("Volume group \"{name}\" successfully removed"));
        }
        Ok(())
    })
}
