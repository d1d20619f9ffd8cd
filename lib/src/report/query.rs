//! A report as lvm2's lvs, vgs and pvs make one: the `-o` field list (the
//! last `-o` replaces, `+` appends, `-` removes; names may omit their
//! prefix), one row per LV, segment, VG, PV or PV segment, `-S` selection,
//! `-O` sorting, and `-o help`.

use std::cmp::Ordering;

use thiserror::Error;

use super::catalog::{FieldSpec, Object, CATALOG};
use super::render::{render_rows, Cell, Column, FieldKind, ReportOptions};
use super::rows::{Inventory, PvSegInfo};
use super::select::Selection;
use super::values::{value, Row};

/// Which command's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportType {
    /// lvs.
    Lvs,
    /// vgs.
    Vgs,
    /// pvs.
    Pvs,
}

/// A report request, as the command line gives it.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// `-o` lists in order.
    pub options: Vec<String>,
    /// `-O` lists in order.
    pub sort: Vec<String>,
    /// `-S`.
    pub select: Option<String>,
    /// `--segments`.
    pub segments: bool,
    /// `-a`: hidden LVs too.
    pub all: bool,
    /// `-v`: the verbose default columns.
    pub verbose: bool,
    /// Default columns from the configuration (`report/lvs_cols` ...), replacing lvm2's built-in ones.
    pub columns: Option<String>,
    /// Default sort keys from the configuration (`report/lvs_sort` ...).
    pub default_sort: Option<String>,
}

/// What a report cannot be made of.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueryError {
    /// An `-o` or `-O` name no field has.
    #[error("Unrecognised field: {0}")]
    UnknownField(String),
    /// An `-O` name no field has (libdevmapper's sort-key check words it).
    #[error("dm_report: Unrecognised field: {0}")]
    UnknownSortField(String),
    /// A `-S` expression that does not parse.
    #[error("{0}")]
    Selection(String),
    /// An empty `-o`.
    #[error("Invalid options string: {0}")]
    InvalidOptions(String),
}

/// `-o help`, as lvm2 prints it on stderr (every report prints every section).
pub fn help_text() -> String {
    fields_text(false)
}

/// The fields as lvm2 lists them for an unknown selection field: each with
/// its selection type, without the `*_all` lines.
pub fn selection_fields_text() -> String {
    fields_text(true)
}

fn fields_text(typed: bool) -> String {
    let mut out = String::new();
    let sections: [(&[Object], &str, &str); 9] = [
        (&[Object::Lv], "Logical Volume Fields", "lv_all"),
        (
            &[Object::LvInfo],
            "Logical Volume Device Info Fields",
            "lv_all",
        ),
        (
            &[Object::LvStatus],
            "Logical Volume Device Status Fields",
            "lv_all",
        ),
        (
            &[Object::LvInfoStatus],
            "Logical Volume Device Info and Status Combined Fields",
            "lv_all",
        ),
        (&[Object::Label], "Physical Volume Label Fields", "pv_all"),
        (&[Object::Pv], "Physical Volume Fields", "pv_all"),
        (&[Object::Vg], "Volume Group Fields", "vg_all"),
        (&[Object::Seg], "Logical Volume Segment Fields", "seg_all"),
        (
            &[Object::PvSeg],
            "Physical Volume Segment Fields",
            "pvseg_all",
        ),
    ];
    let line = |out: &mut String, id: &str, description: &str, kind: &str| {
        let kind = if typed {
            format!(" [{kind}]")
        } else {
            String::new()
        };
        out.push_str(&format!("    {id:<27} - {description}{kind}\n"));
    };
    for (objects, title, all) in sections {
        out.push_str(&format!("  {title}\n  {}\n", "-".repeat(title.len())));
        if !typed {
            line(&mut out, all, "All fields in this section.", "");
        }
        for spec in CATALOG.iter().filter(|s| objects.contains(&s.object)) {
            line(
                &mut out,
                spec.id,
                spec.description,
                selection_type(spec.kind),
            );
        }
        out.push_str("   \n");
    }
    out.push_str("  Special Fields\n  --------------\n");
    line(
        &mut out,
        "selected",
        "Set if item passes selection criteria.",
        "number",
    );
    line(&mut out, "help", "Show help.", "unselectable number");
    line(&mut out, "?", "Show help.", "unselectable number");
    out.push_str("   \n");
    out
}

