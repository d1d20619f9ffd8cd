//! The typed volume group, read from and written to lvm2's metadata text.
//! Every object keeps the items rlvm does not model (`extra`) and writes them
//! back, so lvm2 loses nothing it wrote when rlvm commits a change.

use thiserror::Error;

use super::text::{self, Item, SyntaxError, Value};

/// Why a metadata text is not a usable VG.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MetadataError {
    /// Not lvm2 config syntax.
    #[error(transparent)]
    Syntax(#[from] SyntaxError),
    /// No VG section in the text.
    #[error("metadata text has no volume group section")]
    NoVolumeGroup,
    /// A required setting is missing.
    #[error("{path}: missing {key}")]
    Missing {
        /// Where (`vg1/logical_volumes/lv0`).
        path: String,
        /// The setting.
        key: &'static str,
    },
    /// A setting has the wrong type or an impossible value.
    #[error("{path}: {key} {why}")]
    Invalid {
        /// Where.
        path: String,
        /// The setting.
        key: String,
        /// Why.
        why: String,
    },
}

/// A physical volume as the VG records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pv {
    /// Key within the VG (`pv0`).
    pub key: String,
    /// PV UUID, dashed.
    pub id: String,
    /// Device hint.
    pub device: String,
    /// Status words (`ALLOCATABLE`).
    pub status: Vec<String>,
    /// Device size in sectors.
    pub dev_size: u64,
    /// First data sector.
    pub pe_start: u64,
    /// Extents on this PV.
    pub pe_count: u64,
    /// Items rlvm does not model.
    pub extra: Vec<Item>,
}

/// What a segment maps to.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentKind {
    /// `striped` (a linear LV is one stripe): PV key and start extent per stripe.
    Striped {
        /// Stripe size in sectors, for more than one stripe.
        stripe_size: Option<u64>,
        /// (PV key, first extent) per stripe.
        stripes: Vec<(String, u64)>,
    },
    /// A snapshot's hidden LV: origin and COW LV names.
    Snapshot {
        /// Chunk size in sectors.
        chunk_size: u64,
        /// Origin LV.
        origin: String,
        /// COW LV.
        cow: String,
        /// Merging back into the origin (`merging_store`).
        merging: bool,
    },
    /// Any other segment type, kept as text.
    Other(String),
}

/// A segment of an LV.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// First logical extent.
    pub start_extent: u64,
    /// Length in extents.
    pub extent_count: u64,
    /// What it maps to.
    pub kind: SegmentKind,
    /// Items rlvm does not model.
    pub extra: Vec<Item>,
}

/// A logical volume.
#[derive(Debug, Clone, PartialEq)]
pub struct Lv {
    /// Name.
    pub name: String,
    /// LV UUID, dashed.
    pub id: String,
    /// Status words (`READ`, `WRITE`, `VISIBLE`).
    pub status: Vec<String>,
    /// Creation time (seconds since the epoch).
    pub creation_time: Option<i64>,
    /// Creation host.
    pub creation_host: Option<String>,
    /// Segments in order.
    pub segments: Vec<Segment>,
    /// Items rlvm does not model.
    pub extra: Vec<Item>,
}

/// A volume group.
#[derive(Debug, Clone, PartialEq)]
pub struct Vg {
    /// Name.
    pub name: String,
    /// VG UUID, dashed.
    pub id: String,
    /// Sequence number: +1 per commit.
    pub seqno: u64,
    /// Status words.
    pub status: Vec<String>,
    /// Extent size in sectors.
    pub extent_size: u64,
    /// PVs in order.
    pub pvs: Vec<Pv>,
    /// LVs in order.
    pub lvs: Vec<Lv>,
    /// VG-level items rlvm does not model (format, flags, max_lv, ...).
    pub extra: Vec<Item>,
    /// Top-level items after the VG section (contents, version, description, ...).
    pub header: Vec<Item>,
}

fn path_join(a: &str, b: &str) -> String {
    format!("{a}/{b}")
}

fn take_str(
    items: &mut Vec<Item>,
    path: &str,
    key: &'static str,
) -> Result<Option<String>, MetadataError> {
    match take(items, key) {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s)),
        Some(_) => Err(MetadataError::Invalid {
            path: path.into(),
            key: key.into(),
            why: "is not a string".into(),
        }),
    }
}

fn take_u64(
    items: &mut Vec<Item>,
    path: &str,
    key: &'static str,
) -> Result<Option<u64>, MetadataError> {
    match take(items, key) {
        None => Ok(None),
        Some(Value::Int(n)) if n >= 0 => Ok(Some(n as u64)),
        Some(_) => Err(MetadataError::Invalid {
            path: path.into(),
            key: key.into(),
            why: "is not a non-negative integer".into(),
        }),
    }
}

