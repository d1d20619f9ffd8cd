//! `rvgscan`: list the volume groups found on the disks, as lvm2's vgscan does.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

use super::lvm_common::{inventory, lvm2_failure, scan_order};
use super::lvm_options::{lvm_cli, CommonArgs};

/// Search for all volume groups.
#[derive(Debug, Parser)]
#[command(name = "rvgscan")]
pub struct Cli {
    /// vgscan takes no names: any given is refused, as lvm2 refuses it.
    #[arg(value_name = "NONE", hide = true)]
    names: Vec<String>,
    /// Also make the /dev/VG/LV nodes of active LVs (needs a device-mapper).
    #[arg(long)]
    mknodes: bool,
    /// Accepted as lvm2 accepts it.
    #[arg(long)]
    notifydbus: bool,
    /// Accepted as lvm2 accepts it.
    #[arg(long)]
    ignorelockingfailure: bool,
    #[command(flatten)]
    common: CommonArgs,
}

lvm_cli!(Cli);

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    // lvm2 refuses an argument while parsing, before it says anything else.
    if let Ok(cli) = Cli::try_parse_from(&args) {
        if let Some(name) = cli.names.first() {
            eprintln!("  Command does not accept argument: {name}.");
            return ExitCode::from(crate::exit::INVALID_COMMAND_LINE);
        }
    }
    crate::exit::run_lvm("rvgscan", args, |cli: Cli| {
        let inventory = inventory(&cli.common);
        // lvm2 prints these lines as messages, which -qq silences.
        for vg in scan_order(&inventory)
            .into_iter()
            .filter(|_| cli.common.quiet < 2)
        {
            println!(
                "  Found volume group \"{}\" using metadata type lvm2",
                vg.name
            );
        }
        if cli.mknodes && super::lvm_common::try_backend().is_none() {
            return Err(lvm2_failure(
                "  Failure to communicate with kernel device-mapper driver.",
                crate::exit::COMMAND_FAILED,
            ));
        }
        Ok(())
    })
}
