//! `rpvscan`: list physical volumes as lvm2's pvscan does, and register
//! image files that already carry a label (`--add`).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rlvm::ops::volumes::read_label;
use rlvm::report::units::format_size_long;

use super::lvm_common::{all_vgs, orphan_pv_rows, pv_rows, register_file};
use super::lvm_options::{lvm_cli, CommonArgs};

/// List all physical volumes; with --add, first register image files that
/// are PVs already (made by rpvcreate elsewhere, or copied) so rlvm finds them.
#[derive(Debug, Parser)]
#[command(name = "rpvscan")]
pub struct Cli {
    /// Register these image files, which must carry an LVM2 label, then list.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    add: Vec<PathBuf>,
    /// Only the device names.
    #[arg(short, long)]
    short: bool,
    /// Only PVs that belong to no VG.
    #[arg(short, long)]
    novolumegroup: bool,
    /// Only PVs of exported VGs (not with -n).
    #[arg(short, long)]
    exported: bool,
    /// Show each PV's UUID too.
    #[arg(short, long)]
    uuid: bool,
    /// Say which PVs are online (in a VG) as lvm2's PV cache records them;
    /// rlvm keeps no cache, so nothing is recorded.
    #[arg(long)]
    cache: bool,
    /// With --cache: only these devices.
    #[arg(value_name = "PV")]
    pvs: Vec<String>,
    #[command(flatten)]
    common: CommonArgs,
}

lvm_cli!(Cli);

/// A PV as a pvscan line shows it.
struct Found {
    name: String,
    uuid: String,
    /// Its VG and whether that is exported; none for an orphan.
    vg: Option<(String, bool)>,
    size_sectors: u64,
    free_sectors: u64,
}

/// Where a device comes in lvm2's scan: block devices by device number, then other files by path.
pub(crate) type ScanKey = (bool, u64, PathBuf);