fn take_words(
    items: &mut Vec<Item>,
    path: &str,
    key: &'static str,
) -> Result<Vec<String>, MetadataError> {
    match take(items, key) {
        None => Ok(Vec::new()),
        Some(Value::Array(values)) => values
            .into_iter()
            .map(|v| match v {
                Value::Str(s) => Ok(s),
                _ => Err(MetadataError::Invalid {
                    path: path.into(),
                    key: key.into(),
                    why: "has a non-string entry".into(),
                }),
            })
            .collect(),
        Some(_) => Err(MetadataError::Invalid {
            path: path.into(),
            key: key.into(),
            why: "is not a list".into(),
        }),
    }
}

fn required<T>(value: Option<T>, path: &str, key: &'static str) -> Result<T, MetadataError> {
    value.ok_or_else(|| MetadataError::Missing {
        path: path.into(),
        key,
    })
}

fn take(items: &mut Vec<Item>, key: &str) -> Option<Value> {
    let index = items
        .iter()
        .position(|i| matches!(i, Item::Setting(k, _) if k == key))?;
    match items.remove(index) {
        Item::Setting(_, value) => Some(value),
        Item::Section(..) => None,
    }
}

fn take_section(items: &mut Vec<Item>, name: &str) -> Option<Vec<Item>> {
    let index = items
        .iter()
        .position(|i| matches!(i, Item::Section(n, _) if n == name))?;
    match items.remove(index) {
        Item::Section(_, inner) => Some(inner),
        Item::Setting(..) => None,
    }
}

fn sections(items: Vec<Item>) -> (Vec<(String, Vec<Item>)>, Vec<Item>) {
    let mut found = Vec::new();
    let mut rest = Vec::new();
    for item in items {
        match item {
            Item::Section(name, inner) => found.push((name, inner)),
            other => rest.push(other),
        }
    }
    (found, rest)
}

fn parse_segment(path: &str, mut items: Vec<Item>) -> Result<Segment, MetadataError> {
    let start_extent = required(
        take_u64(&mut items, path, "start_extent")?,
        path,
        "start_extent",
    )?;
    let extent_count = required(
        take_u64(&mut items, path, "extent_count")?,
        path,
        "extent_count",
    )?;
    let kind_name = required(take_str(&mut items, path, "type")?, path, "type")?;
    let kind = match kind_name.as_str() {
        "striped" => {
            let stripe_count = take_u64(&mut items, path, "stripe_count")?;
            let stripe_size = take_u64(&mut items, path, "stripe_size")?;
            let list = match take(&mut items, "stripes") {
                Some(Value::Array(values)) => values,
                _ => {
                    return Err(MetadataError::Missing {
                        path: path.into(),
                        key: "stripes",
                    })
                }
            };
            let mut stripes = Vec::new();
            for pair in list.chunks(2) {
                match pair {
                    [Value::Str(pv), Value::Int(extent)] if *extent >= 0 => {
                        stripes.push((pv.clone(), *extent as u64))
                    }
                    _ => {
                        return Err(MetadataError::Invalid {
                            path: path.into(),
                            key: "stripes".into(),
                            why: "is not a list of \"pv\", extent pairs".into(),
                        })
                    }
                }
            }
            if stripe_count.is_some_and(|n| n != stripes.len() as u64) || stripes.is_empty() {
                return Err(MetadataError::Invalid {
                    path: path.into(),
                    key: "stripe_count".into(),
                    why: format!("does not match the {} stripes listed", stripes.len()),
                });
            }
            SegmentKind::Striped {
                stripe_size,
                stripes,
            }
        }
        "snapshot" => {
            let chunk_size = required(
                take_u64(&mut items, path, "chunk_size")?,
                path,
                "chunk_size",
            )?;
            let origin = required(take_str(&mut items, path, "origin")?, path, "origin")?;
            let merging_store = take_str(&mut items, path, "merging_store")?;
            let cow_store = take_str(&mut items, path, "cow_store")?;
            let (cow, merging) = match (cow_store, merging_store) {
                (Some(cow), None) => (cow, false),
                (None, Some(cow)) => (cow, true),
                (Some(_), Some(_)) => {
                    return Err(MetadataError::Invalid {
                        path: path.into(),
                        key: "cow_store".into(),
                        why: "and merging_store are both set".into(),
                    })
                }
                (None, None) => {
                    return Err(MetadataError::Missing {
                        path: path.into(),
                        key: "cow_store",
                    })
                }
            };
            SegmentKind::Snapshot {
                chunk_size,
                origin,
                cow,
                merging,
            }
        }
        other => SegmentKind::Other(other.to_string()),
    };
    Ok(Segment {
        start_extent,
        extent_count,
        kind,
        extra: items,
    })
}

