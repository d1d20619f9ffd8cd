//! What the LVM commands share: where PVs are looked for, report options,
//! and rendering the report rows from the VG model and device state.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use rlvm::backend::{Backend, DeviceInfo, TableSlot};
use rlvm::lvm2::model::{Lv, SegmentKind, Vg};
use rlvm::names::{dm_name, DmLayer};
use rlvm::ops::volumes::{free_extents, free_runs};
use rlvm::report::attr::{lv_attr, ActiveState, AttrInput, VolumeRole};
use rlvm::report::fields::{LvRow, PvRow, VgRow};
use rlvm::report::render::ReportOptions;

/// Where rlvm looks for PVs: `RLVM_DEVICES` (colon-separated, replacing the
/// scan), else the block devices in /proc/partitions (limited to lvm2's
/// devices file when it exists), plus the image files registered in the
/// state directory.
pub fn candidate_devices() -> Vec<PathBuf> {
    if let Some(list) = std::env::var_os("RLVM_DEVICES") {
        return std::env::split_paths(&list).collect();
    }
    let mut devices: Vec<PathBuf> = std::fs::read_to_string("/proc/partitions")
        .unwrap_or_default()
        .lines()
        .skip(2)
        .filter_map(|line| line.split_whitespace().nth(3))
        .filter(|name| !name.starts_with("dm-") && !name.starts_with("ram"))
        .map(|name| PathBuf::from("/dev").join(name))
        .collect();
    if let Ok(text) = std::fs::read_to_string("/etc/lvm/devices/system.devices") {
        let listed: Vec<PathBuf> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                l.split_whitespace()
                    .find_map(|f| f.strip_prefix("DEVNAME="))
            })
            .map(PathBuf::from)
            .collect();
        if !listed.is_empty() {
            devices.retain(|d| listed.contains(d));
        }
    }
    devices.extend(registered_files());
    devices
}

fn registry() -> PathBuf {
    rlvm::backend::state_dir().join("pvfiles")
}

/// Image files registered as PVs.
pub fn registered_files() -> Vec<PathBuf> {
    std::fs::read_to_string(registry())
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty())
        .map(PathBuf::from)
        .collect()
}

/// Register an image file as a PV location (idempotent).
pub fn register_file(path: &std::path::Path) -> anyhow::Result<()> {
    let path = std::fs::canonicalize(path)?;
    let mut files = registered_files();
    if files.contains(&path) {
        return Ok(());
    }
    files.push(path);
    let registry = registry();
    if let Some(dir) = registry.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text: String = files.iter().map(|p| format!("{}\n", p.display())).collect();
    let tmp = registry.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &registry)?;
    Ok(())
}

/// Forget a registered image file.
pub fn unregister_file(path: &std::path::Path) -> anyhow::Result<()> {
    let Ok(path) = std::fs::canonicalize(path) else {
        return Ok(());
    };
    let files = registered_files();
    if !files.contains(&path) {
        return Ok(());
    }
    let text: String = files
        .iter()
        .filter(|p| *p != &path)
        .map(|p| format!("{}\n", p.display()))
        .collect();
    let registry = registry();
    std::fs::write(&registry, text).with_context(|| format!("updating {}", registry.display()))?;
    Ok(())
}

/// Report options every reporting command takes, as lvm2 spells them.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// Fields to show (comma-separated; +FIELD appends to the defaults; "help" lists them).
    #[arg(short = 'o', long = "options", value_name = "FIELDS")]
    pub options: Vec<String>,
    /// Units for sizes: hHbBsSkKmMgGtTpPeErR, optionally with a number.
    #[arg(long, value_name = "UNITS")]
    pub units: Option<String>,
    /// Print sizes without their unit.
    #[arg(long)]
    pub nosuffix: bool,
    /// Do not print the headings line.
    #[arg(long)]
    pub noheadings: bool,
    /// Separate fields with this string instead of aligning them.
    #[arg(long, value_name = "STRING")]
    pub separator: Option<String>,
    /// basic (aligned columns) or json, in lvm2's schema.
    #[arg(long, value_name = "FORMAT", default_value = "basic", value_parser = ["basic", "json"])]
    pub reportformat: String,
}

