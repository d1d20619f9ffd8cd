//! `rlvcreate`: create a linear logical volume, or a snapshot of one; the
//! operation itself is [`rlvm::ops::lvm::Session::create_linear`] and
//! [`rlvm::ops::lvm::Session::create_snapshot`].

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use rlvm::ops::lvm::{
    LinearRequest, LvAttributes, LvmError, Persistent, Prepare, ReadAhead, SizeRequest,
    SnapshotRequest,
};
use rlvm::units::parse_size;

use super::lvm_common::{activates, candidate_devices, split_lv, ACTIVATION_VALUES};
use super::lvm_options::{lvm_cli, ChangeArgs, CommonArgs, PlacementArgs, YesNo};

/// Create a logical volume.
#[derive(Debug, Parser)]
#[command(name = "rlvcreate")]
pub struct Cli {
    /// The volume group, or VG/ORIGIN with --snapshot.
    #[arg(value_name = "VG|VG/ORIGIN")]
    vg: String,
    /// PVs to allocate from, each optionally with extent ranges (PV:N-M, PV:N+COUNT).
    #[arg(value_name = "PV")]
    pvs: Vec<String>,
    #[command(flatten)]
    placement: PlacementArgs,
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
    #[arg(short = 'L', long = "size", value_name = "SIZE")]
    size: Option<String>,
    /// Size in extents, or N%FREE / N%VG / N%PVS / N%ORIGIN.
    #[arg(
        short = 'l',
        long = "extents",
        value_name = "N[%FREE|%VG|%PVS|%ORIGIN]"
    )]
    extents: Option<String>,
    /// The virtual size of a sparse snapshot over a zero device (--type snapshot).
    #[arg(short = 'V', long = "virtualsize", value_name = "SIZE")]
    virtualsize: Option<String>,
    /// The segment type: linear (the default), striped (with -i) or snapshot.
    #[arg(long = "type", value_name = "TYPE", value_parser = ["linear", "striped", "snapshot"])]
    segtype: Option<String>,
    /// Name of the new LV (default lvolN).
    #[arg(
        short = 'n',
        long = "name",
        value_name = "NAME",
        allow_hyphen_values = true
    )]
    name: Option<String>,
    /// Activate the new LV (y, the default; ay, ey, ly too) or not (n, an, en, ln).
    #[arg(
        short = 'a',
        long = "activate",
        value_name = "y|n",
        value_parser = ACTIVATION_VALUES,
        default_value = "y"
    )]
    activate: String,
    /// Add a tag to the new LV (repeatable).
    #[arg(long = "addtag", value_name = "TAG")]
    addtag: Vec<String>,
    /// Allocate the new LV contiguously (y) or by the VG's policy (n, the default).
    #[arg(short = 'C', long = "contiguous", value_name = "y|n", value_enum)]
    contiguous: Option<YesNo>,
    /// Read-ahead in sectors, auto (the default) or none.
    #[arg(short = 'r', long = "readahead", value_name = "auto|none|SECTORS",
          value_parser = ReadAhead::parse)]
    readahead: Option<ReadAhead>,
    /// Keep the minor number given by --minor across activations (y) or not (n).
    #[arg(short = 'M', long = "persistent", value_name = "y|n", value_enum)]
    persistent: Option<YesNo>,
    /// The major number with -My (the kernel assigns majors: lvm2 records 0).
    #[arg(long = "major", value_name = "MAJOR")]
    major: Option<u32>,
    /// The minor number to keep (implies -My).
    #[arg(long = "minor", value_name = "MINOR")]
    minor: Option<u32>,
    /// Zero the first 4 KiB of the new LV (y, the default) or not (n).
    #[arg(short = 'Z', long = "zero", value_name = "y|n", value_enum)]
    zero: Option<YesNo>,
    /// Wipe known signatures from the new LV (default: when zeroing).
    #[arg(short = 'W', long = "wipesignatures", value_name = "y|n", value_enum)]
    wipesignatures: Option<YesNo>,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    change: ChangeArgs,
}

lvm_cli!(Cli);

fn usage(message: impl Into<String>) -> anyhow::Error {
    LvmError::Usage(message.into()).into()
}

/// The size asked for by `-L`/`-l`.
fn size_request(cli: &Cli) -> anyhow::Result<SizeRequest> {
    match (&cli.size, &cli.extents) {
        (Some(_), Some(_)) => Err(usage("Please specify either size or extents (not both).")),
        (Some(size), None) => parse_size(size, 'm')
            .map(SizeRequest::Bytes)
            .map_err(|_| usage(format!("Invalid argument for --size: {size}"))),
        (None, Some(extents)) => Ok(SizeRequest::parse_extents(extents)?),
        (None, None) => Err(usage("Please specify either size or extents.")),
    }
}

