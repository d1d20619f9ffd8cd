//! `rlvscan`: list every logical volume with its state, as lvm2's lvscan does.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use rlvm::report::attr::VolumeRole;
use rlvm::report::units::format_size_long;

use super::lvm_common::{inventory, scan_order};
use super::lvm_options::{lvm_cli, CommonArgs};

/// List all logical volumes in all volume groups.
#[derive(Debug, Parser)]
#[command(name = "rlvscan")]
pub struct Cli {
    /// lvscan takes no names: any given is refused, as lvm2 refuses it.
    #[arg(value_name = "NONE", hide = true)]
    names: Vec<String>,
    /// Show hidden LVs too.
    #[arg(short, long)]
    all: bool,
    /// Accepted as lvm2 accepts it (no device numbers are printed).
    #[arg(short = 'b', long)]
    blockdevice: bool,
    /// Accepted as lvm2 accepts it.
    #[arg(long)]
    ignorelockingfailure: bool,
    /// Accepted as lvm2 accepts it (lvscan only reads).
    #[arg(long)]
    readonly: bool,
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
    crate::exit::run_lvm("rlvscan", args, |cli: Cli| {
        let inventory = inventory(&cli.common);
        let mut out = String::new();
        // lvm2 prints these lines as messages, which -qq silences.
        if cli.common.quiet >= 2 {
            return Ok(());
        }
        for vg in scan_order(&inventory) {
            for lv in vg.lvs.iter().filter(|lv| lv.visible || cli.all) {
                let active = lv
                    .device
                    .as_ref()
                    .and_then(|d| d.as_ref())
                    .is_some_and(|(state, _)| state.live_table);
                let state = if active { "ACTIVE" } else { "inactive" };
                let kind = match lv.role {
                    VolumeRole::Origin { .. } => "Original",
                    VolumeRole::Snapshot { .. } => "Snapshot",
                    VolumeRole::Plain => "",
                };
                out.push_str(&format!(
                    "  {state:<8} {kind:<8} '{}' [{}] inherit\n",
                    lv.path,
                    format_size_long(lv.size_sectors)
                ));
            }
        }
        print!("{out}");
        Ok(())
    })
}
