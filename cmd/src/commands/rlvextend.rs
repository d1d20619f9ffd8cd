//! `rlvextend`, `rlvreduce` and `rlvresize`: change the size of a logical
//! volume (a snapshot's COW above all), live, through
//! [`rlvm::ops::lvm::Session::extend`], [`rlvm::ops::lvm::Session::reduce`]
//! and [`rlvm::ops::lvm::Session::autoextend`].

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use rlvm::config::Config;
use rlvm::dm::SnapshotStatus;
use rlvm::monitor::policy::{AutoextendPolicy, PolicyDecision};
use rlvm::ops::lvm::{LvmError, Resize, Session};
use rlvm::ops::snapshots::{lv_extents, snapshot_of};
use rlvm::units::Sign;

use super::lvm_common::{candidate_devices, confirm, snapshot_percent, split_lv, try_backend};
use super::lvm_options::{lvm_cli, ChangeArgs, CommonArgs, PlacementArgs};

/// Extend a logical volume.
#[derive(Debug, Parser)]
#[command(name = "rlvextend")]
pub struct Cli {
    /// The logical volume, as VG/LV.
    #[arg(value_name = "VG/LV")]
    lv: String,
    /// PVs to allocate from, each optionally with extent ranges (PV:N-M, PV:N+COUNT).
    #[arg(value_name = "PV")]
    pvs: Vec<String>,
    #[command(flatten)]
    placement: PlacementArgs,
    /// New size, or +SIZE to add.
    #[arg(
        short = 'L',
        long = "size",
        value_name = "[+]SIZE",
        allow_hyphen_values = true
    )]
    size: Option<String>,
    /// New size in extents, or +N to add; N%FREE, N%VG, N%PVS, N%ORIGIN too.
    #[arg(
        short = 'l',
        long = "extents",
        value_name = "[+]N[%FREE|%VG|%PVS|%ORIGIN]",
        allow_hyphen_values = true
    )]
    extents: Option<String>,
    /// Apply the snapshot autoextend policy (activation/snapshot_autoextend_*).
    #[arg(long = "use-policies", alias = "usepolicies", conflicts_with_all = ["size", "extents"])]
    use_policies: bool,
    /// Resize the filesystem on the LV too (resize2fs, xfs_growfs).
    #[arg(short = 'r', long = "resizefs")]
    resizefs: bool,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    change: ChangeArgs,
}

lvm_cli!(Cli);

/// The clap definition of `rlvreduce`.
pub fn command_reduce() -> clap::Command {
    Cli::command()
        .name("rlvreduce")
        .about("Reduce the size of a logical volume.")
}

/// The clap definition of `rlvresize`.
pub fn command_resize() -> clap::Command {
    Cli::command()
        .name("rlvresize")
        .about("Resize a logical volume.")
}

/// Which way a program may change a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Extend,
    Reduce,
    Either,
}

fn usage(message: impl Into<String>) -> anyhow::Error {
    LvmError::Usage(message.into()).into()
}

/// Entry point of `rlvextend`.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rlvextend", args, |cli: Cli| {
        resize(&cli, Direction::Extend)
    })
}

/// Entry point of `rlvreduce`.
pub fn run_reduce(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rlvreduce", args, |cli: Cli| {
        resize(&cli, Direction::Reduce)
    })
}

/// Entry point of `rlvresize`.
pub fn run_resize(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rlvresize", args, |cli: Cli| {
        resize(&cli, Direction::Either)
    })
}

