//! The typed volume group, read from and written to lvm2's metadata text.
//! Every object keeps the items rlvm does not model (`extra`) and writes them
//! back, so lvm2 loses nothing it wrote when rlvm commits a change.

use thiserror::Error;

use super::text::{self, Event, Item, RawItem, RawValue, Reader, SyntaxError, Value};

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

/// Where in the text an object is (`vg1/logical_volumes/lv0`), spelled
/// out only for an error message.
#[derive(Clone, Copy)]
struct At<'p>(&'p [&'p str]);

impl At<'_> {
    fn path(&self) -> String {
        self.0.join("/")
    }
}

fn invalid(at: At<'_>, key: &str, why: impl Into<String>) -> MetadataError {
    MetadataError::Invalid {
        path: at.path(),
        key: key.into(),
        why: why.into(),
    }
}

fn take_str(
    items: &mut Vec<RawItem<'_>>,
    at: At<'_>,
    key: &'static str,
) -> Result<Option<String>, MetadataError> {
    match take(items, key) {
        None => Ok(None),
        Some(RawValue::Str(s)) => Ok(Some(s.into_owned())),
        Some(_) => Err(invalid(at, key, "is not a string")),
    }
}

fn take_u64(
    items: &mut Vec<RawItem<'_>>,
    at: At<'_>,
    key: &'static str,
) -> Result<Option<u64>, MetadataError> {
    match take(items, key) {
        None => Ok(None),
        Some(RawValue::Int(n)) if n >= 0 => Ok(Some(n as u64)),
        Some(_) => Err(invalid(at, key, "is not a non-negative integer")),
    }
}

fn take_words(
    items: &mut Vec<RawItem<'_>>,
    at: At<'_>,
    key: &'static str,
) -> Result<Vec<String>, MetadataError> {
    match take(items, key) {
        None => Ok(Vec::new()),
        Some(RawValue::Array(values)) => values
            .into_iter()
            .map(|v| match v {
                RawValue::Str(s) => Ok(s.into_owned()),
                _ => Err(invalid(at, key, "has a non-string entry")),
            })
            .collect(),
        Some(_) => Err(invalid(at, key, "is not a list")),
    }
}

fn required<T>(value: Option<T>, at: At<'_>, key: &'static str) -> Result<T, MetadataError> {
    value.ok_or_else(|| MetadataError::Missing {
        path: at.path(),
        key,
    })
}

/// The first setting `key` among `items`, taken out of them.
fn take<'a>(items: &mut Vec<RawItem<'a>>, key: &str) -> Option<RawValue<'a>> {
    let index = items
        .iter()
        .position(|i| matches!(i, RawItem::Setting(k, _) if *k == key))?;
    match items.remove(index) {
        RawItem::Setting(_, value) => Some(value),
        RawItem::Section(..) => None,
    }
}

type Sections<'a> = Vec<(&'a str, Vec<RawItem<'a>>)>;

fn sections(items: Vec<RawItem<'_>>) -> (Sections<'_>, Vec<RawItem<'_>>) {
    let mut found = Vec::new();
    let mut rest = Vec::new();
    for item in items {
        match item {
            RawItem::Section(name, inner) => found.push((name, inner)),
            other => rest.push(other),
        }
    }
    (found, rest)
}

fn owned(items: Vec<RawItem<'_>>) -> Vec<Item> {
    items.into_iter().map(RawItem::into_owned).collect()
}

