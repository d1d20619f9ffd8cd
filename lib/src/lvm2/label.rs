//! The label lvm2 writes in one of a device's first four sectors, and the
//! PV header inside it: PV UUID, device size, data and metadata area lists
//! and the version 2 extension.
//!
//! Sector layout: `LABELONE`, le64 sector, le32 CRC (of bytes 20..512),
//! le32 offset of the contents (32), `LVM2 001`; then the PV header: 32
//! UUID characters, le64 device size, data areas and metadata areas as
//! (le64 offset, le64 size) lists each ended by a zero offset, then the
//! extension: le32 version, le32 flags, bootloader areas likewise.

use super::crc::lvm2_crc;
use super::error::Lvm2Error;
use super::{le32, le64};
use crate::io::BlockIo;

/// Bytes in a sector as lvm2 counts them.
pub const SECTOR: usize = 512;
/// The label's identifier.
pub const LABEL_ID: &[u8; 8] = b"LABELONE";
/// The only label type lvm2 writes.
pub const LABEL_TYPE: &[u8; 8] = b"LVM2 001";
/// Sectors lvm2 scans for a label.
pub const LABEL_SCAN_SECTORS: u64 = 4;
/// Offset of the PV header within the label sector.
const CONTENTS_OFFSET: u32 = 32;
/// The PV header extension version lvm2 2.02.117+ writes.
pub const PV_EXT_VERSION: u32 = 2;
/// Extension flag: the PV belongs to a VG.
pub const PV_EXT_USED: u32 = 1;

/// An (offset, size) pair in bytes, as the PV header lists areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskLocn {
    /// Byte offset on the device.
    pub offset: u64,
    /// Size in bytes (0 for the data area: "to the end of the device").
    pub size: u64,
}

/// The PV header's version 2 extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PvExtension {
    /// Extension version.
    pub version: u32,
    /// Flags ([`PV_EXT_USED`]).
    pub flags: u32,
    /// Bootloader areas.
    pub bootloader_areas: Vec<DiskLocn>,
}

/// A PV's label: where it is and what its PV header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Sector holding the label (0 to 3; lvm2 writes 1).
    pub sector: u64,
    /// PV UUID, 32 characters without dashes.
    pub pv_uuid: String,
    /// Device size in bytes.
    pub device_size: u64,
    /// Data areas (lvm2 writes one: where extents start).
    pub data_areas: Vec<DiskLocn>,
    /// Metadata areas.
    pub metadata_areas: Vec<DiskLocn>,
    /// The extension, absent on PVs from very old lvm2.
    pub extension: Option<PvExtension>,
}

/// Whether `uuid` is 32 characters of lvm2's identifier alphabet
/// (letters, digits, and `!` and `#`, which lvm2 accepts but never generates).
pub fn valid_compact_uuid(uuid: &str) -> bool {
    uuid.len() == 32
        && uuid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'!' || b == b'#')
}

