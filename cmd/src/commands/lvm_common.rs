//! What the LVM commands share: where PVs are looked for, report options,
//! and running a report (the rows and their fields are in `rlvm::report`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use rlvm::backend::{Backend, TableSlot};
use rlvm::lvm2::model::Vg;
use rlvm::names::{dm_name, DmLayer};
use rlvm::report::query::{help_text, wants_help, Names, Query, ReportType};
use rlvm::report::render::ReportOptions;
use rlvm::report::rows::{Inventory, PvInfo};

use super::lvm_options::{CommonArgs, YesNo};

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
    // Test mode (-t) made no PV to remember.
    if rlvm::io::dry_run() {
        return Ok(());
    }
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
    if rlvm::io::dry_run() {
        return Ok(());
    }
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
#[command(next_help_heading = "Report options")]
pub struct ReportArgs {
    /// Fields to show (comma-separated; the last -o replaces earlier ones, +FIELDS appends, -FIELDS removes; "help" lists them).
    #[arg(
        short = 'o',
        long = "options",
        value_name = "FIELDS",
        allow_hyphen_values = true
    )]
    pub options: Vec<String>,
    /// Sort by these fields (comma-separated; -FIELD descending).
    #[arg(
        short = 'O',
        long = "sort",
        value_name = "FIELDS",
        allow_hyphen_values = true
    )]
    pub sort: Vec<String>,
    /// Only rows matching this selection (lvm2's syntax: lv_size>8m && lv_name=~^s).
    #[arg(short = 'S', long = "select", value_name = "SELECTION")]
    pub select: Option<String>,
    /// Units for sizes: hHbBsSkKmMgGtTpPeErR, optionally with a number.
    #[arg(long, value_name = "UNITS", value_parser = units_arg)]
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
    /// With --separator: pad the columns too.
    #[arg(long)]
    pub aligned: bool,
    /// Print flags as 1 and 0 (-1 when unknown) instead of words.
    #[arg(long)]
    pub binary: bool,
    /// One line per field instead of one per object.
    #[arg(long)]
    pub rows: bool,
    /// Print each value as LVM2_FIELD='value'.
    #[arg(long)]
    pub nameprefixes: bool,
    /// With --nameprefixes: no quotes around values.
    #[arg(long)]
    pub unquoted: bool,
    /// basic (aligned columns), json (lvm2's schema, every value a string) or json_std (numbers as numbers).
    #[arg(long, value_name = "FORMAT", default_value = "basic", value_parser = ["basic", "json", "json_std"])]
    pub reportformat: String,
    /// lvm2's report configuration selector (accepted; one report per command here).
    #[arg(long, value_name = "REPORT")]
    pub configreport: Option<String>,
    /// Print only the command's log report (rlvm logs nothing into it: its headings alone).
    #[arg(long)]
    pub logonly: bool,
    /// Read the metadata without locks or repairs, as a read-only snapshot (rlvm's reports never write).
    #[arg(long)]
    pub readonly: bool,
    /// Go on when a lock cannot be taken (accepted; reports take shared file locks only).
    #[arg(long)]
    pub ignorelockingfailure: bool,
    /// Skip clustered VGs instead of failing on them (accepted; rlvm has no clustered VGs).
    #[arg(long)]
    pub ignoreskippedcluster: bool,
    /// Report VGs owned by other hosts too (accepted; rlvm has no system IDs).
    #[arg(long)]
    pub foreign: bool,
    /// Report shared (lvmlockd) VGs too (accepted; rlvm has none).
    #[arg(long)]
    pub shared: bool,
}

/// `-H/--history` of lvs and lvdisplay.
#[derive(Debug, Clone, Default, Args)]
pub struct HistoryArgs {
    /// Include historical LVs (rlvm records no LV history, so there are none to show).
    #[arg(short = 'H', long = "history")]
    pub history: bool,
}

/// `--units`, refused while parsing as lvm2 refuses it: before anything else is said.
fn units_arg(value: &str) -> Result<String, crate::exit::BadValue> {
    value
        .parse::<rlvm::report::units::Units>()
        .map(|_| value.to_string())
        .map_err(|_| crate::exit::BadValue("  Invalid units specification".into()))
}

/// The display commands print sizes in `--units`, else `global/units`, as lvm2's do.
pub fn apply_display_units(args: &ReportArgs, common: &CommonArgs) {
    let config = rlvm::config::Config::load(&common.config).unwrap_or_default();
    let units = args.units.as_deref().or(config.string("global/units"));
    if let Some(units) = units.and_then(|u| u.parse().ok()) {
        rlvm::report::units::set_display_units(units);
    }
}

