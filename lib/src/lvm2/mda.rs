//! The metadata area: a 512-byte header (le32 CRC of the rest, magic
//! ` LVM2 x[5A%r0N*>`, le32 version 1, le64 start, le64 size, then raw
//! locations: le64 offset, le64 size, le32 checksum, le32 flags, ended by a
//! zero entry) followed by a circular buffer of metadata texts.
//!
//! Slot 0 of the raw locations is the committed text, slot 1 the
//! precommitted one. A commit writes the new text where it cannot overlap
//! the committed one, then the header with the new text in slot 1, then the
//! header with it in slot 0: after a crash at any single write, slot 0
//! still names a complete text, old or new.

use super::crc::lvm2_crc;
use super::error::Lvm2Error;
use super::{le32, le64};
use crate::io::BlockIo;

/// Size of the metadata area header.
pub const MDA_HEADER_SIZE: u64 = 512;
/// The header's magic.
pub const MDA_MAGIC: &[u8; 16] = b" LVM2 x[5A%r0N*>";
/// The only header version.
pub const MDA_VERSION: u32 = 1;
/// Texts start on this alignment within the area.
pub const TEXT_ALIGNMENT: u64 = 512;
/// Flag of a location lvm2 is told to ignore (`--metadataignore`).
pub const RAW_LOCN_IGNORED: u32 = 1;

/// Where a metadata text lies within its area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawLocn {
    /// Offset from the start of the area (wrapping past its end to just after the header).
    pub offset: u64,
    /// Text length including its trailing NUL.
    pub size: u64,
    /// lvm2 CRC of the text including the NUL.
    pub checksum: u32,
    /// [`RAW_LOCN_IGNORED`].
    pub flags: u32,
}

/// A metadata area header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdaHeader {
    /// Absolute byte offset of this header on the device.
    pub start: u64,
    /// Size of the whole area, header included.
    pub size: u64,
    /// Committed text (slot 0).
    pub committed: Option<RawLocn>,
    /// Precommitted text (slot 1).
    pub precommitted: Option<RawLocn>,
}

impl MdaHeader {
    /// An empty area of `size` bytes at `start`.
    pub fn new(start: u64, size: u64) -> Self {
        Self {
            start,
            size,
            committed: None,
            precommitted: None,
        }
    }

    /// Decode the header found at byte `start`.
    pub fn decode(bytes: &[u8; 512], start: u64) -> Result<Self, Lvm2Error> {
        if &bytes[4..20] != MDA_MAGIC {
            return Err(Lvm2Error::MdaMagic { start });
        }
        let stored = le32(bytes, 0);
        let computed = lvm2_crc(&bytes[4..]);
        if stored != computed {
            return Err(Lvm2Error::MdaChecksum {
                start,
                stored,
                computed,
            });
        }
        let version = le32(bytes, 20);
        if version != MDA_VERSION {
            return Err(Lvm2Error::MdaVersion { start, version });
        }
        let recorded = le64(bytes, 24);
        if recorded != start {
            return Err(Lvm2Error::MdaStart { start, recorded });
        }
        let size = le64(bytes, 32);
        let slot = |index: usize| {
            let at = 40 + 24 * index;
            let locn = RawLocn {
                offset: le64(bytes, at),
                size: le64(bytes, at + 8),
                checksum: le32(bytes, at + 16),
                flags: le32(bytes, at + 20),
            };
            (locn.offset != 0).then_some(locn)
        };
        let committed = slot(0);
        // The list ends at the first zero entry: no committed text, no precommitted one.
        let precommitted = committed.and(slot(1));
        let header = Self {
            start,
            size,
            committed,
            precommitted,
        };
        for locn in [header.committed, header.precommitted]
            .into_iter()
            .flatten()
        {
            header.check_bounds(&locn)?;
        }
        Ok(header)
    }

