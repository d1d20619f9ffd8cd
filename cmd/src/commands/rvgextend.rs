//! `rvgextend`: add physical volumes to a volume group.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use rlvm::ops::volumes::{vg_extend, PvCreateOptions, DEFAULT_DATA_ALIGNMENT};
use rlvm::units::parse_size;

use super::lvm_common::{candidate_devices, register_file};

/// Add physical volumes to a volume group; devices or image files that are
/// not PVs yet are initialised first, as rpvcreate does.
#[derive(Debug, Parser)]
#[command(name = "rvgextend", version)]
pub struct Cli {
    /// The volume group.
    vg: String,
    /// Block devices, image files or orphan PVs to add.
    #[arg(required = true, value_name = "PV")]
    pvs: Vec<PathBuf>,
    /// Overwrite an existing signature on a device being initialised.
    #[arg(short, long)]
    force: bool,
    /// Answer yes to every prompt (rlvm does not prompt; accepted for lvm2 compatibility).
    #[arg(short, long)]
    yes: bool,
    /// Align the start of the data area of initialised devices to this size (default 1 MiB).
    #[arg(long, value_name = "SIZE")]
    dataalignment: Option<String>,
    /// Size of the metadata area of initialised devices.
    #[arg(long, value_name = "SIZE")]
    metadatasize: Option<String>,
}

/// The clap definition.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run("rvgextend", args, |cli: Cli| {
        let options = PvCreateOptions {
            data_alignment: match &cli.dataalignment {
                Some(s) => parse_size(s, 'k')?,
                None => DEFAULT_DATA_ALIGNMENT,
            },
            metadata_size: cli
                .metadatasize
                .as_deref()
                .map(|s| parse_size(s, 'k'))
                .transpose()?,
            force: cli.force,
        };
        let initialised = vg_extend(&cli.vg, &cli.pvs, &options, &candidate_devices())?;
        for (path, new) in cli.pvs.iter().zip(initialised) {
            if std::fs::metadata(path)?.is_file() {
                register_file(path)?;
            }
            if new {
                println!(
                    "  Physical volume \"{}\" successfully created.",
                    path.display()
                );
            }
        }
        println!("  Volume group \"{}\" successfully extended", cli.vg);
        Ok(())
    })
}