impl ReportArgs {
    /// The render options, without configuration.
    pub fn options(&self) -> anyhow::Result<ReportOptions> {
        self.options_with(&rlvm::config::Config::default())
    }

    /// The render options: the command line over lvm.conf's `report/` and
    /// `global/units`/`global/suffix` settings, as lvm2 combines them (a
    /// separator set in the configuration stays aligned unless
    /// `report/aligned=0`; one given with --separator is not, unless --aligned).
    pub fn options_with(&self, config: &rlvm::config::Config) -> anyhow::Result<ReportOptions> {
        use rlvm::report::render::Format;
        let units = match self.units.as_deref().or(config.string("global/units")) {
            Some(u) => u.parse()?,
            None => Default::default(),
        };
        let format = match (
            self.reportformat.as_str(),
            config.string("report/output_format"),
        ) {
            ("json", _) | ("basic", Some("json")) => Format::Json,
            ("json_std", _) | ("basic", Some("json_std")) => Format::JsonStd,
            _ => Format::Basic,
        };
        let aligned_config = config.int("report/aligned") != Some(0);
        let (separator, aligned) = match (&self.separator, config.string("report/separator")) {
            (Some(s), _) => (Some(s.clone()), self.aligned),
            (None, Some(s)) => (Some(s.to_string()), aligned_config || self.aligned),
            (None, None) if !aligned_config => (Some(" ".to_string()), false),
            (None, None) => (None, self.aligned),
        };
        let prefixes = self.nameprefixes || config.int("report/prefixes") == Some(1);
        Ok(ReportOptions {
            units,
            suffix: !self.nosuffix && config.int("global/suffix") != Some(0),
            headings: !self.noheadings && config.int("report/headings") != Some(0),
            separator,
            json: format != Format::Basic,
            format,
            binary: self.binary || config.int("report/binary_values_as_numeric") == Some(1),
            rows: self.rows,
            nameprefixes: prefixes,
            unquoted: self.unquoted || config.int("report/quoted") == Some(0),
            aligned: aligned || (prefixes && !self.nameprefixes && aligned_config),
            unbuffered: config.int("report/buffered") == Some(0),
        })
    }
}

/// The backend, when one can be opened (without one, state shows as unknown, like lvm2 without a driver).
pub fn try_backend() -> Option<Box<dyn Backend>> {
    rlvm::backend::open_backend().ok()
}

/// Data% of a snapshot as lvm2's lvs computes it.
pub fn snapshot_percent(status: &rlvm::dm::SnapshotStatus) -> i64 {
    rlvm::report::rows::snapshot_percent(status)
}

/// Every VG and orphan PV on the candidate devices, with device state when
/// a backend opens (never with `--driverloaded n`).
pub fn inventory(common: &CommonArgs) -> Inventory {
    let backend = if common.driverloaded == Some(YesNo::N) {
        None
    } else {
        try_backend()
    };
    scan_inventory(backend.as_deref())
}

/// The VGs that open and the labelled devices a report may show, from one
/// scan (the lib leaves out, with a warning, what cannot be used).
fn scan_inventory(backend: Option<&dyn Backend>) -> Inventory {
    let (opened, found) = rlvm::ops::volumes::OpenVg::open_all_and_list(&candidate_devices());
    let vgs: Vec<Vg> = opened.into_iter().map(|open| open.vg).collect();
    Inventory::gather(&vgs, found, backend)
}

/// What a display command (lvdisplay, vgdisplay, pvdisplay) works from.
pub struct DisplayInput {
    /// `-S`, parsed for the display's kind.
    pub filter: Option<rlvm::report::select::Selection>,
    /// Every VG and orphan PV on the disks.
    pub inventory: Inventory,
    /// The objects the arguments name.
    pub wanted: Names,
    /// lvm2's message for each argument that matched nothing (already printed).
    pub failures: Vec<String>,
}

impl DisplayInput {
    /// Whether `-S` (if given) keeps `row`.
    pub fn selects(&self, row: &rlvm::report::values::Row) -> bool {
        self.filter
            .as_ref()
            .is_none_or(|f| f.matches(&|spec| rlvm::report::values::value(spec, row)))
    }

    /// Prints the rendered `out`; fails (lvm2's status 5) when a name matched nothing.
    pub fn finish(&self, out: &str) -> anyhow::Result<()> {
        print!("{out}");
        if self.failures.is_empty() {
            Ok(())
        } else {
            Err(lvm2_failure("", crate::exit::COMMAND_FAILED))
        }
    }
}