    fn check_bounds(&self, locn: &RawLocn) -> Result<(), Lvm2Error> {
        let ring = self.size.saturating_sub(MDA_HEADER_SIZE);
        // A zero-size text has no last byte: lvm2 never writes one.
        if locn.offset < MDA_HEADER_SIZE
            || locn.offset >= self.size
            || locn.size == 0
            || locn.size > ring
        {
            return Err(Lvm2Error::TextBounds {
                start: self.start,
                offset: locn.offset,
                size: locn.size,
                area_size: self.size,
            });
        }
        Ok(())
    }

    /// The header's bytes, checksum included.
    pub fn encode(&self) -> [u8; 512] {
        let mut bytes = [0u8; 512];
        bytes[4..20].copy_from_slice(MDA_MAGIC);
        bytes[20..24].copy_from_slice(&MDA_VERSION.to_le_bytes());
        bytes[24..32].copy_from_slice(&self.start.to_le_bytes());
        bytes[32..40].copy_from_slice(&self.size.to_le_bytes());
        for (index, locn) in [self.committed, self.precommitted].iter().enumerate() {
            if let Some(locn) = locn {
                let at = 40 + 24 * index;
                bytes[at..at + 8].copy_from_slice(&locn.offset.to_le_bytes());
                bytes[at + 8..at + 16].copy_from_slice(&locn.size.to_le_bytes());
                bytes[at + 16..at + 20].copy_from_slice(&locn.checksum.to_le_bytes());
                bytes[at + 20..at + 24].copy_from_slice(&locn.flags.to_le_bytes());
            }
        }
        let crc = lvm2_crc(&bytes[4..]);
        bytes[..4].copy_from_slice(&crc.to_le_bytes());
        bytes
    }

    /// Read and check the header at `start`; the area it claims must lie
    /// on the device, so no size read from it can exceed the device's.
    pub fn read(disk: &dyn BlockIo, start: u64) -> Result<Self, Lvm2Error> {
        let mut bytes = [0u8; 512];
        disk.read_exact_at(&mut bytes, start).map_err(|e| {
            Lvm2Error::io(
                format!("reading the metadata area header at byte {start}"),
                e,
            )
        })?;
        let header = Self::decode(&bytes, start)?;
        let device_size = disk
            .size_bytes()
            .map_err(|e| Lvm2Error::io("reading the device size", e))?;
        if start
            .checked_add(header.size)
            .is_none_or(|end| end > device_size)
            || header.size < MDA_HEADER_SIZE + TEXT_ALIGNMENT
        {
            return Err(Lvm2Error::MdaSize {
                start,
                size: header.size,
                device_size,
            });
        }
        Ok(header)
    }

    /// The byte ranges (absolute) a text at `locn` occupies: one, or two when it wraps.
    fn pieces(&self, locn: &RawLocn) -> Vec<(u64, u64)> {
        let first = locn.size.min(self.size.saturating_sub(locn.offset));
        let mut pieces = vec![(self.start + locn.offset, first)];
        if first < locn.size {
            pieces.push((self.start + MDA_HEADER_SIZE, locn.size - first));
        }
        pieces
    }

    /// Read the text at `locn`, checking its checksum; the trailing NUL is dropped.
    pub fn read_text(&self, disk: &dyn BlockIo, locn: &RawLocn) -> Result<String, Lvm2Error> {
        self.check_bounds(locn)?;
        // Read straight into the text: no copy of a piece per read.
        let mut text = vec![0u8; locn.size as usize];
        let mut filled = 0usize;
        for (at, len) in self.pieces(locn) {
            let piece = &mut text[filled..filled + len as usize];
            disk.read_exact_at(piece, at)
                .map_err(|e| Lvm2Error::io(format!("reading metadata text at byte {at}"), e))?;
            filled += len as usize;
        }
        let computed = lvm2_crc(&text);
        if computed != locn.checksum {
            return Err(Lvm2Error::TextChecksum {
                start: self.start,
                stored: locn.checksum,
                computed,
            });
        }
        if text.last() == Some(&0) {
            text.pop();
        }
        String::from_utf8(text).map_err(|_| Lvm2Error::TextEncoding { start: self.start })
    }