/// The type lvm2's selection gives a field of `kind` (flags compare as numbers).
fn selection_type(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "string",
        FieldKind::Number | FieldKind::Binary => "number",
        FieldKind::Size => "size",
        FieldKind::Percent => "percent",
        FieldKind::List => "string list",
        FieldKind::Time => "time",
    }
}

/// Whether `options` ask for `-o help` (or `-o ?`).
pub fn wants_help(options: &[String]) -> bool {
    options
        .iter()
        .flat_map(|o| o.split(','))
        .any(|n| matches!(n.trim().trim_start_matches(['+', '-']), "help" | "?"))
}

fn prefixes(kind: ReportType) -> &'static [&'static str] {
    match kind {
        ReportType::Lvs => &["lv_", "seg_", "vg_"],
        ReportType::Vgs => &["vg_", "lv_", "pv_"],
        ReportType::Pvs => &["pv_", "pvseg_", "vg_", "lv_", "seg_"],
    }
}

fn allowed(kind: ReportType, object: Object) -> bool {
    match kind {
        ReportType::Lvs => !matches!(object, Object::Pv | Object::Label | Object::PvSeg),
        ReportType::Vgs => true,
        ReportType::Pvs => true,
    }
}

fn all_of(name: &str) -> Option<&'static [Object]> {
    Some(match name {
        "lv_all" => &[
            Object::Lv,
            Object::LvInfo,
            Object::LvStatus,
            Object::LvInfoStatus,
        ],
        "vg_all" => &[Object::Vg],
        "pv_all" => &[Object::Label, Object::Pv],
        "seg_all" => &[Object::Seg],
        "pvseg_all" => &[Object::PvSeg],
        _ => return None,
    })
}

/// The fields `name` stands for in a `kind` report (`all`, `lv_all`, an id, an id without its prefix).
fn resolve(kind: ReportType, name: &str) -> Result<Vec<&'static FieldSpec>, QueryError> {
    let name = name.trim();
    let lower = name.to_ascii_lowercase();
    let unknown = || QueryError::UnknownField(name.to_string());
    if lower == "all" {
        // lvm2's `all`: the fields of the report's own objects (an LV's
        // with its VG's; a PV's with its label's), not every field it takes.
        let objects: &[Object] = match kind {
            ReportType::Lvs => &[
                Object::Lv,
                Object::LvInfo,
                Object::LvStatus,
                Object::LvInfoStatus,
                Object::Vg,
            ],
            ReportType::Vgs => &[Object::Vg],
            ReportType::Pvs => &[Object::Label, Object::Pv],
        };
        return Ok(CATALOG
            .iter()
            .filter(|s| objects.contains(&s.object))
            .collect());
    }
    if let Some(objects) = all_of(&lower) {
        return Ok(CATALOG
            .iter()
            .filter(|s| objects.contains(&s.object))
            .collect());
    }
    let found = CATALOG.iter().find(|s| s.id == lower).or_else(|| {
        prefixes(kind)
            .iter()
            .find_map(|p| CATALOG.iter().find(|s| s.id == format!("{p}{lower}")))
    });
    match found {
        Some(spec) if allowed(kind, spec.object) => Ok(vec![spec]),
        _ => Err(unknown()),
    }
}

/// A `-S` expression over the fields of a `kind` report.
pub fn selection(kind: ReportType, text: &str) -> Result<Selection, QueryError> {
    Selection::parse(text, &|name| {
        resolve(kind, name).ok().and_then(|v| v.first().copied())
    })
    .map_err(QueryError::Selection)
}

