//! What can be wrong with LVM2's on-disk metadata, one variant per invariant.

use thiserror::Error;

/// A damaged or unreadable label, PV header, metadata area or metadata text.
#[derive(Debug, Error)]
pub enum Lvm2Error {
    /// I/O failed.
    #[error("{context}")]
    Io {
        /// What was being read or written.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The label's recorded sector is not where it was found.
    #[error("label in sector {found} says it belongs in sector {recorded}")]
    LabelSector {
        /// Where it was found.
        found: u64,
        /// What it records.
        recorded: u64,
    },
    /// The label's checksum does not match.
    #[error("label in sector {sector} has checksum {stored:#010x}, computed {computed:#010x}")]
    LabelChecksum {
        /// Where.
        sector: u64,
        /// On disk.
        stored: u32,
        /// Over the bytes.
        computed: u32,
    },
    /// The label's contents offset points outside the sector.
    #[error("label in sector {sector} puts its contents at offset {offset}, outside the sector")]
    LabelOffset {
        /// Where.
        sector: u64,
        /// The offset.
        offset: u32,
    },
    /// The label is of another type than `LVM2 001`.
    #[error("label in sector {sector} has type {found:?}, not \"LVM2 001\"")]
    LabelType {
        /// Where.
        sector: u64,
        /// The type found.
        found: String,
    },
    /// The PV header's area lists run past the label sector.
    #[error("PV header area lists run past the end of the label sector")]
    PvHeaderOverflow,
    /// The PV UUID is not 32 characters of lvm2's alphabet.
    #[error("PV UUID {0:?} is not 32 characters of [A-Za-z0-9!#]")]
    BadUuid(String),
    /// A metadata area header has the wrong magic.
    #[error("metadata area at byte {start}: bad magic")]
    MdaMagic {
        /// Area start.
        start: u64,
    },
    /// A metadata area header's checksum does not match.
    #[error(
        "metadata area at byte {start}: header checksum {stored:#010x}, computed {computed:#010x}"
    )]
    MdaChecksum {
        /// Area start.
        start: u64,
        /// On disk.
        stored: u32,
        /// Over the bytes.
        computed: u32,
    },
    /// A metadata area header of an unknown version.
    #[error("metadata area at byte {start}: unsupported version {version}")]
    MdaVersion {
        /// Area start.
        start: u64,
        /// The version found.
        version: u32,
    },
    /// A metadata area header records another start than where it is.
    #[error("metadata area at byte {start} records its start as {recorded}")]
    MdaStart {
        /// Where it is.
        start: u64,
        /// What it records.
        recorded: u64,
    },
    /// A metadata area header claims an area past the end of the device (or too small to hold a text).
    #[error(
        "metadata area at byte {start}: its size {size} does not fit the {device_size}-byte device"
    )]
    MdaSize {
        /// Area start.
        start: u64,
        /// The size the header claims.
        size: u64,
        /// The device's size.
        device_size: u64,
    },
    /// A text location lies outside its metadata area.
    #[error("metadata area at byte {start}: text at offset {offset} size {size} lies outside the {area_size}-byte area")]
    TextBounds {
        /// Area start.
        start: u64,
        /// Text offset within the area.
        offset: u64,
        /// Text size.
        size: u64,
        /// Area size.
        area_size: u64,
    },
    /// The metadata text's checksum does not match its location record.
    #[error(
        "metadata area at byte {start}: text checksum {stored:#010x}, computed {computed:#010x}"
    )]
    TextChecksum {
        /// Area start.
        start: u64,
        /// Recorded.
        stored: u32,
        /// Over the text.
        computed: u32,
    },
    /// The metadata text is not UTF-8 (lvm2 writes ASCII).
    #[error("metadata area at byte {start}: text is not valid UTF-8")]
    TextEncoding {
        /// Area start.
        start: u64,
    },
}

impl Lvm2Error {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Lvm2Error::Io {
            context: context.into(),
            source,
        }
    }
}