/// The display commands' common start: the selection, the inventory and
/// the named objects, each unmatched name reported on stderr as lvm2 does.
pub fn display_input(
    kind: ReportType,
    names: &[String],
    report: &ReportArgs,
    common: &CommonArgs,
) -> anyhow::Result<DisplayInput> {
    let filter = report
        .select
        .as_deref()
        .map(|s| rlvm::report::query::selection(kind, s))
        .transpose()
        .map_err(|e| lvm2_failure(format!("  {e}"), crate::exit::COMMAND_FAILED))?;
    let inventory = inventory(common);
    let (wanted, failures) = resolve_names(kind, names, &inventory);
    for failure in &failures {
        eprintln!("{failure}");
    }
    Ok(DisplayInput {
        filter,
        inventory,
        wanted,
        failures,
    })
}

/// The VGs of `inventory` in the order lvm2's vgscan and lvscan list
/// them: the one found last in the scan first.
pub fn scan_order(inventory: &Inventory) -> Vec<&rlvm::report::rows::VgInfo> {
    use super::rpvscan::scan_key;
    let mut vgs: Vec<_> = inventory
        .vgs
        .iter()
        .map(|vg| {
            let first = vg
                .pvs
                .iter()
                .map(|pv| scan_key(std::path::Path::new(&pv.name)))
                .min();
            (first, vg)
        })
        .collect();
    vgs.sort_by(|a, b| b.0.cmp(&a.0));
    vgs.into_iter().map(|(_, vg)| vg).collect()
}

/// The report rows of a VG's PVs, keyed by the device paths they were found at.
pub fn pv_rows(vg: &Vg, paths: &[(String, PathBuf)]) -> Vec<PvInfo> {
    let mut info = rlvm::report::rows::vg_info(vg, &[], None);
    for pv in &mut info.pvs {
        if let Some((_, path)) = vg
            .pvs
            .iter()
            .find(|p| p.id == pv.uuid)
            .and_then(|p| paths.iter().find(|(k, _)| k == &p.key))
        {
            pv.name = path.display().to_string();
        }
    }
    info.pvs
}

/// The report rows of the PVs found that belong to no VG (a label, no metadata).
pub fn orphan_pv_rows() -> Vec<PvInfo> {
    scan_inventory(None).orphans
}

/// A failure worded as lvm2 words it, with its exit status.
pub fn lvm2_failure(message: impl Into<String>, code: u8) -> anyhow::Error {
    crate::exit::Lvm2Failure {
        message: message.into(),
        code,
    }
    .into()
}

/// The objects `names` name in a `kind` command (VGs, VG/LV, @tags, PVs),
/// and lvm2's message for each name that matches nothing.
pub fn resolve_names(
    kind: ReportType,
    names: &[String],
    inventory: &Inventory,
) -> (Names, Vec<String>) {
    let mut wanted = Names {
        given: !names.is_empty(),
        ..Names::default()
    };
    let mut failures = Vec::new();
    for name in names {
        if let Some(tag) = name.strip_prefix('@') {
            wanted.tags.push(tag.to_string());
            continue;
        }
        match kind {
            ReportType::Pvs => {
                let found = inventory
                    .vgs
                    .iter()
                    .flat_map(|vg| &vg.pvs)
                    .chain(&inventory.orphans)
                    .any(|pv| &pv.name == name);
                if found {
                    wanted.pvs.push(name.clone());
                } else if std::path::Path::new(name).exists() {
                    failures.push(format!("  Failed to find physical volume \"{name}\"."));
                } else {
                    failures.push(format!("  Cannot use {name}: device not found"));
                }
            }
            _ => {
                let trimmed = name.strip_prefix("/dev/").unwrap_or(name);
                let (vg, lv) = match trimmed.split_once('/') {
                    Some((vg, lv)) if kind == ReportType::Lvs => (vg, Some(lv)),
                    _ => (trimmed, None),
                };
                if lv.is_some_and(|lv| lv.contains('/')) {
                    failures.push(format!("  \"{name}\": Invalid path for Logical Volume."));
                    continue;
                }
                let valid = |c: char| c.is_ascii_alphanumeric() || "+_.-".contains(c);
                if !vg.chars().all(valid) || vg.starts_with('-') {
                    failures.push(format!(
                        "  Volume group name \"{vg}\" has invalid characters.\n  Cannot process volume group {vg}"
                    ));
                    continue;
                }
                let Some(found) = inventory.vgs.iter().find(|v| v.name == vg) else {
                    failures.push(format!(
                        "  Volume group \"{vg}\" not found\n  Cannot process volume group {vg}"
                    ));
                    continue;
                };
                match lv {
                    None => wanted.vgs.push(vg.to_string()),
                    Some(lv) if found.lvs.iter().any(|l| l.bare_name == lv) => {
                        wanted.lvs.push((vg.to_string(), lv.to_string()))
                    }
                    Some(lv) => {
                        failures.push(format!("  Failed to find logical volume \"{vg}/{lv}\""))
                    }
                }
            }
        }
    }
    (wanted, failures)
}