/// lvm2's default columns.
pub fn defaults(kind: ReportType, segments: bool, verbose: bool) -> &'static str {
    match (kind, segments, verbose) {
        (ReportType::Lvs, false, false) => "lv_name,vg_name,lv_attr,lv_size,pool_lv,origin,data_percent,metadata_percent,move_pv,mirror_log,copy_percent,convert_lv",
        (ReportType::Lvs, false, true) => "lv_name,vg_name,seg_count,lv_attr,lv_size,lv_major,lv_minor,lv_kernel_major,lv_kernel_minor,pool_lv,origin,data_percent,metadata_percent,move_pv,copy_percent,mirror_log,convert_lv,lv_uuid,lv_profile",
        (ReportType::Lvs, true, false) => "lv_name,vg_name,lv_attr,stripes,segtype,seg_size",
        (ReportType::Lvs, true, true) => "lv_name,vg_name,lv_attr,seg_start,seg_size,stripes,segtype,stripe_size,chunk_size",
        (ReportType::Vgs, _, false) => "vg_name,pv_count,lv_count,snap_count,vg_attr,vg_size,vg_free",
        (ReportType::Vgs, _, true) => "vg_name,vg_attr,vg_extent_size,pv_count,lv_count,snap_count,vg_size,vg_free,vg_uuid,vg_profile",
        (ReportType::Pvs, false, false) => "pv_name,vg_name,pv_fmt,pv_attr,pv_size,pv_free",
        (ReportType::Pvs, false, true) => "pv_name,vg_name,pv_fmt,pv_attr,pv_size,pv_free,dev_size,pv_uuid",
        (ReportType::Pvs, true, false) => "pv_name,vg_name,pv_fmt,pv_attr,pv_size,pv_free,pvseg_start,pvseg_size",
        (ReportType::Pvs, true, true) => "pv_name,vg_name,pv_fmt,pv_attr,pv_size,pv_free,pvseg_start,pvseg_size,lv_name,seg_start_pe,segtype,seg_pe_ranges",
    }
}

/// The fields of a report: the defaults, then each `-o` in turn (a plain
/// list replaces what came before, as lvm2 keeps the last `-o`; `+LIST`
/// appends; `-LIST` removes).
pub fn fields(kind: ReportType, query: &Query) -> Result<Vec<&'static FieldSpec>, QueryError> {
    let parse = |list: &str| -> Result<Vec<&'static FieldSpec>, QueryError> {
        let mut out = Vec::new();
        for name in list.split(',').filter(|n| !n.trim().is_empty()) {
            out.extend(resolve(kind, name)?);
        }
        Ok(out)
    };
    let mut selected = parse(query.columns.as_deref().unwrap_or(defaults(
        kind,
        query.segments,
        query.verbose,
    )))?;
    for option in &query.options {
        if option.trim().is_empty() {
            return Err(QueryError::InvalidOptions(option.clone()));
        }
        if let Some(extra) = option.strip_prefix('+') {
            selected.extend(parse(extra)?);
        } else if let Some(gone) = option.strip_prefix('-') {
            let gone = parse(gone)?;
            selected.retain(|f| !gone.iter().any(|g| g.id == f.id));
        } else {
            selected = parse(option)?;
        }
    }
    Ok(selected)
}

/// Whether every `-O` key names a field, checked before any device is read as lvm2 does.
pub fn check_sort(kind: ReportType, query: &Query) -> Result<(), QueryError> {
    sort_keys(kind, query, query.segments).map(|_| ())
}

/// The sort keys: `-O` lists (each name optionally `+`/`-` for ascending or descending), else lvm2's defaults.
fn sort_keys(
    kind: ReportType,
    query: &Query,
    per_segment: bool,
) -> Result<Vec<(&'static FieldSpec, bool)>, QueryError> {
    let default = match (kind, per_segment) {
        (ReportType::Lvs, false) => "vg_name,lv_name",
        (ReportType::Lvs, true) => "vg_name,lv_name,seg_start",
        (ReportType::Vgs, _) => "vg_name",
        (ReportType::Pvs, false) => "pv_name",
        (ReportType::Pvs, true) => "pv_name,pvseg_start",
    };
    let lists: Vec<&str> = if query.sort.is_empty() {
        vec![query.default_sort.as_deref().unwrap_or(default)]
    } else {
        query.sort.iter().map(String::as_str).collect()
    };
    let mut keys = Vec::new();
    for list in lists {
        for name in list.split(',').filter(|n| !n.trim().is_empty()) {
            let name = name.trim();
            let (descending, bare) = match name.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, name.strip_prefix('+').unwrap_or(name)),
            };
            // lvm2 names the key as given, its `-` included.
            let specs = resolve(kind, bare).map_err(|e| match e {
                QueryError::UnknownField(_) => QueryError::UnknownSortField(name.to_string()),
                other => other,
            })?;
            for spec in specs {
                keys.push((spec, descending));
            }
        }
    }
    Ok(keys)
}

