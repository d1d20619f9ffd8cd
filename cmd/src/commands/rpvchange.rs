//! `rpvchange`: change physical volumes' allocatability and tags.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rlvm::ops::vg_change::{pv_change, validate_tag, vg_of_pv, PvChange, PvChanged, TagChange};
use rlvm::ops::volumes::OpenVg;

use super::lvm_common::candidate_devices;
use super::lvm_options::{lvm_cli, ChangeArgs, CommonArgs, YesNo};

/// Change attributes of physical volumes in volume groups.
#[derive(Debug, Parser)]
#[command(name = "rpvchange")]
pub struct Cli {
    /// Physical volumes.
    #[arg(value_name = "PV", required_unless_present = "all")]
    pvs: Vec<PathBuf>,
    /// Change every PV in a volume group.
    #[arg(short = 'a', long = "all")]
    all: bool,
    /// Whether extents may be allocated on the PV.
    #[arg(short = 'x', long = "allocatable", value_name = "y|n", value_enum)]
    allocatable: Option<YesNo>,
    /// Give the PV a new random UUID.
    #[arg(short = 'u', long = "uuid")]
    uuid: bool,
    /// Add a tag (repeatable).
    #[arg(long = "addtag", value_name = "TAG", value_parser = validate_tag)]
    addtag: Vec<String>,
    /// Delete a tag (repeatable).
    #[arg(long = "deltag", value_name = "TAG", value_parser = validate_tag)]
    deltag: Vec<String>,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    change: ChangeArgs,
}

lvm_cli!(Cli);

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rpvchange", args, |cli: Cli| {
        let change = PvChange {
            tags: TagChange {
                add: cli.addtag.clone(),
                del: cli.deltag.clone(),
            },
            allocatable: cli.allocatable.map(YesNo::yes),
            new_uuid: cli.uuid,
        };
        if change.tags.is_empty() && change.allocatable.is_none() && !change.new_uuid {
            anyhow::bail!("Please give one or more of -x, -uuid, --addtag or --deltag");
        }
        let devices = candidate_devices();
        let pvs: Vec<PathBuf> = if cli.all {
            rlvm::ops::volumes::scan(&devices)
                .into_iter()
                .filter(|(_, _, vg)| vg.is_some())
                .map(|(path, _, _)| path)
                .collect()
        } else {
            cli.pvs.clone()
        };
        let (mut changed, mut unchanged, mut failed) = (0, 0, 0);
        for path in &pvs {
            let result = (|| -> anyhow::Result<PvChanged> {
                let vg = vg_of_pv(path, &devices).ok_or_else(|| {
                    if change.tags.is_empty() {
                        anyhow::anyhow!(
                            "{}: not a physical volume in a volume group (rlvm changes only those)",
                            path.display()
                        )
                    } else {
                        // lvm2's refusal, and its line for each PV it did not change.
                        anyhow::anyhow!(
                            "Can't change tag on Physical Volume {0} not in volume group\n  Physical volume {0} not changed",
                            path.display()
                        )
                    }
                })?;
                let mut open = OpenVg::open(&vg, &devices)?;
                Ok(pv_change(&mut open, path, &change)?)
            })();
            match result {
                Ok(PvChanged::Changed) => {
                    rlvm::log::print(format!("Physical volume \"{}\" changed", path.display()));
                    changed += 1;
                }
                Ok(PvChanged::Already(notice)) => {
                    if !notice.is_empty() {
                        eprintln!("  {notice}");
                    }
                    rlvm::log::print(format!("Physical volume {} not changed", path.display()));
                    unchanged += 1;
                }
                Err(e) => {
                    eprintln!("  {e:#}");
                    unchanged += 1;
                    failed += 1;
                }
            }
        }
        rlvm::log::print(format!(
            "{} changed / {} not changed",
            plural(changed, "physical volume"),
            plural(unchanged, "physical volume")
        ));
        if failed > 0 {
            // Each failure has been named; lvm2 adds no summary.
            return Err(super::lvm_common::lvm2_failure(
                "",
                crate::exit::COMMAND_FAILED,
            ));
        }
        Ok(())
    })
}