impl ReportArgs {
    /// The render options.
    pub fn options(&self) -> anyhow::Result<ReportOptions> {
        let units = match &self.units {
            Some(u) => u.parse()?,
            None => Default::default(),
        };
        Ok(ReportOptions {
            units,
            suffix: !self.nosuffix,
            headings: !self.noheadings,
            separator: self.separator.clone(),
            json: self.reportformat == "json",
        })
    }
}

/// The backend, when one can be opened (without one, state shows as unknown, like lvm2 without a driver).
pub fn try_backend() -> Option<Box<dyn Backend>> {
    rlvm::backend::open_backend().ok()
}

/// What the backend is asked about each LV: nothing without a backend; with
/// one, the devices it lists, so only those are queried one by one (a VG of
/// a thousand inactive LVs costs one request, not a thousand).
struct Devices<'a> {
    backend: Option<&'a dyn Backend>,
    listed: Option<HashSet<String>>,
}

impl<'a> Devices<'a> {
    fn new(backend: Option<&'a dyn Backend>) -> Self {
        let listed = backend
            .and_then(|b| b.list().ok())
            .map(|list| list.into_iter().map(|d| d.name).collect());
        Self { backend, listed }
    }

    /// `None` without a backend (state unknown), `Some(None)` when the device does not exist.
    fn active_state(&self, name: &str) -> Option<Option<(ActiveState, DeviceInfo, String)>> {
        let backend = self.backend?;
        if self.listed.as_ref().is_some_and(|l| !l.contains(name)) {
            return Some(None);
        }
        match backend.info(name) {
            Ok(info) => {
                let status = backend
                    .status(name)
                    .ok()
                    .and_then(|s| s.first().map(|l| l.params.clone()))
                    .unwrap_or_default();
                let target = backend
                    .table(name, TableSlot::Live)
                    .ok()
                    .and_then(|t| t.first().map(|l| l.target_type.clone()))
                    .unwrap_or_default();
                let state = ActiveState {
                    suspended: info.suspended,
                    live_table: info.live_table,
                    inactive_table: info.inactive_table,
                    open: info.open_count > 0,
                    read_only: info.read_only,
                    snapshot_invalid: target == "snapshot" && status == "Invalid",
                    merge_failed: status == "Merge failed",
                };
                Some(Some((state, info, status)))
            }
            Err(_) => Some(None),
        }
    }
}

/// lvm2's `vg_attr` for a VG rlvm can write.
pub fn vg_attr(vg: &Vg) -> String {
    let w = if vg.status.iter().any(|s| s == "WRITE") {
        'w'
    } else {
        'r'
    };
    let z = if vg.status.iter().any(|s| s == "RESIZEABLE") {
        'z'
    } else {
        '-'
    };
    format!("{w}{z}--n-")
}