impl Vg {
    /// Parse a metadata text.
    pub fn parse(text: &str) -> Result<Self, MetadataError> {
        let items = text::parse(text)?;
        let (mut vgs, header) = sections(items);
        if vgs.is_empty() {
            return Err(MetadataError::NoVolumeGroup);
        }
        let (name, mut items) = vgs.remove(0);
        let path = name.clone();
        let id = required(take_str(&mut items, &path, "id")?, &path, "id")?;
        let seqno = required(take_u64(&mut items, &path, "seqno")?, &path, "seqno")?;
        let status = take_words(&mut items, &path, "status")?;
        let extent_size = required(
            take_u64(&mut items, &path, "extent_size")?,
            &path,
            "extent_size",
        )?;
        if extent_size == 0 {
            return Err(MetadataError::Invalid {
                path,
                key: "extent_size".into(),
                why: "is zero".into(),
            });
        }
        let mut pvs = Vec::new();
        for (key, mut inner) in
            sections(take_section(&mut items, "physical_volumes").unwrap_or_default()).0
        {
            let p = path_join(&path_join(&path, "physical_volumes"), &key);
            pvs.push(Pv {
                id: required(take_str(&mut inner, &p, "id")?, &p, "id")?,
                device: take_str(&mut inner, &p, "device")?.unwrap_or_default(),
                status: take_words(&mut inner, &p, "status")?,
                dev_size: take_u64(&mut inner, &p, "dev_size")?.unwrap_or(0),
                pe_start: required(take_u64(&mut inner, &p, "pe_start")?, &p, "pe_start")?,
                pe_count: required(take_u64(&mut inner, &p, "pe_count")?, &p, "pe_count")?,
                key,
                extra: inner,
            });
        }
        let mut lvs = Vec::new();
        for (lv_name, mut inner) in
            sections(take_section(&mut items, "logical_volumes").unwrap_or_default()).0
        {
            let p = path_join(&path_join(&path, "logical_volumes"), &lv_name);
            let id = required(take_str(&mut inner, &p, "id")?, &p, "id")?;
            let status = take_words(&mut inner, &p, "status")?;
            let creation_time = take_u64(&mut inner, &p, "creation_time")?.map(|t| t as i64);
            let creation_host = take_str(&mut inner, &p, "creation_host")?;
            let segment_count = take_u64(&mut inner, &p, "segment_count")?;
            let (segment_sections, extra) = sections(inner);
            let mut segments = Vec::new();
            let mut others = Vec::new();
            for (seg_name, seg_items) in segment_sections {
                if seg_name.starts_with("segment") {
                    segments.push(parse_segment(&path_join(&p, &seg_name), seg_items)?);
                } else {
                    others.push(Item::Section(seg_name, seg_items));
                }
            }
            if segment_count.is_some_and(|n| n != segments.len() as u64) {
                return Err(MetadataError::Invalid {
                    path: p,
                    key: "segment_count".into(),
                    why: format!(
                        "says {} but {} segments are listed",
                        segment_count.unwrap_or(0),
                        segments.len()
                    ),
                });
            }
            let mut extra = extra;
            extra.extend(others);
            lvs.push(Lv {
                name: lv_name,
                id,
                status,
                creation_time,
                creation_host,
                segments,
                extra,
            });
        }
        for lv in &lvs {
            for segment in &lv.segments {
                if let SegmentKind::Striped { stripes, .. } = &segment.kind {
                    for (pv, _) in stripes {
                        if !pvs.iter().any(|p| &p.key == pv) {
                            return Err(MetadataError::Invalid {
                                path: path_join(&path, &lv.name),
                                key: "stripes".into(),
                                why: format!("names unknown PV {pv}"),
                            });
                        }
                    }
                }
            }
        }
        Ok(Vg {
            name,
            id,
            seqno,
            status,
            extent_size,
            pvs,
            lvs,
            extra: items,
            header,
        })
    }

