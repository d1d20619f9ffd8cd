//! `rvgremove`: remove volume groups; their PVs become orphans.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use rlvm::names::{dm_name, DmLayer};
use rlvm::ops::deactivate_device;
use rlvm::ops::volumes::{vg_remove, OpenVg};

use super::lvm_common::{candidate_devices, try_backend};
use super::lvm_options::{ChangeArgs, CommonArgs, HasCommon};

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
    crate::exit::run_lvm("rvgremove", args, |cli: Cli| {
        let devices = candidate_devices();
        for name in &cli.vgs {
            let mut open = OpenVg::open(name, &devices)?;
            if !open.vg.lvs.is_empty() {
                if !cli.change.forced() {
                    anyhow::bail!(
                        "volume group \"{name}\" still contains {} logical volume(s); use --force to remove them",
                        open.vg.lvs.len()
                    );
                }
                if let Some(backend) = try_backend() {
                    for lv in &open.vg.lvs {
                        for layer in [DmLayer::Top, DmLayer::Cow, DmLayer::Real] {
                            deactivate_device(backend.as_ref(), &dm_name(name, &lv.name, layer)?)?;
                        }
                    }
                }
                let mut vg = open.vg.clone();
                vg.lvs.clear();
                open.commit(vg)?;
            }
            vg_remove(open)?;
            println!("  Volume group \"{name}\" successfully removed");
        }
        Ok(())
    })
}