/// A new random identifier as lvm2 generates them: 32 letters and digits.
pub fn new_compact_uuid() -> std::io::Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut random = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut random)?;
    Ok(random
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

/// Read a zero-terminated list of areas starting at `*at`, moving `*at` past it.
fn read_list(sector: &[u8], at: &mut usize) -> Result<Vec<DiskLocn>, Lvm2Error> {
    let mut list = Vec::new();
    loop {
        if *at + 16 > sector.len() {
            return Err(Lvm2Error::PvHeaderOverflow);
        }
        let locn = DiskLocn {
            offset: le64(sector, *at),
            size: le64(sector, *at + 8),
        };
        *at += 16;
        if locn.offset == 0 {
            return Ok(list);
        }
        list.push(locn);
    }
}

fn write_list(sector: &mut [u8], at: &mut usize, list: &[DiskLocn]) -> Result<(), Lvm2Error> {
    for locn in list
        .iter()
        .chain(std::iter::once(&DiskLocn { offset: 0, size: 0 }))
    {
        if *at + 16 > sector.len() {
            return Err(Lvm2Error::PvHeaderOverflow);
        }
        sector[*at..*at + 8].copy_from_slice(&locn.offset.to_le_bytes());
        sector[*at + 8..*at + 16].copy_from_slice(&locn.size.to_le_bytes());
        *at += 16;
    }
    Ok(())
}

impl Label {
    /// Decode sector number `sector` of a device: `Ok(None)` when it holds no
    /// label, an error when it holds a damaged one.
    pub fn decode(bytes: &[u8; SECTOR], sector: u64) -> Result<Option<Self>, Lvm2Error> {
        if &bytes[..8] != LABEL_ID {
            return Ok(None);
        }
        let recorded = le64(bytes, 8);
        if recorded != sector {
            return Err(Lvm2Error::LabelSector {
                found: sector,
                recorded,
            });
        }
        let stored = le32(bytes, 16);
        let computed = lvm2_crc(&bytes[20..]);
        if stored != computed {
            return Err(Lvm2Error::LabelChecksum {
                sector,
                stored,
                computed,
            });
        }
        let offset = le32(bytes, 20);
        if !(CONTENTS_OFFSET as usize..SECTOR - 40).contains(&(offset as usize)) {
            return Err(Lvm2Error::LabelOffset { sector, offset });
        }
        if &bytes[24..32] != LABEL_TYPE {
            return Err(Lvm2Error::LabelType {
                sector,
                found: String::from_utf8_lossy(&bytes[24..32]).into_owned(),
            });
        }
        let contents = &bytes[offset as usize..];
        let pv_uuid = String::from_utf8_lossy(&contents[..32]).into_owned();
        if !valid_compact_uuid(&pv_uuid) {
            return Err(Lvm2Error::BadUuid(pv_uuid));
        }
        let device_size = le64(contents, 32);
        let mut at = 40;
        let data_areas = read_list(contents, &mut at)?;
        let metadata_areas = read_list(contents, &mut at)?;
        let extension = if at + 8 <= contents.len() && le32(contents, at) != 0 {
            let version = le32(contents, at);
            let flags = le32(contents, at + 4);
            at += 8;
            Some(PvExtension {
                version,
                flags,
                bootloader_areas: read_list(contents, &mut at)?,
            })
        } else {
            None
        };
        Ok(Some(Label {
            sector,
            pv_uuid,
            device_size,
            data_areas,
            metadata_areas,
            extension,
        }))
    }

    /// The label sector's bytes, checksum included.
    pub fn encode(&self) -> Result<[u8; SECTOR], Lvm2Error> {
        if !valid_compact_uuid(&self.pv_uuid) {
            return Err(Lvm2Error::BadUuid(self.pv_uuid.clone()));
        }
        let mut bytes = [0u8; SECTOR];
        bytes[..8].copy_from_slice(LABEL_ID);
        bytes[8..16].copy_from_slice(&self.sector.to_le_bytes());
        bytes[20..24].copy_from_slice(&CONTENTS_OFFSET.to_le_bytes());
        bytes[24..32].copy_from_slice(LABEL_TYPE);
        let contents = &mut bytes[CONTENTS_OFFSET as usize..];
        contents[..32].copy_from_slice(self.pv_uuid.as_bytes());
        contents[32..40].copy_from_slice(&self.device_size.to_le_bytes());
        let mut at = 40;
        write_list(contents, &mut at, &self.data_areas)?;
        write_list(contents, &mut at, &self.metadata_areas)?;
        if let Some(extension) = &self.extension {
            if at + 8 > contents.len() {
                return Err(Lvm2Error::PvHeaderOverflow);
            }
            contents[at..at + 4].copy_from_slice(&extension.version.to_le_bytes());
            contents[at + 4..at + 8].copy_from_slice(&extension.flags.to_le_bytes());
            at += 8;
            write_list(contents, &mut at, &extension.bootloader_areas)?;
        }
        let crc = lvm2_crc(&bytes[20..]);
        bytes[16..20].copy_from_slice(&crc.to_le_bytes());
        Ok(bytes)
    }

    /// Scan the first four sectors of `disk` as lvm2 does: the first label
    /// found, `Ok(None)` when there is none.
    pub fn read(disk: &dyn BlockIo) -> Result<Option<Self>, Lvm2Error> {
        let size = disk
            .size_bytes()
            .map_err(|e| Lvm2Error::io("reading the device size", e))?;
        for sector in 0..LABEL_SCAN_SECTORS {
            if (sector + 1) * SECTOR as u64 > size {
                break;
            }
            let mut bytes = [0u8; SECTOR];
            disk.read_exact_at(&mut bytes, sector * SECTOR as u64)
                .map_err(|e| Lvm2Error::io(format!("reading sector {sector}"), e))?;
            if let Some(label) = Self::decode(&bytes, sector)? {
                return Ok(Some(label));
            }
        }
        Ok(None)
    }
}

/// lvm2's dashed form of a 32-character UUID (6-4-4-4-4-4-6).
pub fn dashed_uuid(compact: &str) -> String {
    let mut out = String::with_capacity(38);
    let mut at = 0;
    for (index, width) in [6, 4, 4, 4, 4, 4, 6].iter().enumerate() {
        if index > 0 {
            out.push('-');
        }
        out.push_str(compact.get(at..at + width).unwrap_or(""));
        at += width;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemDisk;

    use crate::lvm2::lvm2_fixture as fixture;

    #[test]
    fn reads_the_label_pvcreate_wrote() {
        let disk = MemDisk::from_bytes(fixture());
        let label = Label::read(&disk).unwrap().expect("a label");
        assert_eq!(label.sector, 1);
        assert_eq!(
            dashed_uuid(&label.pv_uuid),
            "Qt7NGQ-1cny-cb4N-zuOM-yLuq-tOuR-8tfqe2"
        );
        assert_eq!(label.device_size, 64 << 20);
        assert_eq!(
            label.data_areas,
            [DiskLocn {
                offset: 1 << 20,
                size: 0
            }]
        );
        assert_eq!(
            label.metadata_areas,
            [DiskLocn {
                offset: 4096,
                size: 1_044_480
            }]
        );
        assert_eq!(
            label.extension,
            Some(PvExtension {
                version: PV_EXT_VERSION,
                flags: PV_EXT_USED,
                bootloader_areas: vec![]
            })
        );
        // Encoding gives back lvm2's exact sector.
        let bytes = fixture();
        assert_eq!(&label.encode().unwrap()[..], &bytes[512..1024]);
    }

    #[test]
    fn damage_is_named_and_absence_is_not_an_error() {
        let blank = MemDisk::new(4096);
        assert!(Label::read(&blank).unwrap().is_none());
        let mut bytes = fixture();
        bytes[512 + 100] ^= 1;
        let err = Label::read(&MemDisk::from_bytes(bytes)).unwrap_err();
        assert!(
            matches!(err, Lvm2Error::LabelChecksum { sector: 1, .. }),
            "{err}"
        );
        let mut moved = fixture();
        moved.copy_within(512..1024, 1024);
        moved[512..1024].fill(0);
        let err = Label::read(&MemDisk::from_bytes(moved)).unwrap_err();
        assert!(
            matches!(
                err,
                Lvm2Error::LabelSector {
                    found: 2,
                    recorded: 1
                }
            ),
            "{err}"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_sector_decodes_or_errs_without_panicking(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 512), flip in 0usize..512) {
            let mut sector: [u8; 512] = bytes.try_into().unwrap();
            let _ = Label::decode(&sector, 1);
            let mut real: [u8; 512] = fixture()[512..1024].try_into().unwrap();
            real[flip] ^= 0x40;
            sector.copy_from_slice(&real);
            // Any single flipped bit is caught (checksum, id or sector field).
            proptest::prop_assert!(!matches!(Label::decode(&sector, 1), Ok(Some(_))));
        }
    }
}