/// lvs, vgs and pvs: the objects `names` name (VGs, VG/LV, @tags, PVs),
/// reported with `args`; a name that matches nothing is reported as lvm2
/// reports it and fails the command (exit 5) after the rows found are printed.
pub fn run_report(
    kind: ReportType,
    program: &str,
    names: &[String],
    args: &ReportArgs,
    common: &CommonArgs,
    segments: bool,
    all: bool,
) -> anyhow::Result<()> {
    use std::io::Write;
    let lvm2_name = program.strip_prefix('r').unwrap_or(program);
    let config = rlvm::config::Config::load(&common.config).map_err(|e| {
        lvm2_failure(
            format!("  {e}\n  Failed to set overridden configuration entries.\n  Run `{lvm2_name} --help' for more information."),
            crate::exit::INVALID_COMMAND_LINE,
        )
    })?;
    let options = args.options_with(&config).map_err(|_| {
        lvm2_failure(
            format!(
                "  Invalid units specification\n  Run `{lvm2_name} --help' for more information."
            ),
            crate::exit::INVALID_COMMAND_LINE,
        )
    })?;
    if wants_help(&args.options) {
        eprint!("{}", help_text());
        return Ok(());
    }
    if args.logonly {
        // lvm2's log report, which rlvm logs nothing into.
        let text = match options.format {
            rlvm::report::render::Format::Basic if options.headings => {
                "  Seq LogType Context ObjType ObjName ObjID   ObjGrp  ObjGrpID Msg     Errno RetCode\n"
            }
            rlvm::report::render::Format::Basic => "",
            _ => "  {\n      \"log\": [\n      ]\n  }\n",
        };
        std::io::stdout().write_all(text.as_bytes())?;
        return Ok(());
    }
    let query = Query {
        options: args.options.clone(),
        sort: args.sort.clone(),
        select: args.select.clone(),
        segments,
        all,
        verbose: common.verbose > 0,
        columns: config
            .string(&format!(
                "report/{}_cols{}",
                match (kind, segments) {
                    (ReportType::Lvs, false) => "lvs",
                    (ReportType::Lvs, true) => "segs",
                    (ReportType::Vgs, _) => "vgs",
                    (ReportType::Pvs, false) => "pvs",
                    (ReportType::Pvs, true) => "pvsegs",
                },
                if common.verbose > 0 { "_verbose" } else { "" }
            ))
            .map(str::to_string),
        default_sort: config
            .string(&format!(
                "report/{}_sort",
                match (kind, segments) {
                    (ReportType::Lvs, false) => "lvs",
                    (ReportType::Lvs, true) => "segs",
                    (ReportType::Vgs, _) => "vgs",
                    (ReportType::Pvs, false) => "pvs",
                    (ReportType::Pvs, true) => "pvsegs",
                }
            ))
            .map(str::to_string),
    };
    // An unknown field fails before any device is read, as lvm2 checks the fields first.
    let checked = rlvm::report::query::fields(kind, &query)
        .and_then(|_| rlvm::report::query::check_sort(kind, &query));
    match checked {
        Err(
            error @ (rlvm::report::query::QueryError::UnknownField(_)
            | rlvm::report::query::QueryError::UnknownSortField(_)),
        ) => {
            if options.json {
                // lvm2 has opened its JSON report before it checks the fields.
                std::io::stdout().write_all(b"  {\n      \"report\": [\n      ]\n  }\n")?;
            }
            return Err(lvm2_failure(
                format!("{}  {error}", help_text()),
                crate::exit::COMMAND_FAILED,
            ));
        }
        Err(error) => {
            return Err(lvm2_failure(
                format!("  {error}"),
                crate::exit::COMMAND_FAILED,
            ))
        }
        Ok(_) => {}
    }
    let inventory = inventory(common);
    let (wanted, failures) = resolve_names(kind, names, &inventory);
    for failure in &failures {
        eprintln!("{failure}");
    }
    let text = rlvm::report::query::report(kind, &inventory, &query, &wanted, &options)
        .map_err(|e| lvm2_failure(format!("  {e}"), crate::exit::COMMAND_FAILED))?;
    std::io::stdout().write_all(text.as_bytes())?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(lvm2_failure("", crate::exit::COMMAND_FAILED))
    }
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
    rlvm::log::print(format!(
        "Merge of snapshot into logical volume {vg}/{origin} has finished."
    ));
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