/// The report row of every LV of `vg` (hidden ones only with `all`).
pub fn lv_rows(vg: &Vg, backend: Option<&dyn Backend>, all: bool) -> Vec<LvRow> {
    let by_name: HashMap<&str, &Lv> = vg.lvs.iter().map(|l| (l.name.as_str(), l)).collect();
    // The snapshot records, gathered once: per COW its (origin, chunk size,
    // merging), the first record naming it; per origin whether one merges.
    let mut snapshot_of: HashMap<&str, (&str, u64, bool)> = HashMap::new();
    let mut origins: HashMap<&str, bool> = HashMap::new();
    for segment in vg.lvs.iter().flat_map(|l| &l.segments) {
        if let SegmentKind::Snapshot {
            origin,
            cow,
            chunk_size,
            merging,
        } = &segment.kind
        {
            snapshot_of
                .entry(cow.as_str())
                .or_insert((origin.as_str(), *chunk_size, *merging));
            *origins.entry(origin.as_str()).or_default() |= *merging;
        }
    }
    let devices = Devices::new(backend);
    let mut rows = Vec::with_capacity(vg.lvs.len());
    for lv in &vg.lvs {
        // lvm2 never lists a snapshot's hidden record, even with -a.
        if lv
            .segments
            .iter()
            .any(|s| matches!(s.kind, SegmentKind::Snapshot { .. }))
        {
            continue;
        }
        let snapshot_of = snapshot_of
            .get(lv.name.as_str())
            .map(|&(origin, chunk, merging)| (origin.to_string(), chunk, merging));
        // lvm2's lv_is_visible: a COW through its origin unless merging, else the VISIBLE flag.
        let flagged = |name: &str| {
            by_name
                .get(name)
                .is_some_and(|l| l.status.iter().any(|s| s == "VISIBLE"))
        };
        let visible = match &snapshot_of {
            Some((origin, _, merging)) => {
                !merging && (flagged(origin) || rlvm::ops::snapshots::is_virtual_origin(vg, origin))
            }
            None => flagged(&lv.name),
        };
        if !visible && !all {
            continue;
        }
        let merging_origin = origins.get(lv.name.as_str()).copied();
        let role = match (&snapshot_of, merging_origin) {
            (Some((_, _, merging)), _) => VolumeRole::Snapshot { merging: *merging },
            (None, Some(merging)) => VolumeRole::Origin { merging },
            (None, None) => VolumeRole::Plain,
        };
        let dm = dm_name(&vg.name, &lv.name, DmLayer::Top).unwrap_or_default();
        let state = devices.active_state(&dm);
        let extents: u64 = lv.segments.iter().map(|s| s.extent_count).sum();
        let origin_extents = snapshot_of
            .as_ref()
            .and_then(|(origin, _, _)| by_name.get(origin.as_str()))
            .map(|o| o.segments.iter().map(|s| s.extent_count).sum::<u64>());
        let data_percent = match (&snapshot_of, &state) {
            (Some(_), Some(Some((_, _, status)))) => status
                .parse::<rlvm::dm::SnapshotStatus>()
                .ok()
                .map(|s| snapshot_percent(&s)),
            _ => None,
        };
        let attr = lv_attr(&AttrInput {
            role,
            writable: lv.status.iter().any(|s| s == "WRITE"),
            alloc: 'i',
            fixed_minor: false,
            activation: state.as_ref().map(|s| s.as_ref().map(|(a, _, _)| *a)),
            partial: false,
            activation_skip: false,
        });
        let info = state
            .as_ref()
            .and_then(|s| s.as_ref())
            .map(|(_, info, _)| info);
        rows.push(LvRow {
            name: if visible {
                lv.name.clone()
            } else {
                format!("[{}]", lv.name)
            },
            vg_name: vg.name.clone(),
            uuid: lv.id.clone(),
            attr,
            size_sectors: extents * vg.extent_size,
            origin: snapshot_of
                .as_ref()
                .map(|s| s.0.clone())
                .unwrap_or_default(),
            origin_size_sectors: origin_extents.map(|e| e * vg.extent_size),
            data_percent,
            chunk_sectors: snapshot_of.as_ref().map_or(0, |s| s.1),
            seg_count: lv.segments.len() as u64,
            segtype: lv
                .segments
                .first()
                .map(|s| match &s.kind {
                    SegmentKind::Striped { stripes, .. } if stripes.len() == 1 => {
                        "linear".to_string()
                    }
                    SegmentKind::Striped { .. } => "striped".to_string(),
                    SegmentKind::Snapshot { .. } => "snapshot".to_string(),
                    SegmentKind::Other(name) => name.clone(),
                })
                .unwrap_or_default(),
            kernel_major: info.map(|i| i.major),
            kernel_minor: info.map(|i| i.minor),
            active: info.is_some_and(|i| i.live_table),
            path: format!("/dev/{}/{}", vg.name, lv.name),
            dm_path: format!("/dev/mapper/{dm}"),
            time: String::new(),
            host: lv.creation_host.clone().unwrap_or_default(),
            snapshot_invalid: state
                .as_ref()
                .and_then(|s| s.as_ref())
                .is_some_and(|(a, _, _)| a.snapshot_invalid),
            merging: matches!(
                role,
                VolumeRole::Snapshot { merging: true } | VolumeRole::Origin { merging: true }
            ),
            devices: devices_field(vg, lv),
        });
    }
    rows
}