fn parse_segment(at: At<'_>, mut items: Vec<RawItem<'_>>) -> Result<Segment, MetadataError> {
    let start_extent = required(
        take_u64(&mut items, at, "start_extent")?,
        at,
        "start_extent",
    )?;
    let extent_count = required(
        take_u64(&mut items, at, "extent_count")?,
        at,
        "extent_count",
    )?;
    let kind_name = required(take_str(&mut items, at, "type")?, at, "type")?;
    let kind = match kind_name.as_str() {
        "striped" => {
            let stripe_count = take_u64(&mut items, at, "stripe_count")?;
            let stripe_size = take_u64(&mut items, at, "stripe_size")?;
            let list = match take(&mut items, "stripes") {
                Some(RawValue::Array(values)) => values,
                _ => {
                    return Err(MetadataError::Missing {
                        path: at.path(),
                        key: "stripes",
                    })
                }
            };
            let mut stripes = Vec::with_capacity(list.len() / 2);
            for pair in list.chunks(2) {
                match pair {
                    [RawValue::Str(pv), RawValue::Int(extent)] if *extent >= 0 => {
                        stripes.push((pv.to_string(), *extent as u64))
                    }
                    _ => {
                        return Err(invalid(
                            at,
                            "stripes",
                            "is not a list of \"pv\", extent pairs",
                        ))
                    }
                }
            }
            if stripe_count.is_some_and(|n| n != stripes.len() as u64) || stripes.is_empty() {
                return Err(invalid(
                    at,
                    "stripe_count",
                    format!("does not match the {} stripes listed", stripes.len()),
                ));
            }
            SegmentKind::Striped {
                stripe_size,
                stripes,
            }
        }
        "snapshot" => {
            let chunk_size = required(take_u64(&mut items, at, "chunk_size")?, at, "chunk_size")?;
            let origin = required(take_str(&mut items, at, "origin")?, at, "origin")?;
            let merging_store = take_str(&mut items, at, "merging_store")?;
            let cow_store = take_str(&mut items, at, "cow_store")?;
            let (cow, merging) = match (cow_store, merging_store) {
                (Some(cow), None) => (cow, false),
                (None, Some(cow)) => (cow, true),
                (Some(_), Some(_)) => {
                    return Err(invalid(at, "cow_store", "and merging_store are both set"))
                }
                (None, None) => {
                    return Err(MetadataError::Missing {
                        path: at.path(),
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
        _ => SegmentKind::Other(kind_name),
    };
    Ok(Segment {
        start_extent,
        extent_count,
        kind,
        extra: owned(items),
    })
}

/// An LV from its section's items.
fn parse_lv(vg: &str, lv_name: &str, mut inner: Vec<RawItem<'_>>) -> Result<Lv, MetadataError> {
    let p = At(&[vg, "logical_volumes", lv_name]);
    let id = required(take_str(&mut inner, p, "id")?, p, "id")?;
    let status = take_words(&mut inner, p, "status")?;
    let creation_time = take_u64(&mut inner, p, "creation_time")?.map(|t| t as i64);
    let creation_host = take_str(&mut inner, p, "creation_host")?;
    let segment_count = take_u64(&mut inner, p, "segment_count")?;
    // What is left: segments in order; settings, then other sections, kept as they were.
    let mut segments = Vec::with_capacity(1);
    let mut extra = Vec::new();
    let mut others = Vec::new();
    for item in inner {
        match item {
            RawItem::Section(seg_name, seg_items) if seg_name.starts_with("segment") => {
                let at = At(&[vg, "logical_volumes", lv_name, seg_name]);
                segments.push(parse_segment(at, seg_items)?);
            }
            section @ RawItem::Section(..) => others.push(section.into_owned()),
            setting => extra.push(setting.into_owned()),
        }
    }
    if segment_count.is_some_and(|n| n != segments.len() as u64) {
        return Err(invalid(
            p,
            "segment_count",
            format!(
                "says {} but {} segments are listed",
                segment_count.unwrap_or(0),
                segments.len()
            ),
        ));
    }
    extra.append(&mut others);
    Ok(Lv {
        name: lv_name.to_string(),
        id,
        status,
        creation_time,
        creation_host,
        segments,
        extra,
    })
}

/// The VG section, read as it streams by: the LVs are built one by one
/// (a VG of a thousand LVs is never held as a whole tree), the rest kept
/// as items. Syntax errors end the read; the first LV that is not usable is
/// kept to report after the VG's own settings, as a whole-tree read would.
struct VgSection<'a> {
    items: Vec<RawItem<'a>>,
    physical_volumes: Option<Vec<RawItem<'a>>>,
    lvs: Result<Vec<Lv>, MetadataError>,
    /// A `physical_volumes` or `logical_volumes` section seen twice: which
    /// one would count is not clear, so the text is refused.
    repeated: Option<&'a str>,
}

impl<'a> VgSection<'a> {
    fn read(reader: &mut Reader<'a>, name: &'a str) -> Result<Self, SyntaxError> {
        let mut section = Self {
            items: Vec::new(),
            physical_volumes: None,
            lvs: Ok(Vec::new()),
            repeated: None,
        };
        let mut lvs_seen = false;
        while let Some(event) = reader.next_event()? {
            match event {
                Event::Close => break,
                Event::Setting(key, value) => section.items.push(RawItem::Setting(key, value)),
                Event::Open("physical_volumes") if section.physical_volumes.is_none() => {
                    section.physical_volumes = Some(reader.rest_of_section()?);
                }
                Event::Open("logical_volumes") if !lvs_seen => {
                    lvs_seen = true;
                    section.read_lvs(reader, name)?;
                }
                Event::Open(inner @ ("physical_volumes" | "logical_volumes")) => {
                    drop(reader.rest_of_section()?);
                    section.repeated.get_or_insert(inner);
                }
                Event::Open(inner) => {
                    let items = reader.rest_of_section()?;
                    section.items.push(RawItem::Section(inner, items));
                }
            }
        }
        Ok(section)
    }

    /// The LV sections of `logical_volumes` (settings there are not LVs).
    fn read_lvs(&mut self, reader: &mut Reader<'a>, vg: &str) -> Result<(), SyntaxError> {
        while let Some(event) = reader.next_event()? {
            match event {
                Event::Close => break,
                Event::Setting(..) => {}
                Event::Open(lv_name) => {
                    let inner = reader.rest_of_section()?;
                    if let Ok(lvs) = &mut self.lvs {
                        match parse_lv(vg, lv_name, inner) {
                            Ok(lv) => lvs.push(lv),
                            Err(e) => self.lvs = Err(e),
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

impl Vg {
    /// Parse a metadata text.
    pub fn parse(text: &str) -> Result<Self, MetadataError> {
        let mut reader = Reader::new(text);
        let mut header = Vec::new();
        let mut section = None;
        while let Some(event) = reader.next_event()? {
            match event {
                Event::Setting(key, value) => {
                    header.push(Item::Setting(key.to_string(), value.into_owned()))
                }
                // Only the first top-level section is the VG; others are skipped.
                Event::Open(name) if section.is_none() => {
                    section = Some((name, VgSection::read(&mut reader, name)?));
                }
                Event::Open(_) => drop(reader.rest_of_section()?),
                Event::Close => {}
            }
        }
        let Some((name, section)) = section else {
            return Err(MetadataError::NoVolumeGroup);
        };
        let VgSection {
            mut items,
            physical_volumes,
            lvs,
            repeated,
        } = section;
        let at = At(&[name]);
        if let Some(key) = repeated {
            return Err(invalid(at, key, "appears twice"));
        }
        let id = required(take_str(&mut items, at, "id")?, at, "id")?;
        let seqno = required(take_u64(&mut items, at, "seqno")?, at, "seqno")?;
        let status = take_words(&mut items, at, "status")?;
        let extent_size = required(take_u64(&mut items, at, "extent_size")?, at, "extent_size")?;
        // A zero or odd extent size is read, as lvm2 reads it, and refused
        // by validation (`validate::validate`) before any use.
        let mut pvs = Vec::new();
        for (key, mut inner) in sections(physical_volumes.unwrap_or_default()).0 {
            let p = At(&[name, "physical_volumes", key]);
            pvs.push(Pv {
                id: required(take_str(&mut inner, p, "id")?, p, "id")?,
                device: take_str(&mut inner, p, "device")?.unwrap_or_default(),
                status: take_words(&mut inner, p, "status")?,
                dev_size: take_u64(&mut inner, p, "dev_size")?.unwrap_or(0),
                pe_start: required(take_u64(&mut inner, p, "pe_start")?, p, "pe_start")?,
                pe_count: required(take_u64(&mut inner, p, "pe_count")?, p, "pe_count")?,
                key: key.to_string(),
                extra: owned(inner),
            });
        }
        let lvs = lvs?;
        for lv in &lvs {
            for segment in &lv.segments {
                if let SegmentKind::Striped { stripes, .. } = &segment.kind {
                    for (pv, _) in stripes {
                        if !pvs.iter().any(|p| &p.key == pv) {
                            return Err(invalid(
                                At(&[name, &lv.name]),
                                "stripes",
                                format!("names unknown PV {pv}"),
                            ));
                        }
                    }
                }
            }
        }
        Ok(Vg {
            name: name.to_string(),
            id,
            seqno,
            status,
            extent_size,
            pvs,
            lvs,
            extra: owned(items),
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
            .partition(|i| matches!(i, Item::Setting(k, _) if k == "flags" || k == "tags"));
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
                let (flags, extra): (Vec<Item>, Vec<Item>) =
                    pv.extra.iter().cloned().partition(
                        |i| matches!(i, Item::Setting(k, _) if k == "flags" || k == "tags"),
                    );
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
                    let (flags, extra): (Vec<Item>, Vec<Item>) =
                        lv.extra.iter().cloned().partition(
                            |i| matches!(i, Item::Setting(k, _) if k == "flags" || k == "tags"),
                        );
                    // lvm2 writes the policy right after the creation host.
                    let (policy, extra): (Vec<Item>, Vec<Item>) = extra.into_iter().partition(
                        |i| matches!(i, Item::Setting(k, _) if k == "allocation_policy"),
                    );
                    items.extend(flags);
                    if let Some(t) = lv.creation_time {
                        items.push(Item::Setting("creation_time".into(), Value::Int(t)));
                    }
                    if let Some(h) = &lv.creation_host {
                        items.push(Item::Setting("creation_host".into(), s(h)));
                    }
                    items.extend(policy);
                    // lvm2 writes these between the creation host and segment_count.
                    let (early, extra): (Vec<Item>, Vec<Item>) = extra.into_iter().partition(|i| {
                        matches!(i, Item::Setting(k, _) if matches!(k.as_str(),
                                "allocation_policy" | "read_ahead" | "major" | "minor"))
                    });
                    items.extend(early);
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
    fn a_striped_lv_lvm2_made_round_trips() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fuzz/seeds/lvm2_metadata/vg-linear-striped.txt"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let vg = Vg::parse(&text).unwrap();
        assert!(matches!(
            &vg.lv("str").unwrap().segments[0].kind,
            SegmentKind::Striped { stripes, stripe_size: Some(128) } if stripes.len() == 2
        ));
        assert_eq!(Vg::parse(&vg.to_text()).unwrap(), vg);
        crate::lvm2::validate::validate(&vg).unwrap();
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
        // A second LV list would be emitted where the first is read back.
        let twice = text.replace(
            "\nlogical_volumes {",
            "\nlogical_volumes {\n}\nlogical_volumes {",
        );
        let err = Vg::parse(&twice).unwrap_err();
        assert!(
            err.to_string().contains("logical_volumes appears twice"),
            "{err}"
        );
    }
}