fn compare_cells(a: &Cell, b: &Cell) -> Ordering {
    match (a, b) {
        (Cell::Number(x), Cell::Number(y)) => x.cmp(y),
        (Cell::Size(x), Cell::Size(y)) => x.cmp(y),
        (Cell::Percent(x), Cell::Percent(y)) => x.cmp(y),
        (Cell::Text(x), Cell::Text(y)) => {
            // lvm2 sorts a hidden LV where its bare name puts it.
            let bare = |s: &str| s.trim_start_matches('[').trim_end_matches(']').to_string();
            bare(x).cmp(&bare(y))
        }
        (Cell::Empty, Cell::Empty) => Ordering::Equal,
        (Cell::Empty, _) => Ordering::Less,
        (_, Cell::Empty) => Ordering::Greater,
        _ => format!("{a:?}").cmp(&format!("{b:?}")),
    }
}

/// The objects a report names on its command line, as found.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Whole VGs.
    pub vgs: Vec<String>,
    /// `(vg, lv)` pairs.
    pub lvs: Vec<(String, String)>,
    /// `@tag`s.
    pub tags: Vec<String>,
    /// PV paths.
    pub pvs: Vec<String>,
    /// Names were given (even if none was found: then no row matches).
    pub given: bool,
}

impl Names {
    /// Whether `lv` of `vg` is among the names (all are when none was given).
    pub fn wants_lv(&self, vg: &super::rows::VgInfo, lv: &super::rows::LvInfo) -> bool {
        !self.restricted()
            || self.vgs.contains(&vg.name)
            || self
                .lvs
                .iter()
                .any(|(v, l)| v == &vg.name && l == &lv.bare_name)
            || self
                .tags
                .iter()
                .any(|t| lv.tags.contains(t) || vg.tags.contains(t))
    }

    /// Whether `vg` is among the names.
    pub fn wants_vg(&self, vg: &super::rows::VgInfo) -> bool {
        !self.restricted()
            || self.vgs.contains(&vg.name)
            || self.tags.iter().any(|t| vg.tags.contains(t))
    }

    /// Whether `pv` is among the names.
    pub fn wants_pv(&self, pv: &super::rows::PvInfo) -> bool {
        !self.restricted()
            || self.pvs.contains(&pv.name)
            || self.tags.iter().any(|t| pv.tags.contains(t))
    }

    fn restricted(&self) -> bool {
        self.given
            || !(self.vgs.is_empty()
                && self.lvs.is_empty()
                && self.tags.is_empty()
                && self.pvs.is_empty())
    }
}