/// The scan position of `path`.
pub(crate) fn scan_key(path: &std::path::Path) -> ScanKey {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    match std::fs::metadata(path) {
        Ok(meta) if meta.file_type().is_block_device() => (false, meta.rdev(), path.into()),
        _ => (true, 0, path.into()),
    }
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    // lvm2 refuses a device argument without --cache while matching the
    // command line, before anything else is said.
    if let Ok(cli) = Cli::try_parse_from(&args) {
        if let (false, Some(first)) = (cli.cache, cli.pvs.first()) {
            eprintln!("  Command does not accept argument: {first}.");
            return ExitCode::from(crate::exit::INVALID_COMMAND_LINE);
        }
    }
    crate::exit::run_lvm("rpvscan", args, |cli: Cli| {
        // lvm2 refuses the pair once the command runs, not while parsing:
        // after the common options' warnings.
        use super::lvm_common::lvm2_failure;
        use crate::exit::INVALID_COMMAND_LINE;
        if cli.exported && cli.novolumegroup {
            return Err(lvm2_failure(
                "  Options -e and -n are incompatible\n  Run `pvscan --help' for more information.",
                INVALID_COMMAND_LINE,
            ));
        }
        // Check every file before registering any.
        for path in &cli.add {
            let meta =
                std::fs::metadata(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            if !meta.is_file() {
                anyhow::bail!(
                    "{}: --add takes image files (block devices are found by the scan)",
                    path.display()
                );
            }
            read_label(path)?;
        }
        for path in &cli.add {
            register_file(path)?;
        }
        // lvm2's order: VGs newest-discovered first, where devices are
        // discovered by device number (image files after them); each VG's
        // PVs in metadata order; then the orphans in discovery order.
        let mut vgs: Vec<(ScanKey, Vec<Found>)> = all_vgs()
            .into_iter()
            .map(|open| {
                let exported = open.vg.status.iter().any(|s| s == "EXPORTED");
                let first = open.paths.iter().map(|(_, p)| scan_key(p)).min();
                let pvs = pv_rows(&open.vg, &open.paths)
                    .into_iter()
                    .map(|r| Found {
                        name: r.name,
                        uuid: r.uuid,
                        vg: Some((open.vg.name.clone(), exported)),
                        size_sectors: r.size_sectors,
                        free_sectors: r.free_sectors,
                    })
                    .collect();
                (first.unwrap_or_default(), pvs)
            })
            .collect();
        vgs.sort_by(|a, b| b.0.cmp(&a.0));
        let mut orphans: Vec<(ScanKey, Found)> = orphan_pv_rows()
            .into_iter()
            .map(|r| {
                let key = scan_key(std::path::Path::new(&r.name));
                let found = Found {
                    name: r.name,
                    uuid: r.uuid,
                    vg: None,
                    size_sectors: r.size_sectors,
                    free_sectors: r.free_sectors,
                };
                (key, found)
            })
            .collect();
        orphans.sort_by(|a, b| a.0.cmp(&b.0));
        let found: Vec<Found> = vgs
            .into_iter()
            .flat_map(|(_, pvs)| pvs)
            .chain(orphans.into_iter().map(|(_, f)| f))
            .collect();
        if cli.cache {
            print_cache_lines(&found, &cli.pvs);
            return Ok(());
        }
        // lvm2 prints these lines as messages, which -qq silences.
        if cli.common.quiet < 2 {
            print!("{}", render(&found, &cli));
        }
        if cli.exported {
            rlvm::log::warning("only considering physical volumes of exported volume group(s)");
        }
        if cli.novolumegroup {
            rlvm::log::warning("only considering physical volumes in no volume group");
        }
        Ok(())
    })
}

/// `pvscan --cache`'s lines in device order: a VG's PV "online", an
/// orphan "not used". lvm2 records the online PVs for autoactivation;
/// rlvm keeps no such record (activation reads the disks), so these lines
/// say only what the scan found.
fn print_cache_lines(found: &[Found], wanted: &[String]) {
    let pid = std::process::id();
    let mut listed: Vec<&Found> = found
        .iter()
        .filter(|f| wanted.is_empty() || wanted.contains(&f.name))
        .collect();
    listed.sort_by_key(|f| scan_key(std::path::Path::new(&f.name)));
    for f in listed {
        let state = if f.vg.is_some() { "online" } else { "not used" };
        rlvm::log::print(format!("pvscan[{pid}] PV {} {state}.", f.name));
    }
}

/// pvscan's listing: one line per PV, names and VG names padded to the
/// longest found plus two (VG names to at least lvm2's orphan VG name,
/// `#orphans_lvm2`), then the totals of the PVs listed.
fn render(found: &[Found], cli: &Cli) -> String {
    let name_width = found.iter().map(|f| f.name.len()).max().unwrap_or(0);
    // -u widens the name column by lvm2's fixed allowance for " with UUID ...".
    let pv_width = name_width + if cli.uuid { 52 } else { 2 };
    let vg_width = found
        .iter()
        .filter_map(|f| f.vg.as_ref().map(|(name, _)| name.len()))
        .chain(std::iter::once("#orphans_lvm2".len()))
        .max()
        .unwrap_or(0)
        + 2;
    let shown: Vec<&Found> = found
        .iter()
        .filter(|f| !cli.novolumegroup || f.vg.is_none())
        .filter(|f| !cli.exported || f.vg.as_ref().is_some_and(|(_, e)| *e))
        .collect();
    if shown.is_empty() {
        return "  No matching physical volumes found\n".into();
    }
    let mut out = String::new();
    let (mut used, mut used_size, mut orphan, mut orphan_size) = (0, 0, 0, 0);
    for f in &shown {
        let name = if cli.uuid {
            format!("{:<name_width$} with UUID {}", f.name, f.uuid)
        } else {
            f.name.clone()
        };
        let size = format_size_long(f.size_sectors);
        let free = format_size_long(f.free_sectors);
        let line = match &f.vg {
            Some((vg, true)) => format!(
                "PV {:<pv_width$}  is in exported VG {vg} [{size} / {free} free]",
                name
            ),
            Some((vg, false)) => format!(
                "PV {:<pv_width$} VG {vg:<vg_width$} lvm2 [{size} / {free} free]",
                name
            ),
            // Blank where "VG name" would be, so the columns line up.
            None => format!(
                "PV {:<pv_width$} {:<blank$} lvm2 [{size}]",
                name,
                "",
                blank = vg_width + 3
            ),
        };
        if f.vg.is_some() {
            used += 1;
            used_size += f.size_sectors;
        } else {
            orphan += 1;
            orphan_size += f.size_sectors;
        }
        if cli.short {
            out.push_str(&format!("  {}\n", f.name));
        } else {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out.push_str(&format!(
        "  Total: {} [{}] / in use: {used} [{}] / in no VG: {orphan} [{}]\n",
        used + orphan,
        format_size_long(used_size + orphan_size),
        format_size_long(used_size),
        format_size_long(orphan_size),
    ));
    out
}