    /// The metadata text, in lvm2's layout and key order.
    pub fn to_text(&self) -> String {
        let s = |v: &str| Value::Str(v.to_string());
        let words = |w: &[String]| Value::Array(w.iter().map(|x| s(x)).collect());
        let int = |n: u64| Value::Int(n as i64);
        let mut vg = vec![
            Item::Setting("id".into(), s(&self.id)),
            Item::Setting("seqno".into(), int(self.seqno)),
        ];
        // lvm2 writes format right after seqno and status before extent_size.
        let (format, extra): (Vec<Item>, Vec<Item>) = self
            .extra
            .iter()
            .cloned()
            .partition(|i| matches!(i, Item::Setting(k, _) if k == "format"));
        vg.extend(format);
        vg.push(Item::Setting("status".into(), words(&self.status)));
        let (flags, extra): (Vec<Item>, Vec<Item>) = extra
            .into_iter()
            .partition(|i| matches!(i, Item::Setting(k, _) if k == "flags"));
        vg.extend(flags);
        vg.push(Item::Setting("extent_size".into(), int(self.extent_size)));
        vg.extend(extra);
        let pvs = self
            .pvs
            .iter()
            .map(|pv| {
                let mut items = vec![
                    Item::Setting("id".into(), s(&pv.id)),
                    Item::Setting("device".into(), s(&pv.device)),
                    Item::Setting("status".into(), words(&pv.status)),
                ];
                let (flags, extra): (Vec<Item>, Vec<Item>) = pv
                    .extra
                    .iter()
                    .cloned()
                    .partition(|i| matches!(i, Item::Setting(k, _) if k == "flags"));
                items.extend(flags);
                items.push(Item::Setting("dev_size".into(), int(pv.dev_size)));
                items.push(Item::Setting("pe_start".into(), int(pv.pe_start)));
                items.push(Item::Setting("pe_count".into(), int(pv.pe_count)));
                items.extend(extra);
                Item::Section(pv.key.clone(), items)
            })
            .collect();
        vg.push(Item::Section("physical_volumes".into(), pvs));
        if !self.lvs.is_empty() {
            let lvs = self
                .lvs
                .iter()
                .map(|lv| {
                    let mut items = vec![
                        Item::Setting("id".into(), s(&lv.id)),
                        Item::Setting("status".into(), words(&lv.status)),
                    ];
                    let (flags, extra): (Vec<Item>, Vec<Item>) = lv
                        .extra
                        .iter()
                        .cloned()
                        .partition(|i| matches!(i, Item::Setting(k, _) if k == "flags"));
                    items.extend(flags);
                    if let Some(t) = lv.creation_time {
                        items.push(Item::Setting("creation_time".into(), Value::Int(t)));
                    }
                    if let Some(h) = &lv.creation_host {
                        items.push(Item::Setting("creation_host".into(), s(h)));
                    }
                    items.push(Item::Setting(
                        "segment_count".into(),
                        int(lv.segments.len() as u64),
                    ));
                    items.extend(extra);
                    for (index, seg) in lv.segments.iter().enumerate() {
                        let mut seg_items = vec![
                            Item::Setting("start_extent".into(), int(seg.start_extent)),
                            Item::Setting("extent_count".into(), int(seg.extent_count)),
                        ];
                        match &seg.kind {
                            SegmentKind::Striped {
                                stripe_size,
                                stripes,
                            } => {
                                seg_items.push(Item::Setting("type".into(), s("striped")));
                                seg_items.push(Item::Setting(
                                    "stripe_count".into(),
                                    int(stripes.len() as u64),
                                ));
                                if let Some(size) = stripe_size {
                                    seg_items.push(Item::Setting("stripe_size".into(), int(*size)));
                                }
                                let list = stripes
                                    .iter()
                                    .flat_map(|(pv, e)| [s(pv), int(*e)])
                                    .collect();
                                seg_items.push(Item::Setting("stripes".into(), Value::Array(list)));
                            }
                            SegmentKind::Snapshot {
                                chunk_size,
                                origin,
                                cow,
                                merging,
                            } => {
                                seg_items.push(Item::Setting("type".into(), s("snapshot")));
                                seg_items
                                    .push(Item::Setting("chunk_size".into(), int(*chunk_size)));
                                seg_items.push(Item::Setting("origin".into(), s(origin)));
                                let key = if *merging {
                                    "merging_store"
                                } else {
                                    "cow_store"
                                };
                                seg_items.push(Item::Setting(key.into(), s(cow)));
                            }
                            SegmentKind::Other(name) => {
                                seg_items.push(Item::Setting("type".into(), s(name)))
                            }
                        }
                        seg_items.extend(seg.extra.iter().cloned());
                        items.push(Item::Section(format!("segment{}", index + 1), seg_items));
                    }
                    Item::Section(lv.name.clone(), items)
                })
                .collect();
            vg.push(Item::Section("logical_volumes".into(), lvs));
        }
        let mut out = text::emit(&[Item::Section(self.name.clone(), vg)]);
        out.push_str(&text::emit(&self.header));
        out
    }

