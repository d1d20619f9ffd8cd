//! `rlvcreate`: create a linear logical volume, or a snapshot of one, and activate it.

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser};
use rlvm::names::{dm_name, DmLayer};
use rlvm::ops::snapshots::{
    add_snapshot_record, lv_extents, origin_spec, snapshot_spec, DEFAULT_CHUNK_SECTORS,
};
use rlvm::ops::volumes::{free_extents, lv_create_linear, OpenVg};
use rlvm::ops::{activate_device, add_snapshot};
use rlvm::units::parse_size;

use super::lvm_common::{candidate_devices, lv_device, split_lv, try_backend};
use super::lvm_options::{ChangeArgs, CommonArgs, HasCommon};

/// Create a logical volume.
#[derive(Debug, Parser)]
#[command(name = "rlvcreate")]
pub struct Cli {
    /// The volume group, or VG/ORIGIN with --snapshot.
    #[arg(value_name = "VG|VG/ORIGIN")]
    vg: String,
    /// Create a snapshot of VG/ORIGIN (its COW gets the size given).
    #[arg(short = 's', long)]
    snapshot: bool,
    /// Snapshot chunk size (default 4k): a power of 2 from 4k to 512k.
    #[arg(short = 'c', long = "chunksize", value_name = "SIZE")]
    chunksize: Option<String>,
    /// Permission: rw (default) or r.
    #[arg(short = 'p', long = "permission", value_name = "r|rw", value_parser = ["r", "rw"])]
    permission: Option<String>,
    /// Size (default unit MiB), rounded up to whole extents.
    #[arg(
        short = 'L',
        long = "size",
        value_name = "SIZE",
        conflicts_with = "extents",
        required_unless_present = "extents"
    )]
    size: Option<String>,
    /// Size in extents, or N%FREE / N%VG / N%ORIGIN.
    #[arg(short = 'l', long = "extents", value_name = "N[%FREE|%VG|%ORIGIN]")]
    extents: Option<String>,
    /// Name of the new LV (default lvolN).
    #[arg(short = 'n', long = "name", value_name = "NAME")]
    name: Option<String>,
    /// Activate the new LV (y, the default) or not (n).
    #[arg(short = 'a', long = "activate", value_name = "y|n", default_value = "y", value_parser = ["y", "n"])]
    activate: String,
    /// Zero the start of the new LV (accepted for lvm2 compatibility; rlvm does not zero linear LVs).
    #[arg(short = 'Z', long = "zero", value_name = "y|n", value_parser = ["y", "n"])]
    zero: Option<String>,
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