fn resize(cli: &Cli, direction: Direction) -> anyhow::Result<()> {
    let (vg_name, lv_name) = split_lv(&cli.lv)?;
    let test = cli.common.test;
    let backend = try_backend();
    let mut session = Session::open(&vg_name, &candidate_devices(), backend.as_deref(), test)?;
    session.resizable(&lv_name)?;
    if cli.use_policies {
        let Some(status) = session.snapshot_status(&lv_name)? else {
            if snapshot_of(session.vg(), &lv_name).is_none() {
                return Err(LvmError::Refused(
                    "Policy-based resize is supported only for snapshot volumes.".into(),
                )
                .into());
            }
            anyhow::bail!("Can't read state of locally inactive LV {vg_name}/{lv_name}.");
        };
        if !matches!(status, SnapshotStatus::Usage { .. }) {
            return Ok(());
        }
        let policy = AutoextendPolicy::from_config(&Config::load(&cli.common.config)?);
        if let PolicyDecision::GrowByPercent(percent) = policy.decide(snapshot_percent(&status))? {
            match session.autoextend(&lv_name, percent)? {
                rlvm::ops::lvm::Autoextend::Grown { .. } => {}
                rlvm::ops::lvm::Autoextend::NoSpace { free, needed } => anyhow::bail!(
                    "Insufficient free space: {needed} extents needed, but only {free} available"
                ),
            }
        }
        return Ok(());
    }
    let request = match (&cli.size, &cli.extents) {
        (Some(_), Some(_)) => {
            return Err(usage("Please specify either size or extents but not both."))
        }
        (Some(size), None) => Resize::parse_size(size)?,
        (None, Some(extents)) => Resize::parse_extents(extents)?,
        (None, None) => return Err(usage("Please specify either size or extents.")),
    };
    match (direction, request.sign) {
        (Direction::Extend, Sign::Minus) => {
            return Err(usage("Negative argument not permitted - use lvreduce."))
        }
        (Direction::Reduce, Sign::Plus) => {
            return Err(usage("Positive sign not permitted - use lvextend."))
        }
        _ => {}
    }
    let vg = session.vg();
    let lv = vg.lv(&lv_name).expect("checked by stack_of");
    let current = lv_extents(lv);
    let origin = snapshot_of(vg, &lv_name)
        .and_then(|(origin, chunk, _, _)| vg.lv(&origin).map(|o| (lv_extents(o), chunk)));
    let target = request.target(vg, current, origin)?;
    if target == current {
        return Err(LvmError::Refused(format!(
            "New size ({target} extents) matches existing size ({current} extents)."
        ))
        .into());
    }
    let grow = target > current;
    // A size on the wrong side of the current one fails (exit 5), as in lvm2.
    let wrong_side = match (direction, grow) {
        (Direction::Extend, false) => Some("larger"),
        (Direction::Reduce, true) => Some("less"),
        _ => None,
    };
    if let Some(than) = wrong_side {
        return Err(LvmError::Refused(format!(
            "New size given ({target} extents) not {than} than existing size ({current} extents)"
        ))
        .into());
    }
    let fs = if cli.resizefs && !grow {
        // A filesystem must shrink before its LV does.
        Some(resize_filesystem(&session, &lv_name, target)?)
    } else {
        None
    };
    if grow {
        let placement = cli.placement.placement(&cli.pvs, false)?;
        session.extend_placed(&lv_name, target - current, &placement)?;
    } else {
        let force = cli.change.forced() || fs.is_some();
        let mut ask = |question: &str| confirm(&cli.common, question);
        session.reduce(&lv_name, target, force, &mut ask)?;
    }
    rlvm::log::print(format!(
        "Logical volume {vg_name}/{lv_name} successfully resized."
    ));
    if cli.resizefs && grow && !test {
        resize_filesystem(&session, &lv_name, target)?;
    }
    Ok(())
}

/// Resize the filesystem on active LV `lv` to `extents` with the tool its
/// signature calls for (resize2fs for ext2/3/4, xfs_growfs for XFS, which only grows).
fn resize_filesystem(session: &Session<'_>, lv: &str, extents: u64) -> anyhow::Result<()> {
    use rlvm::ops::lvm::wipe::LvRegion;
    let vg = session.vg();
    let record = vg.lv(lv).expect("an LV of the session");
    let region = LvRegion::of(session.open_vg(), record)?;
    let kinds: Vec<&str> = region.signatures()?.iter().map(|s| s.kind).collect();
    let node = match try_backend() {
        Some(backend) => backend.node_path(&rlvm::names::dm_name(
            &vg.name,
            lv,
            rlvm::names::DmLayer::Top,
        )?),
        None => anyhow::bail!("--resizefs needs the LV active"),
    };
    let kib = extents * vg.extent_size / 2;
    let status = if kinds.iter().any(|k| k.starts_with("ext")) {
        std::process::Command::new("resize2fs")
            .arg(&node)
            .arg(format!("{kib}K"))
            .status()
    } else if kinds.contains(&"xfs") {
        std::process::Command::new("xfs_growfs").arg(&node).status()
    } else {
        rlvm::log::warning(format!(
            "No filesystem on {}/{lv} that rlvm can resize; only the LV changes.",
            vg.name
        ));
        return Ok(());
    };
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => anyhow::bail!("filesystem resize of {}/{lv} failed ({s})", vg.name),
        Err(e) => anyhow::bail!("filesystem resize of {}/{lv}: {e}", vg.name),
    }
}
