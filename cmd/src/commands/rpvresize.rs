//! `rpvresize`: make a physical volume's recorded size follow its device
//! (or `--setphysicalvolumesize`).

use std::ffi::OsString;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rlvm::io::{BlockIo, FileDisk};
use rlvm::ops::vg_change::{pv_resize, pv_resize_orphan, vg_of_pv};
use rlvm::ops::volumes::OpenVg;
use rlvm::report::units::format_size_long;

use super::lvm_common::candidate_devices;
use super::lvm_options::{lvm_cli, CommonArgs};

/// Resize physical volumes to their devices' sizes, or to a given size.
#[derive(Debug, Parser)]
#[command(name = "rpvresize")]
pub struct Cli {
    /// Physical volumes.
    #[arg(required = true, value_name = "PV")]
    pvs: Vec<PathBuf>,
    /// Use this size instead of the device's (units as lvm2: default MiB).
    #[arg(long = "setphysicalvolumesize", value_name = "SIZE")]
    setphysicalvolumesize: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

lvm_cli!(Cli);

/// lvm2's `[y/n]` question on stderr; yes only on a "y" line (or `-y`).
fn confirm(question: &str, yes: bool) -> bool {
    if yes {
        return true;
    }
    eprint!("{question} [y/n]: ");
    let mut line = String::new();
    let answered = std::io::stdin().lock().read_line(&mut line).is_ok();
    let answer = answered && line.trim().eq_ignore_ascii_case("y");
    if !answer {
        eprintln!("[n]");
    }
    answer
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rpvresize", args, |cli: Cli| {
        let sectors = match &cli.setphysicalvolumesize {
            Some(size) => Some(
                rlvm::units::parse_size(size, 'm').map_err(|e| {
                    anyhow::anyhow!("Invalid argument for --setphysicalvolumesize: {size}: {e}")
                })? / 512,
            ),
            None => None,
        };
        let devices = candidate_devices();
        let (mut done, mut not_done) = (0, 0);
        for path in &cli.pvs {
            let result = (|| -> anyhow::Result<bool> {
                let real = FileDisk::open_read_only(path)
                    .and_then(|d| d.size_bytes())
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                    / 512;
                if let Some(wanted) = sectors.filter(|&s| s != real) {
                    let (relation, bigger) = if wanted < real {
                        ("is less than", false)
                    } else {
                        ("exceeds", true)
                    };
                    if bigger {
                        rlvm::log::warning(format!(
                            "{}: Overriding real size {}. You could lose data.",
                            path.display(),
                            format_size_long(real)
                        ));
                    }
                    let question = format!(
                        "{}: Requested size {} {relation} real size {}. Proceed? ",
                        path.display(),
                        format_size_long(wanted),
                        format_size_long(real)
                    );
                    if !confirm(&question, cli.common.yes) {
                        rlvm::log::print(format!(
                            "Physical Volume {} not resized.",
                            path.display()
                        ));
                        return Ok(false);
                    }
                    rlvm::log::warning(format!(
                        "{}: Pretending size is {wanted} not {real} sectors.",
                        path.display()
                    ));
                }
                match vg_of_pv(path, &devices) {
                    Some(vg) => pv_resize(&mut OpenVg::open(&vg, &devices)?, path, sectors)?,
                    None => pv_resize_orphan(path, sectors)?,
                }
                rlvm::log::print(format!("Physical volume \"{}\" changed", path.display()));
                Ok(true)
            })();
            match result {
                Ok(true) => done += 1,
                Ok(false) => not_done += 1,
                Err(e) => {
                    eprintln!("  {e:#}");
                    not_done += 1;
                }
            }
        }
        rlvm::log::print(format!(
            "{done} physical volume(s) resized or updated / {not_done} physical volume(s) not resized"
        ));
        if not_done > 0 {
            anyhow::bail!("{not_done} physical volume(s) not resized");
        }
        Ok(())
    })
}