/// Extents asked for by `-L`/`-l` (`origin_extents` for %ORIGIN).
fn extents_wanted(
    cli: &Cli,
    vg: &rlvm::lvm2::model::Vg,
    origin_extents: Option<u64>,
) -> anyhow::Result<u64> {
    if let Some(size) = &cli.size {
        let bytes = parse_size(size, 'm').with_context(|| format!("--size {size}"))?;
        let sectors = bytes.div_ceil(512);
        return Ok(sectors.div_ceil(vg.extent_size));
    }
    let spec = cli.extents.as_deref().unwrap_or_default();
    let total: u64 = vg.pvs.iter().map(|p| p.pe_count).sum();
    let (number, base) = match spec.split_once('%') {
        None => (spec, None),
        Some((n, "FREE")) => (n, Some(free_extents(vg))),
        Some((n, "VG")) => (n, Some(total)),
        Some((n, "ORIGIN")) => match origin_extents {
            Some(extents) => (n, Some(extents)),
            None => anyhow::bail!("--extents {spec}: %ORIGIN needs --snapshot"),
        },
        Some((_, other)) => anyhow::bail!("--extents {spec}: unknown %{other} (use %FREE or %VG)"),
    };
    let number: u64 = number
        .parse()
        .with_context(|| format!("--extents {spec}: not a number"))?;
    Ok(match base {
        None => number,
        Some(base) => (base * number).div_ceil(100),
    })
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rlvcreate", args, |cli: Cli| {
        let (vg_name, origin) = if cli.snapshot {
            let (vg, origin) = split_lv(&cli.vg)?;
            (vg, Some(origin))
        } else {
            if cli.vg.contains('/') {
                anyhow::bail!(
                    "\"{}\": give a VG name, or use --snapshot for VG/ORIGIN",
                    cli.vg
                );
            }
            (cli.vg.clone(), None)
        };
        let mut open = OpenVg::open(&vg_name, &candidate_devices())?;
        let origin_extents =
            match &origin {
                Some(o) => Some(open.vg.lv(o).map(lv_extents).ok_or_else(|| {
                    anyhow::anyhow!("logical volume \"{vg_name}/{o}\" not found")
                })?),
                None => None,
            };
        let extents = extents_wanted(&cli, &open.vg, origin_extents)?;
        let name = match &cli.name {
            Some(n) => n.clone(),
            None => (0..)
                .map(|n| format!("lvol{n}"))
                .find(|n| open.vg.lv(n).is_none())
                .expect("a free lvolN"),
        };
        let mut vg = open.vg.clone();
        let Some(origin) = origin else {
            // Activation is checked before anything is written, so a machine that
            // cannot activate is told so and keeps its metadata unchanged.
            let backend = if cli.activate == "y" {
                Some(
                    rlvm::backend::open_backend()
                        .context("cannot activate the new LV (use -an to create it inactive)")?,
                )
            } else {
                None
            };
            lv_create_linear(&mut vg, &name, extents)?;
            open.commit(vg)?;
            if let Some(backend) = backend {
                activate_device(backend.as_ref(), &lv_device(&open, &name)?)?;
            }
            println!("  Logical volume \"{name}\" created.");
            return Ok(());
        };
        let chunk = match &cli.chunksize {
            Some(c) => parse_size(c, 'k').with_context(|| format!("--chunksize {c}"))? / 512,
            None => DEFAULT_CHUNK_SECTORS,
        };
        let before = open.vg.clone();
        let read_only = cli.permission.as_deref() == Some("r");
        let granted = add_snapshot_record(&mut vg, &origin, &name, extents, chunk, read_only)?;
        if granted < extents {
            println!(
                "  Reducing COW size {} down to maximum usable size {}.",
                extents * vg.extent_size / 2048,
                granted * vg.extent_size / 2048
            );
        }
        let origin_active = try_backend().as_deref().is_some_and(|b| {
            b.info(&dm_name(&vg_name, &origin, DmLayer::Top).unwrap_or_default())
                .is_ok()
        });
        open.commit(vg)?;
        if origin_active {
            let backend = rlvm::backend::open_backend()?;
            let built = (|| -> anyhow::Result<()> {
                let origin_spec = origin_spec(&open, &origin)?;
                let snap = snapshot_spec(&open, &name)?;
                let mut zero = |cow: &str| zero_cow_header(backend.as_ref(), cow);
                add_snapshot(backend.as_ref(), &origin_spec, &snap, Some(&mut zero))?;
                Ok(())
            })();
            if let Err(error) = built {
                // The stack was undone step by step; take the record back too.
                open.commit(before)?;
                return Err(error.context(format!("creating snapshot {vg_name}/{name}")));
            }
        }
        println!("  Logical volume \"{name}\" created.");
        Ok(())
    })
}

/// Zero a new COW's first 4 KiB so the kernel starts a fresh store instead of
/// taking over a stale header (lvm2 does the same before loading the snapshot).
fn zero_cow_header(
    backend: &dyn rlvm::backend::Backend,
    cow: &str,
) -> Result<(), rlvm::backend::BackendError> {
    use rlvm::io::{BlockIo, FileDisk};
    let path = backend.node_path(cow);
    let io = |source| rlvm::backend::BackendError::Io {
        context: format!("{}: zeroing the COW header", path.display()),
        source,
    };
    let disk = FileDisk::open(&path).map_err(io)?;
    disk.write_all_at(&[0u8; 4096], 0).map_err(io)?;
    disk.flush().map_err(io)
}
