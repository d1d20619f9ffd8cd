//! `rvgcfgrestore`: write a volume group's metadata back from a backup or
//! archive file, or list the files there are.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rlvm::names::{dm_name, DmLayer};
use rlvm::ops::vg_change::{list_backups, listed_file, vg_cfg_restore, ListedFile};
use rlvm::ops::volumes::OpenVg;

use super::lvm_common::{candidate_devices, try_backend};
use super::lvm_options::{lvm_cli, CommonArgs};

/// Restore volume group metadata from its backup file (`backup/backup_dir`)
/// or from FILE (an archive, or any vgcfgbackup output).
#[derive(Debug, Parser)]
#[command(name = "rvgcfgrestore")]
pub struct Cli {
    /// The volume group.
    #[arg(value_name = "VG", required_unless_present = "file")]
    vg: Option<String>,
    /// The metadata file to restore (default: the VG's backup file).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// List the VG's archive and backup files (or FILE) instead of restoring.
    #[arg(short = 'l', long = "list")]
    list: bool,
    /// Metadata type (lvm2 has only lvm2).
    #[arg(short = 'M', long = "metadatatype", value_name = "lvm2", value_parser = ["lvm2", "2"])]
    metadatatype: Option<String>,
    /// Restore even when LVs of the VG are active.
    #[arg(long = "force")]
    force: bool,
    #[command(flatten)]
    common: CommonArgs,
}

lvm_cli!(Cli);

/// One entry of the list, as lvm2 prints it.
fn print_entry(entry: &ListedFile) {
    let time = entry
        .time
        .map(rlvm::lvm2::backup::ctime)
        .unwrap_or_default();
    rlvm::log::print(" ");
    rlvm::log::print(format!("File:\t\t{}", entry.path.display()));
    rlvm::log::print(format!("VG name:    \t{}", entry.vg));
    rlvm::log::print(format!("Description:\t{}", entry.description));
    rlvm::log::print(format!("Backup Time:\t{time}"));
    println!();
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rvgcfgrestore", args, |cli: Cli| {
        if cli.list {
            match (&cli.file, &cli.vg) {
                (Some(file), _) => print_entry(&listed_file(file)?),
                (None, Some(vg)) => {
                    let entries = list_backups(vg);
                    if entries.is_empty() {
                        anyhow::bail!("no archive or backup files found for volume group \"{vg}\"");
                    }
                    entries.iter().for_each(print_entry);
                }
                (None, None) => unreachable!("clap requires VG or --file"),
            }
            return Ok(());
        }
        let Some(name) = cli.vg.as_deref() else {
            anyhow::bail!("please specify a volume group to restore");
        };
        let file = match &cli.file {
            Some(file) => file.clone(),
            None => rlvm::lvm2::backup::policy()
                .map(|p| p.backup_dir.join(name))
                .ok_or_else(|| anyhow::anyhow!("backups are not configured"))?,
        };
        let devices = candidate_devices();
        // lvm2 refuses to restore under active volumes unless forced.
        if let (Ok(open), Some(backend)) = (OpenVg::open_read(name, &devices), try_backend()) {
            for lv in &open.vg.lvs {
                if backend
                    .info(&dm_name(name, &lv.name, DmLayer::Top)?)
                    .is_ok()
                    && !cli.force
                {
                    anyhow::bail!(
                        "Volume group {name} has active volume: {}. Use --force to restore anyway.",
                        lv.name
                    );
                }
            }
        }
        vg_cfg_restore(name, &file, &devices).map_err(|e| {
            anyhow::anyhow!(
                "Failed to restore volume group {name} from {}: {e}",
                file.display()
            )
        })?;
        rlvm::log::print(format!("Restored volume group {name}."));
        Ok(())
    })
}