    /// The PV with this key.
    pub fn pv(&self, key: &str) -> Option<&Pv> {
        self.pvs.iter().find(|p| p.key == key)
    }

    /// The LV with this name.
    pub fn lv(&self, name: &str) -> Option<&Lv> {
        self.lvs.iter().find(|l| l.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemDisk;
    use crate::lvm2::label::Label;
    use crate::lvm2::mda::MdaHeader;

    fn lvm2_text() -> String {
        use std::io::Read;
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/lvm2/vg1-pv.img.gz"
        );
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
            .read_to_end(&mut bytes)
            .unwrap();
        let disk = MemDisk::from_bytes(bytes);
        let label = Label::read(&disk).unwrap().unwrap();
        let header = MdaHeader::read(&disk, label.metadata_areas[0].offset).unwrap();
        header.read_committed(&disk).unwrap().unwrap()
    }

    #[test]
    fn reads_what_lvm2_wrote() {
        let vg = Vg::parse(&lvm2_text()).unwrap();
        assert_eq!(vg.name, "vg1");
        assert_eq!(vg.id, "cdUyfh-EHpq-z0Jw-LCkt-L9yQ-Sav9-kjcVSK");
        assert_eq!((vg.seqno, vg.extent_size), (2, 8192));
        assert_eq!(vg.pvs[0].id, "Qt7NGQ-1cny-cb4N-zuOM-yLuq-tOuR-8tfqe2");
        assert_eq!(
            (vg.pvs[0].pe_start, vg.pvs[0].pe_count, vg.pvs[0].dev_size),
            (2048, 15, 131072)
        );
        let lv0 = vg.lv("lv0").unwrap();
        assert_eq!(lv0.segments[0].extent_count, 2);
        assert_eq!(
            lv0.segments[0].kind,
            SegmentKind::Striped {
                stripe_size: None,
                stripes: vec![("pv0".into(), 0)]
            }
        );
    }

    #[test]
    fn writes_lvm2s_text_back_unchanged() {
        let text = lvm2_text();
        let vg = Vg::parse(&text).unwrap();
        // Same tree as lvm2's own text (comments aside), nothing lost.
        assert_eq!(
            text::parse(&vg.to_text()).unwrap(),
            text::parse(&text).unwrap()
        );
        assert_eq!(Vg::parse(&vg.to_text()).unwrap(), vg);
    }

    #[test]
    fn snapshot_records_round_trip() {
        let text = "vg {\nid = \"x\"\nseqno = 5\nstatus = []\nextent_size = 8192\nphysical_volumes {\npv0 {\nid = \"p\"\npe_start = 2048\npe_count = 100\n}\n}\nlogical_volumes {\nsnapshot0 {\nid = \"s\"\nstatus = [\"READ\"]\nsegment_count = 1\nsegment1 {\nstart_extent = 0\nextent_count = 256\ntype = \"snapshot\"\nchunk_size = 8\norigin = \"base\"\ncow_store = \"snap\"\n}\n}\n}\n}\n";
        let vg = Vg::parse(text).unwrap();
        assert_eq!(
            vg.lv("snapshot0").unwrap().segments[0].kind,
            SegmentKind::Snapshot {
                chunk_size: 8,
                origin: "base".into(),
                cow: "snap".into(),
                merging: false
            }
        );
        let merged = text.replace("cow_store", "merging_store");
        let vg = Vg::parse(&merged).unwrap();
        assert!(matches!(
            vg.lv("snapshot0").unwrap().segments[0].kind,
            SegmentKind::Snapshot { merging: true, .. }
        ));
        assert!(vg.to_text().contains("merging_store = \"snap\""));
        let both = text.replace(
            "cow_store = \"snap\"",
            "cow_store = \"snap\"\nmerging_store = \"snap\"",
        );
        assert!(Vg::parse(&both).is_err());
    }

    #[test]
    fn damage_is_named() {
        let text = lvm2_text();
        let err = Vg::parse(&text.replace("seqno = 2\n", "")).unwrap_err();
        assert_eq!(err.to_string(), "vg1: missing seqno");
        let err = Vg::parse(&text.replace("\"pv0\", 0", "\"pv9\", 0")).unwrap_err();
        assert!(err.to_string().contains("unknown PV pv9"), "{err}");
        let err = Vg::parse(&text.replace("segment_count = 1", "segment_count = 2")).unwrap_err();
        assert!(err.to_string().contains("segment_count"), "{err}");
        assert!(matches!(
            Vg::parse("contents = \"x\"\n"),
            Err(MetadataError::NoVolumeGroup)
        ));
    }
}