/// lvm2's `devices` field: `PV(first extent)` per stripe, comma-separated.
fn devices_field(vg: &Vg, lv: &Lv) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let stripes = lv.segments.iter().flat_map(|s| match &s.kind {
        SegmentKind::Striped { stripes, .. } => stripes.as_slice(),
        _ => &[],
    });
    for (index, (pv, pe)) in stripes.enumerate() {
        if index > 0 {
            out.push(',');
        }
        let device = vg.pv(pv).map_or("", |p| p.device.as_str());
        let _ = write!(out, "{device}({pe})");
    }
    out
}

/// Data% of a snapshot as lvm2's lvs computes it.
pub fn snapshot_percent(status: &rlvm::dm::SnapshotStatus) -> i64 {
    use rlvm::dm::SnapshotStatus;
    use rlvm::report::percent::{make_percent, PERCENT_0, PERCENT_100, PERCENT_INVALID};
    match *status {
        SnapshotStatus::Invalid => PERCENT_100,
        SnapshotStatus::Usage {
            allocated_sectors,
            total_sectors,
            metadata_sectors,
        } => {
            if allocated_sectors == metadata_sectors {
                PERCENT_0
            } else {
                make_percent(allocated_sectors, total_sectors)
            }
        }
        _ => PERCENT_INVALID,
    }
}

/// The report row of a VG.
pub fn vg_row(vg: &Vg) -> VgRow {
    let extents: u64 = vg.pvs.iter().map(|p| p.pe_count).sum();
    let free = free_extents(vg);
    let snapshots = vg
        .lvs
        .iter()
        .filter(|lv| {
            lv.segments
                .iter()
                .any(|s| matches!(s.kind, SegmentKind::Snapshot { .. }))
        })
        .count() as u64;
    let visible = vg
        .lvs
        .iter()
        .filter(|lv| lv.status.iter().any(|s| s == "VISIBLE"))
        .count() as u64;
    VgRow {
        name: vg.name.clone(),
        uuid: vg.id.clone(),
        attr: vg_attr(vg),
        pv_count: vg.pvs.len() as u64,
        lv_count: visible,
        snap_count: snapshots,
        size_sectors: extents * vg.extent_size,
        free_sectors: free * vg.extent_size,
        extent_sectors: vg.extent_size,
        extent_count: extents,
        free_count: free,
        seqno: vg.seqno,
    }
}

/// The report rows of a VG's PVs, keyed by the device paths they were found at.
pub fn pv_rows(vg: &Vg, paths: &[(String, PathBuf)]) -> Vec<PvRow> {
    let runs = free_runs(vg);
    vg.pvs
        .iter()
        .map(|pv| {
            let free: u64 = runs.iter().filter(|r| r.0 == pv.key).map(|r| r.2).sum();
            PvRow {
                name: paths
                    .iter()
                    .find(|(k, _)| k == &pv.key)
                    .map_or(pv.device.clone(), |(_, p)| p.display().to_string()),
                vg_name: vg.name.clone(),
                uuid: pv.id.clone(),
                attr: "a--".into(),
                size_sectors: pv.pe_count * vg.extent_size,
                free_sectors: free * vg.extent_size,
                dev_size_sectors: pv.dev_size,
                pe_start_sectors: pv.pe_start,
                pe_count: pv.pe_count,
                pe_alloc_count: pv.pe_count - free,
                mda_count: 1,
            }
        })
        .collect()
}