    /// The free space lvm2 reports for this area (`pv_mda_free`), in
    /// sectors: one copy of the text may take half the ring less a sector
    /// (each copy starts on a sector boundary), and the committed text
    /// already takes its size of that half.
    pub fn free_sectors(&self) -> u64 {
        let half = (self.size.saturating_sub(MDA_HEADER_SIZE) / 2).saturating_sub(TEXT_ALIGNMENT);
        let used = self.committed.map_or(0, |locn| locn.size);
        half.saturating_sub(used) / 512
    }

    /// The committed text, if any.
    pub fn read_committed(&self, disk: &dyn BlockIo) -> Result<Option<String>, Lvm2Error> {
        self.committed
            .map(|locn| self.read_text(disk, &locn))
            .transpose()
    }

    /// Where the next text starts: after the committed one, aligned, or back
    /// at the start of the ring when too close to the end (lvm2's rule).
    fn next_offset(&self) -> u64 {
        let ring = self.size.saturating_sub(MDA_HEADER_SIZE);
        let Some(old) = self.committed.filter(|_| ring > 0) else {
            return MDA_HEADER_SIZE;
        };
        // Checked: a header that passed decode has offset >= 512 and size >= 1,
        // but an area built by hand may not.
        let Some(old_last) = old
            .offset
            .checked_add(old.size)
            .and_then(|end| end.checked_sub(1 + MDA_HEADER_SIZE))
            .map(|last| last % ring + MDA_HEADER_SIZE)
        else {
            return MDA_HEADER_SIZE;
        };
        if self.size - old_last < TEXT_ALIGNMENT {
            return MDA_HEADER_SIZE;
        }
        let next = (old_last + 1).next_multiple_of(TEXT_ALIGNMENT);
        if next > self.size - TEXT_ALIGNMENT {
            MDA_HEADER_SIZE
        } else {
            next
        }
    }

    /// Whether ring ranges of `a` and `b` share a byte.
    fn overlaps(&self, a: &RawLocn, b: &RawLocn) -> bool {
        let ring = self.size.saturating_sub(MDA_HEADER_SIZE);
        let range = |l: &RawLocn| (l.offset.saturating_sub(MDA_HEADER_SIZE), l.size);
        let (a_start, a_len) = range(a);
        let (b_start, b_len) = range(b);
        // Compare on the unrolled ring: b shifted by 0 and by one turn.
        [0, ring].iter().any(|shift| {
            let b0 = b_start + shift;
            a_start < b0 + b_len && b0 < a_start + a_len
        }) || [0, ring].iter().any(|shift| {
            let a0 = a_start + shift;
            b_start < a0 + a_len && a0 < b_start + b_len
        })
    }

    /// Commit `text` as lvm2 does: text, flush, header with it precommitted,
    /// flush, header with it committed, flush. Returns the new header.
    pub fn commit_text(&self, disk: &dyn BlockIo, text: &str) -> Result<MdaHeader, Lvm2Error> {
        let mut bytes = text.as_bytes().to_vec();
        bytes.push(0);
        let size = bytes.len() as u64;
        let ring = self.size.saturating_sub(MDA_HEADER_SIZE);
        let locn = RawLocn {
            offset: self.next_offset(),
            size,
            checksum: lvm2_crc(&bytes),
            flags: 0,
        };
        let too_large = || Lvm2Error::TextBounds {
            start: self.start,
            offset: locn.offset,
            size,
            area_size: self.size,
        };
        if size > ring || ring < TEXT_ALIGNMENT {
            return Err(too_large());
        }
        if let Some(old) = self.committed {
            self.check_bounds(&old)?;
            if self.overlaps(&locn, &old) {
                return Err(too_large());
            }
        }
        let mut written = 0usize;
        for (at, len) in self.pieces(&locn) {
            // lvm2 pads the last sector of the text with zeros; so do we.
            let mut piece = bytes[written..written + len as usize].to_vec();
            written += len as usize;
            let area_end = self.start + self.size;
            let padded = (at + len).next_multiple_of(512).min(area_end) - at;
            piece.resize(padded as usize, 0);
            disk.write_all_at(&piece, at)
                .map_err(|e| Lvm2Error::io(format!("writing metadata text at byte {at}"), e))?;
        }
        let flush = |what: &str| {
            disk.flush()
                .map_err(|e| Lvm2Error::io(format!("flushing {what}"), e))
        };
        flush("the metadata text")?;
        let precommitted = MdaHeader {
            precommitted: Some(locn),
            ..self.clone()
        };
        let precommitted = MdaHeader {
            // Slot 1 only counts after a slot 0; a first commit goes straight to slot 0.
            committed: self.committed.or(Some(locn)),
            precommitted: self.committed.map(|_| locn),
            ..precommitted
        };
        self.write_header(disk, &precommitted)?;
        flush("the precommitted header")?;
        let committed = MdaHeader {
            committed: Some(locn),
            precommitted: None,
            ..self.clone()
        };
        self.write_header(disk, &committed)?;
        flush("the committed header")?;
        Ok(committed)
    }

