//! `rlvcreate`: create a linear logical volume and activate it.

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser};
use rlvm::ops::activate_device;
use rlvm::ops::volumes::{free_extents, lv_create_linear, OpenVg};
use rlvm::units::parse_size;

use super::lvm_common::{candidate_devices, lv_device};

/// Create a logical volume.
#[derive(Debug, Parser)]
#[command(name = "rlvcreate", version)]
pub struct Cli {
    /// The volume group.
    vg: String,
    /// Size (default unit MiB), rounded up to whole extents.
    #[arg(
        short = 'L',
        long = "size",
        value_name = "SIZE",
        conflicts_with = "extents",
        required_unless_present = "extents"
    )]
    size: Option<String>,
    /// Size in extents, or N%FREE / N%VG.
    #[arg(short = 'l', long = "extents", value_name = "N[%FREE|%VG]")]
    extents: Option<String>,
    /// Name of the new LV.
    #[arg(short = 'n', long = "name", value_name = "NAME", required = true)]
    name: String,
    /// Activate the new LV (y, the default) or not (n).
    #[arg(short = 'a', long = "activate", value_name = "y|n", default_value = "y", value_parser = ["y", "n"])]
    activate: String,
    /// Zero the start of the new LV (accepted for lvm2 compatibility; rlvm does not zero linear LVs).
    #[arg(short = 'Z', long = "zero", value_name = "y|n", value_parser = ["y", "n"])]
    zero: Option<String>,
    /// Answer yes to every prompt.
    #[arg(short, long)]
    yes: bool,
}

/// The clap definition.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Extents asked for by `-L`/`-l`.
fn extents_wanted(cli: &Cli, vg: &rlvm::lvm2::model::Vg) -> anyhow::Result<u64> {
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
    crate::exit::run("rlvcreate", args, |cli: Cli| {
        let mut open = OpenVg::open(&cli.vg, &candidate_devices())?;
        let extents = extents_wanted(&cli, &open.vg)?;
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
        let mut vg = open.vg.clone();
        lv_create_linear(&mut vg, &cli.name, extents)?;
        open.commit(vg)?;
        if let Some(backend) = backend {
            activate_device(backend.as_ref(), &lv_device(&open, &cli.name)?)?;
        }
        println!("  Logical volume \"{}\" created.", cli.name);
        Ok(())
    })
}
