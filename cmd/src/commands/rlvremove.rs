//! `rlvremove`: deactivate and remove logical volumes, through
//! [`rlvm::ops::lvm::Session::remove`].

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use rlvm::ops::lvm::{lvs_selected, Session};
use rlvm::ops::volumes::OpenVg;

use super::lvm_common::{candidate_devices, confirm, lvm2_failure, split_lv, try_backend};
use super::lvm_options::{lvm_cli, ChangeArgs, CommonArgs};

/// Remove logical volumes.
#[derive(Debug, Parser)]
#[command(name = "rlvremove")]
pub struct Cli {
    /// Logical volumes, as VG/LV; a VG for all of its LVs; @TAG for the LVs carrying the tag.
    #[arg(required = true, value_name = "VG/LV|VG|@TAG")]
    lvs: Vec<String>,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    change: ChangeArgs,
}

lvm_cli!(Cli);

/// What the arguments name in one VG: LVs by name (an unknown one is an
/// error), or selected by the VG or a tag (visible LVs, in metadata order).
#[derive(Default)]
struct Target {
    named: Vec<String>,
    whole: bool,
    tags: Vec<String>,
}

/// The arguments grouped by VG, in lvm2's order: VGs as first named,
/// then those only a tag selects, by name.
fn targets(
    args: &[String],
    devices: &[std::path::PathBuf],
) -> anyhow::Result<Vec<(String, Target)>> {
    let mut targets: Vec<(String, Target)> = Vec::new();
    fn entry(targets: &mut Vec<(String, Target)>, vg: String) -> &mut Target {
        let at = match targets.iter().position(|(name, _)| *name == vg) {
            Some(at) => at,
            None => {
                targets.push((vg, Target::default()));
                targets.len() - 1
            }
        };
        &mut targets[at].1
    }
    let mut tags = Vec::new();
    for arg in args {
        if let Some(tag) = arg.strip_prefix('@') {
            tags.push(tag.to_string());
        } else if !arg.trim_start_matches("/dev/").contains('/') {
            let vg = arg.trim_start_matches("/dev/").to_string();
            entry(&mut targets, vg).whole = true;
        } else {
            let (vg, lv) = split_lv(arg)?;
            entry(&mut targets, vg).named.push(lv);
        }
    }
    if !tags.is_empty() {
        let mut vgs: Vec<_> = OpenVg::open_all_read(devices)
            .into_iter()
            .map(|open| open.vg)
            .collect();
        vgs.sort_by(|a, b| a.name.cmp(&b.name));
        for vg in vgs {
            for tag in &tags {
                if !lvs_selected(&vg, Some(tag)).is_empty() {
                    entry(&mut targets, vg.name.clone()).tags.push(tag.clone());
                }
            }
        }
    }
    Ok(targets)
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rlvremove", args, |cli: Cli| {
        let devices = candidate_devices();
        let backend = try_backend();
        let test = cli.common.test;
        let force = cli.change.forced();
        let mut ask = |question: &str| confirm(&cli.common, question);
        // As lvm2: a failure is reported where it happens and the rest go on.
        let mut failed = false;
        for (vg, target) in targets(&cli.lvs, &devices)? {
            let mut session = match Session::open(&vg, &devices, backend.as_deref(), test) {
                Ok(session) => session,
                Err(error) => {
                    eprintln!("  {error}");
                    failed = true;
                    continue;
                }
            };
            let mut selected: Vec<String> = if target.whole {
                lvs_selected(session.vg(), None)
            } else {
                target
                    .tags
                    .iter()
                    .flat_map(|tag| lvs_selected(session.vg(), Some(tag)))
                    .collect()
            };
            selected.extend(target.named.iter().cloned());
            // Each once, in metadata order; then the names that match nothing.
            let mut names: Vec<String> = session
                .vg()
                .lvs
                .iter()
                .map(|lv| lv.name.clone())
                .filter(|name| selected.contains(name))
                .collect();
            for name in &target.named {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
            let present: Vec<String> = names
                .iter()
                .filter(|name| session.vg().lv(name).is_some())
                .cloned()
                .collect();
            for name in names {
                // Removed a moment ago with its origin.
                if session.vg().lv(&name).is_none() && present.contains(&name) {
                    continue;
                }
                if let Err(error) = session.remove(&name, force, &mut ask) {
                    eprintln!("  {}", rlvm::ops::lvm::chain(&error));
                    failed = true;
                }
            }
        }
        if failed {
            return Err(lvm2_failure("", crate::exit::COMMAND_FAILED));
        }
        Ok(())
    })
}