    fn write_header(&self, disk: &dyn BlockIo, header: &MdaHeader) -> Result<(), Lvm2Error> {
        disk.write_all_at(&header.encode(), self.start)
            .map_err(|e| {
                Lvm2Error::io(
                    format!("writing the metadata area header at byte {}", self.start),
                    e,
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemDisk;
    use crate::lvm2::label::Label;

    use crate::lvm2::lvm2_fixture as fixture;

    #[test]
    fn reads_the_text_vgcreate_and_lvcreate_wrote() {
        let disk = MemDisk::from_bytes(fixture());
        let label = Label::read(&disk).unwrap().unwrap();
        let area = label.metadata_areas[0];
        let header = MdaHeader::read(&disk, area.offset).unwrap();
        assert_eq!((header.start, header.size), (4096, 1_044_480));
        let committed = header.committed.unwrap();
        assert_eq!((committed.offset, committed.size), (1536, 1026));
        let text = header.read_committed(&disk).unwrap().unwrap();
        assert!(
            text.starts_with("vg1 {\nid = \"cdUyfh-EHpq-z0Jw-LCkt-L9yQ-Sav9-kjcVSK\"\nseqno = 2\n"),
            "{text}"
        );
        assert!(text.contains("lv0 {"));
        assert_eq!(header.encode(), fixture()[4096..4608]);
    }

    #[test]
    fn free_space_is_half_the_ring_less_a_sector_and_the_text() {
        let disk = MemDisk::from_bytes(fixture());
        let header = MdaHeader::read(&disk, 4096).unwrap();
        // (1_044_480 - 512) / 2 - 512 = 521_472 bytes, less the 1026 of the text.
        assert_eq!(header.free_sectors(), (521_472 - 1026) / 512);
        assert_eq!(MdaHeader::new(4096, 1_044_480).free_sectors(), 1018);
        let mut full = MdaHeader::new(4096, 4096);
        full.committed = Some(RawLocn {
            offset: 512,
            size: 3000,
            checksum: 0,
            flags: 0,
        });
        assert_eq!(full.free_sectors(), 0);
    }

    #[test]
    fn damage_is_named() {
        let mut bytes = fixture();
        bytes[4096 + 30] ^= 1;
        assert!(matches!(
            MdaHeader::read(&MemDisk::from_bytes(bytes), 4096),
            Err(Lvm2Error::MdaChecksum { .. })
        ));
        let mut bytes = fixture();
        bytes[4096 + 1536 + 10] ^= 1;
        let disk = MemDisk::from_bytes(bytes);
        let header = MdaHeader::read(&disk, 4096).unwrap();
        assert!(matches!(
            header.read_committed(&disk),
            Err(Lvm2Error::TextChecksum { .. })
        ));
        assert!(matches!(
            MdaHeader::read(&MemDisk::new(8192), 4096),
            Err(Lvm2Error::MdaMagic { .. })
        ));
    }

    #[test]
    fn sizes_are_bounded_by_the_device_and_offsets_never_underflow() {
        // An 8 KiB device whose header claims a 1 TiB area: refused before any allocation.
        let mut header = MdaHeader::new(4096, 1 << 40);
        header.committed = Some(RawLocn {
            offset: 512,
            size: (1 << 40) - 1024,
            checksum: 0,
            flags: 0,
        });
        let disk = MemDisk::new(8192);
        disk.write_all_at(&header.encode(), 4096).unwrap();
        assert!(matches!(
            MdaHeader::read(&disk, 4096),
            Err(Lvm2Error::MdaSize { size, device_size: 8192, .. }) if size == 1 << 40
        ));
        // A zero-size committed text (`old.offset + old.size - 1 - 512`
        // underflowed): refused by decode, and by a commit over a hand-built header.
        let mut zero = MdaHeader::new(4096, 4096);
        zero.committed = Some(RawLocn {
            offset: 512,
            size: 0,
            checksum: 0,
            flags: 0,
        });
        assert!(matches!(
            MdaHeader::decode(&zero.encode(), 4096),
            Err(Lvm2Error::TextBounds { .. })
        ));
        assert!(matches!(
            zero.commit_text(&disk, "vg {\n}\n"),
            Err(Lvm2Error::TextBounds { .. })
        ));
        // An area too small to hold a text.
        let tiny = MdaHeader::new(4096, 512);
        assert!(tiny.commit_text(&disk, "x").is_err());
    }

    /// A disk that records every write, so every prefix of a commit can be replayed.
    struct Recording {
        base: Vec<u8>,
        writes: std::sync::Mutex<Vec<(u64, Vec<u8>)>>,
    }

    impl BlockIo for Recording {
        fn size_bytes(&self) -> std::io::Result<u64> {
            Ok(self.base.len() as u64)
        }
        fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
            let mut image = self.base.clone();
            for (at, data) in self.writes.lock().unwrap().iter() {
                image[*at as usize..*at as usize + data.len()].copy_from_slice(data);
            }
            buf.copy_from_slice(&image[offset as usize..offset as usize + buf.len()]);
            Ok(())
        }
        fn write_all_at(&self, buf: &[u8], offset: u64) -> std::io::Result<()> {
            self.writes.lock().unwrap().push((offset, buf.to_vec()));
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_crash_point_leaves_the_old_or_the_new_text() {
        let base = fixture();
        let old = {
            let disk = MemDisk::from_bytes(base.clone());
            MdaHeader::read(&disk, 4096)
                .unwrap()
                .read_committed(&disk)
                .unwrap()
                .unwrap()
        };
        // Many commits of growing texts, so the ring wraps.
        let mut disk_bytes = base.clone();
        for round in 0..40 {
            let new = format!(
                "{old}\n# round {round}\n{}",
                "x".repeat(round * 9973 % 60_000)
            );
            let recording = Recording {
                base: disk_bytes.clone(),
                writes: Default::default(),
            };
            let header = MdaHeader::read(&recording, 4096).unwrap();
            let before = header.read_committed(&recording).unwrap().unwrap();
            header.commit_text(&recording, &new).unwrap();
            let writes = recording.writes.lock().unwrap().clone();
            for prefix in 0..=writes.len() {
                let mut image = disk_bytes.clone();
                for (at, data) in &writes[..prefix] {
                    image[*at as usize..*at as usize + data.len()].copy_from_slice(data);
                }
                let disk = MemDisk::from_bytes(image.clone());
                let text = MdaHeader::read(&disk, 4096)
                    .unwrap()
                    .read_committed(&disk)
                    .unwrap()
                    .unwrap();
                assert!(
                    text == before || text == new,
                    "round {round}, prefix {prefix}"
                );
                if prefix == writes.len() {
                    assert_eq!(text, new);
                    disk_bytes = image;
                }
            }
        }
    }
}