/// The report rows of the PVs found that belong to no VG (a label, no metadata).
pub fn orphan_pv_rows() -> Vec<PvRow> {
    let found = rlvm::ops::volumes::scan_pvs(&candidate_devices());
    // A PV without metadata areas belongs to the VG that lists it.
    let listed: Vec<String> = found
        .iter()
        .filter_map(|found| found.vg.as_ref())
        .flat_map(|vg| vg.pvs.iter().map(|pv| rlvm::names::compact_uuid(&pv.id)))
        .collect();
    found
        .into_iter()
        .filter(|found| found.vg.is_none() && !listed.contains(&found.label.pv_uuid))
        .filter(|found| match &found.damage {
            // Damaged metadata is not free space: named, not listed.
            Some(_) if found.damaged_headers > 0 => false,
            Some(why) => {
                rlvm::log::warning(format_args!(
                    "PV {} has unusable metadata: {why}",
                    found.path.display()
                ));
                false
            }
            None => true,
        })
        .map(|rlvm::ops::volumes::FoundPv { path, label, .. }| {
            let size = label.device_size / 512;
            PvRow {
                name: path.display().to_string(),
                uuid: rlvm::lvm2::label::dashed_uuid(&label.pv_uuid),
                attr: "---".into(),
                size_sectors: size,
                free_sectors: size,
                dev_size_sectors: size,
                pe_start_sectors: label.data_areas.first().map_or(0, |a| a.offset / 512),
                mda_count: label.metadata_areas.len() as u64,
                ..Default::default()
            }
        })
        .collect()
}

/// Split `VG/LV` (lvm2 also accepts `/dev/VG/LV`).
pub fn split_lv(arg: &str) -> anyhow::Result<(String, String)> {
    let trimmed = arg.strip_prefix("/dev/").unwrap_or(arg);
    match trimmed.split_once('/') {
        Some((vg, lv)) if !vg.is_empty() && !lv.is_empty() && !lv.contains('/') => {
            Ok((vg.to_string(), lv.to_string()))
        }
        _ => anyhow::bail!("\"{arg}\": expected VG/LV"),
    }
}

/// The device-mapper device of `vg/lv` with its table over the PV paths.
pub fn lv_device(
    open: &rlvm::ops::volumes::OpenVg,
    lv_name: &str,
) -> anyhow::Result<rlvm::ops::DeviceSpec> {
    let vg = &open.vg;
    let lv = vg
        .lv(lv_name)
        .ok_or_else(|| anyhow::anyhow!("logical volume \"{}/{lv_name}\" not found", vg.name))?;
    let table =
        rlvm::ops::volumes::lv_table(vg, lv, &|key| open.path_of(key).map(|p| p.to_path_buf()))?;
    Ok(rlvm::ops::DeviceSpec {
        name: dm_name(&vg.name, lv_name, DmLayer::Top)?,
        uuid: rlvm::names::dm_uuid(&vg.id, &lv.id, DmLayer::Top),
        table,
        read_only: !lv.status.iter().any(|s| s == "WRITE"),
    })
}

/// Print a report of `rows` through the field table `defs`, or `-o help`.
pub fn print_report<R>(
    name: &str,
    defs: &[rlvm::report::fields::FieldDef<R>],
    defaults: &str,
    prefixes: &[&str],
    args: &ReportArgs,
    rows: &[R],
) -> anyhow::Result<()> {
    use rlvm::report::fields::{help, select};
    use std::io::Write;
    if args.options.iter().any(|o| o == "help") {
        print!("{}", help(defs));
        return Ok(());
    }
    let fields = select(defs, defaults, &args.options, prefixes)?;
    let columns: Vec<_> = fields.iter().map(|f| f.column()).collect();
    // Cells are made as the renderer takes them, never all held at once.
    let cells = rows
        .iter()
        .map(|row| fields.iter().map(move |field| (field.get)(row)));
    let text = rlvm::report::render::render_rows(name, &columns, cells, &args.options()?);
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(())
}

/// Every VG found among the candidate devices, by name, with its PV paths.
pub fn all_vgs() -> Vec<rlvm::ops::volumes::OpenVg> {
    rlvm::ops::volumes::OpenVg::open_all_read(&candidate_devices())
}

