//! `rlvextend`: grow a logical volume, a snapshot's COW above all, live.

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser};
use rlvm::config::Config;
use rlvm::dm::SnapshotStatus;
use rlvm::monitor::policy::{extents_for_percent, AutoextendPolicy, PolicyDecision};
use rlvm::names::{dm_name, DmLayer};
use rlvm::ops::grow_device;
use rlvm::ops::snapshots::{extend_record, lv_extents, snapshot_of, snapshot_spec, snapshots_of};
use rlvm::ops::volumes::OpenVg;
use rlvm::units::{parse_signed_size, Sign};

use super::lvm_common::{candidate_devices, lv_device, snapshot_percent, split_lv, try_backend};
use super::lvm_options::{ChangeArgs, CommonArgs, HasCommon};

/// Extend a logical volume.
#[derive(Debug, Parser)]
#[command(name = "rlvextend")]
pub struct Cli {
    /// The logical volume, as VG/LV.
    #[arg(value_name = "VG/LV")]
    lv: String,
    /// New size, or +SIZE to add.
    #[arg(
        short = 'L',
        long = "size",
        value_name = "[+]SIZE",
        allow_hyphen_values = true
    )]
    size: Option<String>,
    /// New size in extents, or +N to add.
    #[arg(
        short = 'l',
        long = "extents",
        value_name = "[+]N",
        allow_hyphen_values = true
    )]
    extents: Option<String>,
    /// Apply the snapshot autoextend policy (activation/snapshot_autoextend_*).
    #[arg(long = "use-policies", alias = "usepolicies", conflicts_with_all = ["size", "extents"])]
    use_policies: bool,
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
    crate::exit::run_lvm("rlvextend", args, |cli: Cli| {
        let (vg_name, lv_name) = split_lv(&cli.lv)?;
        let mut open = OpenVg::open(&vg_name, &candidate_devices())?;
        let current =
            open.vg.lv(&lv_name).map(lv_extents).ok_or_else(|| {
                anyhow::anyhow!("logical volume \"{vg_name}/{lv_name}\" not found")
            })?;
        let is_snapshot = snapshot_of(&open.vg, &lv_name).is_some();
        let backend = try_backend();
        let top = dm_name(&vg_name, &lv_name, DmLayer::Top)?;
        let active = backend.as_deref().is_some_and(|b| b.info(&top).is_ok());
        let add = if cli.use_policies {
            if !is_snapshot {
                anyhow::bail!("Policy-based resize is supported only for snapshot volumes.");
            }
            let Some(backend) = backend.as_deref().filter(|_| active) else {
                anyhow::bail!("Can't read state of locally inactive LV {vg_name}/{lv_name}.");
            };
            let status: SnapshotStatus = backend
                .status(&top)?
                .first()
                .map(|l| l.params.clone())
                .unwrap_or_default()
                .parse()?;
            if !matches!(status, SnapshotStatus::Usage { .. }) {
                return Ok(());
            }
            let policy = AutoextendPolicy::from_config(&Config::load(&cli.common.config)?);
            match policy.decide(snapshot_percent(&status))? {
                PolicyDecision::Nothing => return Ok(()),
                PolicyDecision::GrowByPercent(percent) => extents_for_percent(current, percent),
            }
        } else {
            let extent_bytes = open.vg.extent_size * 512;
            let (sign, wanted) = match (&cli.size, &cli.extents) {
                (Some(size), None) => {
                    let (sign, bytes) =
                        parse_signed_size(size, 'm').with_context(|| format!("--size {size}"))?;
                    (sign, bytes.div_ceil(extent_bytes))
                }
                (None, Some(extents)) => {
                    let (sign, digits) = match extents.strip_prefix('+') {
                        Some(rest) => (Sign::Plus, rest),
                        None => match extents.strip_prefix('-') {
                            Some(rest) => (Sign::Minus, rest),
                            None => (Sign::Absolute, extents.as_str()),
                        },
                    };
                    (
                        sign,
                        digits
                            .parse()
                            .with_context(|| format!("--extents {extents}"))?,
                    )
                }
                _ => anyhow::bail!("give one of --size, --extents or --use-policies"),
            };
            match sign {
                Sign::Plus => wanted,
                Sign::Absolute if wanted > current => wanted - current,
                Sign::Absolute if wanted == current => anyhow::bail!(
                    "New size ({wanted} extents) matches existing size ({current} extents)."
                ),
                _ => anyhow::bail!(
                    "{vg_name}/{lv_name}: rlvextend cannot shrink a volume{}",
                    if is_snapshot {
                        " (a COW never shrinks: that would lose saved chunks)"
                    } else {
                        ""
                    }
                ),
            }
        };
        if !is_snapshot && active && !snapshots_of(&open.vg, &lv_name).is_empty() {
            anyhow::bail!(
                "{vg_name}/{lv_name}: snapshot origin volumes can be resized only while inactive"
            );
        }
        let mut vg = open.vg.clone();
        extend_record(&mut vg, &lv_name, add)?;
        let extent_mib = vg.extent_size as f64 / 2048.0;
        open.commit(vg)?;
        if active {
            let backend = backend.expect("active implies a backend");
            let (name, table) = if is_snapshot {
                let snap = snapshot_spec(&open, &lv_name)?;
                (snap.cow.name, snap.cow.table)
            } else {
                let device = lv_device(&open, &lv_name)?;
                (device.name, device.table)
            };
            grow_device(backend.as_ref(), &name, &table)?;
        }
        println!(
            "  Size of logical volume {vg_name}/{lv_name} changed from {:.2} MiB ({current} extents) to {:.2} MiB ({} extents).",
            current as f64 * extent_mib,
            (current + add) as f64 * extent_mib,
            current + add
        );
        Ok(())
    })
}