/// The rows of a report: per LV (per segment with `per_segment`), per VG
/// (per LV, or per PV with `query.segments`, when `per_segment`), per PV (per PV segment).
pub fn rows_of<'a>(
    kind: ReportType,
    inventory: &'a Inventory,
    query: &Query,
    names: &Names,
    per_segment: bool,
) -> Vec<Row<'a>> {
    let mut rows = Vec::new();
    match kind {
        ReportType::Lvs => {
            for vg in &inventory.vgs {
                for lv in &vg.lvs {
                    if !lv.visible && !query.all {
                        continue;
                    }
                    if !names.wants_lv(vg, lv) {
                        continue;
                    }
                    if per_segment {
                        for seg in &lv.segments {
                            rows.push(Row {
                                vg: Some(vg),
                                lv: Some(lv),
                                seg: Some(seg),
                                ..Default::default()
                            });
                        }
                    } else {
                        rows.push(Row {
                            vg: Some(vg),
                            lv: Some(lv),
                            ..Default::default()
                        });
                    }
                }
            }
        }
        ReportType::Vgs => {
            for vg in &inventory.vgs {
                if !names.wants_vg(vg) {
                    continue;
                }
                // With LV or PV fields, vgs reports a row per LV or per PV of each VG.
                match per_segment.then_some(query.segments) {
                    Some(false) => {
                        for lv in vg.lvs.iter().filter(|lv| lv.visible || query.all) {
                            rows.push(Row {
                                vg: Some(vg),
                                lv: Some(lv),
                                ..Default::default()
                            });
                        }
                    }
                    Some(true) => {
                        for pv in &vg.pvs {
                            rows.push(Row {
                                vg: Some(vg),
                                pv: Some(pv),
                                ..Default::default()
                            });
                        }
                    }
                    None => rows.push(Row {
                        vg: Some(vg),
                        ..Default::default()
                    }),
                }
            }
        }
        ReportType::Pvs => {
            let pvs = inventory
                .vgs
                .iter()
                .flat_map(|vg| vg.pvs.iter().map(move |pv| (Some(vg), pv)))
                .chain(inventory.orphans.iter().map(|pv| (None, pv)));
            for (vg, pv) in pvs {
                if !names.wants_pv(pv) {
                    continue;
                }
                if per_segment {
                    let whole = [PvSegInfo {
                        start: 0,
                        size: pv.pe_count,
                        used_by: None,
                    }];
                    let segments: &[PvSegInfo] = if pv.segments.is_empty() {
                        // An orphan: one row, as lvm2 prints it (a zero-length free run).
                        &[]
                    } else {
                        &pv.segments
                    };
                    if segments.is_empty() {
                        let _ = whole;
                        rows.push(Row {
                            vg,
                            pv: Some(pv),
                            pvseg: None,
                            ..Default::default()
                        });
                    }
                    for seg in segments {
                        let (lv, lvseg) = match (vg, seg.used_by) {
                            (Some(vg), Some((l, s))) => {
                                let lv = vg.lvs.get(l);
                                (lv, lv.and_then(|lv| lv.segments.get(s)))
                            }
                            _ => (None, None),
                        };
                        rows.push(Row {
                            vg,
                            pv: Some(pv),
                            pvseg: Some(seg),
                            lv,
                            seg: lvseg,
                        });
                    }
                } else {
                    rows.push(Row {
                        vg,
                        pv: Some(pv),
                        ..Default::default()
                    });
                }
            }
        }
    }
    rows
}