/// After activating `origin`: finish the merge of its snapshot recorded as
/// merging, printing progress, as lvm2's polling does (`--poll y`). Opens the
/// VG for writing, so the caller must not hold it open.
pub fn finish_pending_merge(backend: &dyn Backend, vg: &str, origin: &str) -> anyhow::Result<()> {
    let mut open = rlvm::ops::volumes::OpenVg::open(vg, &candidate_devices())?;
    let Some(snap) = rlvm::ops::snapshots::merging_snapshot(&open.vg, origin) else {
        return Ok(());
    };
    let top = dm_name(vg, origin, DmLayer::Top)?;
    let merging = backend
        .table(&top, TableSlot::Live)
        .ok()
        .and_then(|t| t.first().map(|l| l.target_type == "snapshot-merge"))
        .unwrap_or(false);
    if !merging {
        return Ok(());
    }
    rlvm::ops::snapshots::complete_merge(
        backend,
        &mut open,
        &snap,
        std::time::Duration::from_secs(1),
        |percent| println!("  {vg}/{origin}: Merged: {percent:.2}%"),
    )?;
    println!("  Merge of snapshot into logical volume {vg}/{origin} has finished.");
    Ok(())
}

/// How devices are initialised as PVs (rpvcreate, and rvgextend for bare devices).
#[derive(Debug, Args)]
pub struct PvInitArgs {
    /// Overwrite an existing signature on a device being initialised (-ff: more).
    #[arg(short = 'f', long = "force", action = clap::ArgAction::Count)]
    pub force: u8,
    /// Align the start of the data area to this size (default 1 MiB).
    #[arg(long, value_name = "SIZE")]
    pub dataalignment: Option<String>,
    /// Size of the metadata area.
    #[arg(long, value_name = "SIZE")]
    pub metadatasize: Option<String>,
    /// Metadata areas on the PV: 0, 1 (default) or 2 (one more at the end of the device).
    #[arg(long = "pvmetadatacopies", visible_alias = "metadatacopies", value_name = "0|1|2",
          value_parser = clap::value_parser!(u8).range(0..=2))]
    pub pvmetadatacopies: Option<u8>,
}

impl PvInitArgs {
    /// The library's options, sizes parsed with lvm2's syntax (default unit KiB).
    pub fn options(&self) -> anyhow::Result<rlvm::ops::volumes::PvCreateOptions> {
        use rlvm::units::parse_size;
        Ok(rlvm::ops::volumes::PvCreateOptions {
            data_alignment: match &self.dataalignment {
                Some(s) => parse_size(s, 'k')?,
                None => rlvm::ops::volumes::DEFAULT_DATA_ALIGNMENT,
            },
            metadata_size: self
                .metadatasize
                .as_deref()
                .map(|s| parse_size(s, 'k'))
                .transpose()?,
            force: self.force > 0,
            metadata_copies: self.pvmetadatacopies.unwrap_or(1),
            force_damaged: self.force > 1,
        })
    }
}

/// Ask lvm2's `[y/n]` question on stderr and read the answer from stdin:
/// `-y` answers yes, `-qq` and a closed stdin answer no.
pub fn confirm(common: &super::lvm_options::CommonArgs, question: &str) -> bool {
    use std::io::{BufRead, Write};
    if common.yes {
        return true;
    }
    if common.quiet >= 2 {
        return false;
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question}");
    let _ = err.flush();
    let mut answer = String::new();
    match std::io::stdin().lock().read_line(&mut answer) {
        Ok(0) | Err(_) => {
            let _ = writeln!(err, "[n]");
            false
        }
        Ok(_) => matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"),
    }
}

/// lvm2's activation values: `y`, `n`, and their `a`/`e`/`l` forms (rlvm
/// has one host: exclusive, local and auto activation are plain activation).
pub const ACTIVATION_VALUES: [&str; 8] = ["y", "n", "ay", "ey", "ly", "en", "ln", "an"];

/// Whether an `-a` value activates.
pub fn activates(value: &str) -> bool {
    !value.ends_with('n')
}

/// Wait for the merge running into `origin` (if any) to finish, printing
/// lvm2's progress lines, as lvm2's polling does after an activation.
pub fn poll_merge(session: &mut rlvm::ops::lvm::Session<'_>, origin: &str) -> anyhow::Result<()> {
    let vg = session.vg().name.clone();
    let finished = session.finish_merge(origin, std::time::Duration::from_secs(1), |percent| {
        rlvm::log::print(format!("{vg}/{origin}: Merged: {percent:.2}%"))
    })?;
    if finished.is_some() {
        rlvm::log::print(format!(
            "Merge of snapshot into logical volume {vg}/{origin} has finished."
        ));
    }
    Ok(())
}
