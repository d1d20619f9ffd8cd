//! `rpvcreate`: make devices or image files physical volumes.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use rlvm::ops::volumes::{pv_create, PvCreateOptions, DEFAULT_DATA_ALIGNMENT};
use rlvm::units::parse_size;

use super::lvm_common::register_file;

/// Initialize physical volumes for use by rlvm and lvm2.
#[derive(Debug, Parser)]
#[command(name = "rpvcreate", version)]
pub struct Cli {
    /// Block devices or image files.
    #[arg(required = true, value_name = "PV")]
    pvs: Vec<PathBuf>,
    /// Overwrite an existing signature.
    #[arg(short, long)]
    force: bool,
    /// Answer yes to every prompt (rlvm does not prompt; accepted for lvm2 compatibility).
    #[arg(short, long)]
    yes: bool,
    /// Align the start of the data area to this size (default 1 MiB).
    #[arg(long, value_name = "SIZE")]
    dataalignment: Option<String>,
    /// Size of the metadata area.
    #[arg(long, value_name = "SIZE")]
    metadatasize: Option<String>,
}

/// The clap definition.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run("rpvcreate", args, |cli: Cli| {
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
        for path in &cli.pvs {
            pv_create(path, &options)?;
            if std::fs::metadata(path)?.is_file() {
                register_file(path)?;
            }
            println!(
                "  Physical volume \"{}\" successfully created.",
                path.display()
            );
        }
        Ok(())
    })
}