/// Make the report: fields, rows, selection, order, text.
pub fn report(
    kind: ReportType,
    inventory: &Inventory,
    query: &Query,
    names: &Names,
    options: &ReportOptions,
) -> Result<String, QueryError> {
    let fields = fields(kind, query)?;
    let per_segment = query.segments
        || match kind {
            ReportType::Lvs => fields.iter().any(|f| f.object == Object::Seg),
            ReportType::Pvs => fields
                .iter()
                .any(|f| matches!(f.object, Object::PvSeg | Object::Seg | Object::Lv)),
            ReportType::Vgs => fields.iter().any(|f| f.object != Object::Vg),
        };
    // vgs has no --segments: for it the flag says PV rows rather than LV rows.
    let query = &Query {
        segments: match kind {
            ReportType::Vgs => fields
                .iter()
                .any(|f| matches!(f.object, Object::Pv | Object::Label | Object::PvSeg)),
            _ => query.segments,
        },
        ..query.clone()
    };
    let keys = sort_keys(kind, query, per_segment)?;
    let selection = query
        .select
        .as_deref()
        .map(|s| {
            Selection::parse(s, &|name| {
                resolve(kind, name).ok().and_then(|v| v.first().copied())
            })
        })
        .transpose()
        .map_err(QueryError::Selection)?;
    let mut rows = rows_of(kind, inventory, query, names, per_segment);
    if let Some(selection) = &selection {
        rows.retain(|row| selection.matches(&|spec| value(spec, row)));
    }
    let mut keyed: Vec<(Vec<Cell>, Row)> = rows
        .into_iter()
        .map(|row| {
            (
                keys.iter().map(|(spec, _)| value(spec, &row)).collect(),
                row,
            )
        })
        .collect();
    let basic = !options.json && !options.rows && !options.nameprefixes;
    let unbuffered = options.unbuffered && basic;
    // Unbuffered, lvm2 prints each row as it is processed, unsorted: the
    // VGs newest-discovered first (its cache's order), then the orphans.
    let processed = |row: &Row| {
        row.vg.map_or(usize::MAX, |vg| {
            let at = inventory.vgs.iter().position(|v| std::ptr::eq(v, vg));
            inventory.vgs.len() - at.unwrap_or(0)
        })
    };
    keyed.sort_by(|(a, x), (b, y)| {
        if unbuffered {
            return processed(x).cmp(&processed(y));
        }
        for ((x, y), (_, descending)) in a.iter().zip(b).zip(&keys) {
            let order = compare_cells(x, y);
            let order = if *descending { order.reverse() } else { order };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    });
    let columns: Vec<Column> = fields
        .iter()
        .map(|f| Column {
            id: f.id,
            // lvm2 cuts a heading longer than its field's width ("InitImgSyn").
            heading: match f.width {
                0 => f.heading,
                width => &f.heading[..f.heading.len().min(width)],
            },
            width: f.width,
            kind: f.kind,
        })
        .collect();
    let name = match kind {
        ReportType::Lvs if per_segment && query.segments => "seg",
        ReportType::Lvs => "lv",
        ReportType::Vgs => "vg",
        ReportType::Pvs if per_segment && query.segments => "pvseg",
        ReportType::Pvs => "pv",
    };
    let cells = keyed
        .iter()
        .map(|(_, row)| fields.iter().map(move |f| value(f, row)));
    if unbuffered {
        // Each row alone: its own widths; the headings go with the first.
        let later = ReportOptions {
            headings: false,
            ..options.clone()
        };
        return Ok(cells
            .enumerate()
            .map(|(at, row)| {
                let options = if at == 0 { options } else { &later };
                render_rows(name, &columns, [row], options)
            })
            .collect());
    }
    Ok(render_rows(name, &columns, cells, options))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(kind: ReportType, options: &[&str]) -> Vec<&'static str> {
        let query = Query {
            options: options.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        fields(kind, &query).unwrap().iter().map(|f| f.id).collect()
    }

    #[test]
    fn the_last_plain_o_wins_and_plus_minus_edit() {
        assert_eq!(ids(ReportType::Lvs, &["lv_name", "lv_size"]), ["lv_size"]);
        assert_eq!(
            ids(ReportType::Lvs, &["name", "+size,origin"]),
            ["lv_name", "lv_size", "origin"]
        );
        assert_eq!(ids(ReportType::Vgs, &["-vg_attr,vg_free"]).len(), 5);
        assert_eq!(ids(ReportType::Pvs, &[]).len(), 6);
        let query = Query {
            options: vec!["nosuch".into()],
            ..Default::default()
        };
        assert_eq!(
            fields(ReportType::Lvs, &query).unwrap_err(),
            QueryError::UnknownField("nosuch".into())
        );
        // PV fields are not lvs fields.
        let query = Query {
            options: vec!["pv_name".into()],
            ..Default::default()
        };
        assert!(fields(ReportType::Lvs, &query).is_err());
    }

    #[test]
    fn help_lists_every_field_in_lvm2s_layout() {
        let help = help_text();
        assert!(help.starts_with("  Logical Volume Fields\n  ---------------------\n    lv_all                      - All fields in this section.\n"));
        assert_eq!(
            help.lines().filter(|l| l.starts_with("    ")).count(),
            CATALOG.len() + 9 + 3
        );
        assert!(help.ends_with("    ?                           - Show help.\n   \n"));
    }

    #[test]
    fn selection_compares_sizes_text_and_lists() {
        let spec = |id: &str| CATALOG.iter().find(|s| s.id == id).unwrap();
        let row = |name: &str, size: u64, tags: &str| {
            let (name, tags) = (name.to_string(), tags.to_string());
            move |f: &FieldSpec| match f.id {
                "lv_name" => Cell::Text(name.clone()),
                "lv_size" => Cell::Size(size),
                "lv_tags" => Cell::Text(tags.clone()),
                _ => Cell::Empty,
            }
        };
        let check = |text: &str, get: &dyn Fn(&FieldSpec) -> Cell| {
            selection(ReportType::Lvs, text).unwrap().matches(get)
        };
        let base = row("base", 16384, "db,web");
        assert!(check("lv_size=8m", &base));
        assert!(check("lv_size>4m && lv_name=~^b", &base));
        assert!(!check("lv_size<8m || lv_name!=base", &base));
        assert!(check("!(lv_name=snap)", &base));
        assert!(check("lv_tags=web", &base));
        assert!(check("lv_tags={web,db}", &base));
        assert!(!check("lv_tags={web,x}", &base));
        assert!(check("name=base", &base));
        assert!(selection(ReportType::Lvs, "nosuch=1").is_err());
        assert!(selection(ReportType::Lvs, "lv_size>x").is_err());
        let _ = spec("lv_name");
    }
}