/// What `--addtag`, `-C`, `-r`, `-M`, `--major` and `--minor` ask to record.
fn attributes(cli: &Cli) -> LvAttributes {
    let persistent = match (cli.persistent, cli.minor) {
        (Some(YesNo::N), _) | (None, None) => None,
        (_, minor) => Some(Persistent {
            major: cli.major,
            minor,
        }),
    };
    LvAttributes {
        tags: cli.addtag.clone(),
        contiguous: cli.contiguous == Some(YesNo::Y),
        read_ahead: cli.readahead,
        persistent,
    }
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rlvcreate", args, |cli: Cli| {
        let activate = activates(&cli.activate);
        let snapshot = cli.snapshot || cli.segtype.as_deref() == Some("snapshot");
        // `-C y` is `--alloc contiguous` for the allocator.
        let placement = cli
            .placement
            .placement(&cli.pvs, cli.contiguous == Some(YesNo::Y))?;
        if snapshot && cli.zero.is_some() {
            return Err(usage("Option --zero is unsupported with snapshots."));
        }
        let size = size_request(&cli)?;
        let virtual_bytes = match &cli.virtualsize {
            Some(v) => Some(
                parse_size(v, 'm')
                    .map_err(|_| usage(format!("Invalid argument for --virtualsize: {v}")))?,
            ),
            None => None,
        };
        // -V makes a sparse snapshot of a zero device, named after the VG alone.
        let snapshot = snapshot && virtual_bytes.is_none();
        let (vg_name, origin) = if snapshot {
            let (vg, origin) = split_lv(&cli.vg).map_err(|e| usage(e.to_string()))?;
            (vg, Some(origin))
        } else {
            if cli.vg.contains('/') {
                return Err(usage(format!(
                    "\"{}\": give a VG name, or use --snapshot for VG/ORIGIN",
                    cli.vg
                )));
            }
            (cli.vg.clone(), None)
        };
        let test = cli.common.test;
        let driver = cli.common.driverloaded != Some(YesNo::N);
        // Activation is checked before anything is written, so a machine that
        // cannot activate is told so and keeps its metadata unchanged.
        let backend = if !driver {
            None
        } else if snapshot {
            rlvm::backend::open_backend().ok()
        } else if activate && !test {
            Some(
                rlvm::backend::open_backend()
                    .context("cannot activate the new LV (use -an to create it inactive)")?,
            )
        } else {
            None
        };
        let read_only = cli.permission.as_deref() == Some("r");
        let mut session = rlvm::ops::lvm::Session::open(
            &vg_name,
            &candidate_devices(),
            backend.as_deref(),
            test,
        )?
        .driverloaded(driver);
        let chunk_sectors = match &cli.chunksize {
            Some(c) => {
                parse_size(c, 'k')
                    .map_err(|_| usage(format!("Invalid argument for --chunksize: {c}")))?
                    / 512
            }
            None => rlvm::ops::lvm::DEFAULT_CHUNK,
        };
        if let Some(virtual_bytes) = virtual_bytes {
            session.create_sparse(&rlvm::ops::lvm::SparseRequest {
                name: cli.name.clone(),
                virtual_bytes,
                size,
                chunk_sectors,
                activate: activate && driver,
            })?;
            return Ok(());
        }
        match origin {
            None => {
                let prepare = match Prepare::for_new_lv(
                    cli.zero.map(YesNo::yes),
                    cli.wipesignatures.map(YesNo::yes),
                    activate,
                    driver,
                ) {
                    Ok(prepare) => prepare,
                    // lvm2 refuses this, and yet exits 0.
                    Err(refusal @ LvmError::ZeroInactive) => {
                        eprintln!("  {refusal}");
                        return Ok(());
                    }
                    Err(error) => return Err(error.into()),
                };
                let request = LinearRequest {
                    name: cli.name.clone(),
                    size,
                    activate: activate && driver,
                    prepare,
                    read_only,
                };
                session.create_placed(&request, &placement, &attributes(&cli))?;
            }
            Some(origin) => {
                session.create_snapshot(&SnapshotRequest {
                    origin,
                    name: cli.name.clone(),
                    size,
                    chunk_sectors,
                    read_only,
                })?;
            }
        }
        Ok(())
    })
}
