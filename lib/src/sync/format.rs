//! The rlvsync stream, version 2: a header, one record per chunk, a trailer.
//! Every integer is little-endian; every part carries its own checksum, so a
//! reader can refuse a bad record before any byte of it is used.
//!
//! ```text
//! header   magic "RLVSYNC\0" (8) | version u32 = 1 | header_len u32
//!          kind u8 (1 incremental, 2 full, 3 snapback) | 3 zero bytes
//!          chunk_bytes u32 | origin_bytes u64 | start_chunk u64
//!          records u64 | data_bytes u64 | old_time i64 | new_time i64
//!          8 strings, each u16 length + UTF-8: vg_name vg_uuid lv_name lv_uuid
//!                                            old_name old_uuid new_name new_uuid
//!          crc32c u32 of every header byte before it
//! record   chunk u64 | length u32 | crc32c u32 of (chunk, length, data) | data
//! trailer  u64::MAX | records u64 | data_bytes u64 | digest (32) | crc32c u32 of the 56 bytes before it
//! ```
//!
//! Records are in strictly ascending chunk order, each at least `start_chunk`;
//! a record holds the whole chunk (the last chunk of the volume clipped to its
//! size). The trailer's digest covers every stream byte before it: in version
//! 2 XXH3-128 (16 bytes, little-endian, then 16 zero bytes), in version 1
//! BLAKE3 (32 bytes). Version 1 streams are still read.
//!
//! Why version 2: BLAKE3 over every data byte cost ~0.25 s of CPU per GiB on
//! the 2-core reference machine, as much as the whole read of the data, and
//! the trailer is checked only after apply has written the records (each is
//! gated by its own crc32c). Against accidental damage XXH3-128 (~0.05 s per
//! GiB) detects as much; neither protects against deliberate tampering, since
//! whoever can change the stream can rewrite an unkeyed digest too.

use std::io::{self, Read, Write};

use super::error::SyncError;

/// The stream's first eight bytes.
pub const MAGIC: [u8; 8] = *b"RLVSYNC\0";
/// The format version this build writes.
pub const VERSION: u32 = 2;
/// The oldest format version this build reads.
pub const OLDEST_VERSION: u32 = 1;
/// Bytes of a record's head before its data.
pub const RECORD_HEAD_LEN: usize = 16;
/// Bytes of the trailer.
pub const TRAILER_LEN: usize = 60;
/// The chunk index that marks the trailer.
const TRAILER_MARK: u64 = u64::MAX;
/// Largest header accepted (strings are names and UUIDs).
const MAX_HEADER_LEN: u32 = 64 << 10;
/// Largest chunk accepted: 512 MiB bounds the reader's buffer.
pub const MAX_CHUNK_BYTES: u32 = 512 << 20;
const FIXED_HEADER_LEN: usize = 72;

/// The algorithm of the trailer's whole-stream digest, fixed by the stream's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DigestKind {
    /// Version 1: BLAKE3, 32 bytes.
    Blake3,
    /// Version 2: XXH3-128, 16 bytes (little-endian) and 16 zero bytes.
    Xxh3_128,
}

impl DigestKind {
    /// The digest of streams of `version`.
    pub fn of_version(version: u32) -> Self {
        if version == 1 {
            DigestKind::Blake3
        } else {
            DigestKind::Xxh3_128
        }
    }

    /// The name `info` prints before the hex digest.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestKind::Blake3 => "blake3",
            DigestKind::Xxh3_128 => "xxh3-128",
        }
    }

    /// Bytes of the digest field that carry the digest (the rest are zero).
    fn len(self) -> usize {
        match self {
            DigestKind::Blake3 => 32,
            DigestKind::Xxh3_128 => 16,
        }
    }
}

/// The running whole-stream digest.
enum StreamHasher {
    Blake3(Box<blake3::Hasher>),
    Xxh3(Box<twox_hash::XxHash3_128>),
}

impl StreamHasher {
    fn new(kind: DigestKind) -> Self {
        match kind {
            DigestKind::Blake3 => StreamHasher::Blake3(Box::default()),
            DigestKind::Xxh3_128 => StreamHasher::Xxh3(Box::new(twox_hash::XxHash3_128::new())),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            StreamHasher::Blake3(h) => {
                h.update(bytes);
            }
            StreamHasher::Xxh3(h) => h.write(bytes),
        }
    }

    /// The trailer's 32-byte digest field.
    fn field(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        match self {
            StreamHasher::Blake3(h) => out.copy_from_slice(h.finalize().as_bytes()),
            StreamHasher::Xxh3(h) => out[..16].copy_from_slice(&h.finish_128().to_le_bytes()),
        }
        out
    }
}

/// What a stream holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamKind {
    /// The chunks changed between two snapshots, as of the newer.
    Incremental,
    /// Every chunk of the volume as of one snapshot.
    Full,
    /// A target's old bytes of the chunks a round overwrote: applying it undoes the round.
    Snapback,
}

impl StreamKind {
    fn code(self) -> u8 {
        match self {
            StreamKind::Incremental => 1,
            StreamKind::Full => 2,
            StreamKind::Snapback => 3,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(StreamKind::Incremental),
            2 => Some(StreamKind::Full),
            3 => Some(StreamKind::Snapback),
            _ => None,
        }
    }

    /// The name `info` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Incremental => "incremental",
            StreamKind::Full => "full",
            StreamKind::Snapback => "snapback",
        }
    }
}

/// One snapshot (or image) a stream is made from; an empty name means none.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SnapshotIdentity {
    /// LV name (or image path for offline streams).
    pub name: String,
    /// LV UUID, empty when not known.
    pub uuid: String,
    /// Creation time, seconds since the epoch (0 when not known).
    pub creation_time: i64,
}

impl SnapshotIdentity {
    /// Whether this names no snapshot.
    pub fn is_none(&self) -> bool {
        self.name.is_empty() && self.uuid.is_empty()
    }

    /// `name (uuid)`, or `-` for none.
    pub fn describe(&self) -> String {
        match (self.name.is_empty(), self.uuid.is_empty()) {
            (true, true) => "-".into(),
            (false, true) => self.name.clone(),
            _ => format!("{} ({})", self.name, self.uuid),
        }
    }
}

/// The volume a stream is of.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SourceVolume {
    /// VG name.
    pub vg_name: String,
    /// VG UUID.
    pub vg_uuid: String,
    /// Origin LV name.
    pub lv_name: String,
    /// Origin LV UUID.
    pub lv_uuid: String,
}

/// The decoded header.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StreamHeader {
    /// What the stream holds.
    pub kind: StreamKind,
    /// Bytes per chunk.
    pub chunk_bytes: u32,
    /// Size of the volume in bytes.
    pub origin_bytes: u64,
    /// No record is below this chunk (non-zero for the rest of an interrupted round).
    pub start_chunk: u64,
    /// Records the writer planned (the trailer has the count written).
    pub records: u64,
    /// Data bytes the writer planned.
    pub data_bytes: u64,
    /// The volume.
    pub source: SourceVolume,
    /// The snapshot whose exception list chose the chunks (none for a full stream).
    pub old: SnapshotIdentity,
    /// The snapshot the data was read through: the volume as the stream leaves it.
    pub new: SnapshotIdentity,
}

impl StreamHeader {
    /// Chunks in the volume (the last one possibly partial).
    pub fn chunk_count(&self) -> u64 {
        self.origin_bytes.div_ceil(u64::from(self.chunk_bytes))
    }

    /// Bytes of chunk `index`: a whole chunk, the last one clipped to the volume; 0 past the end.
    pub fn chunk_len(&self, index: u64) -> u32 {
        let chunk = u64::from(self.chunk_bytes);
        let start = index.saturating_mul(chunk);
        if start >= self.origin_bytes {
            return 0;
        }
        (self.origin_bytes - start).min(chunk) as u32
    }

    /// The header's bytes, checksum included.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_version(VERSION)
    }

    /// The header's bytes as format `version` writes them (only the version field differs).
    fn encode_version(&self, version: u32) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // header_len, patched below
        out.push(self.kind.code());
        out.extend_from_slice(&[0; 3]);
        out.extend_from_slice(&self.chunk_bytes.to_le_bytes());
        out.extend_from_slice(&self.origin_bytes.to_le_bytes());
        out.extend_from_slice(&self.start_chunk.to_le_bytes());
        out.extend_from_slice(&self.records.to_le_bytes());
        out.extend_from_slice(&self.data_bytes.to_le_bytes());
        out.extend_from_slice(&self.old.creation_time.to_le_bytes());
        out.extend_from_slice(&self.new.creation_time.to_le_bytes());
        debug_assert_eq!(out.len(), FIXED_HEADER_LEN);
        for s in self.strings() {
            // Names and UUIDs are short; a longer string is cut at a char boundary.
            let mut end = s.len().min(u16::MAX as usize);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            out.extend_from_slice(&(end as u16).to_le_bytes());
            out.extend_from_slice(&s.as_bytes()[..end]);
        }
        let len = (out.len() + 4) as u32;
        out[12..16].copy_from_slice(&len.to_le_bytes());
        let crc = crc32c(&[&out]);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    fn strings(&self) -> [&str; 8] {
        [
            &self.source.vg_name,
            &self.source.vg_uuid,
            &self.source.lv_name,
            &self.source.lv_uuid,
            &self.old.name,
            &self.old.uuid,
            &self.new.name,
            &self.new.uuid,
        ]
    }

    /// Decode and validate a whole header (`bytes` is exactly `header_len` long).
    pub fn decode(bytes: &[u8]) -> Result<Self, SyncError> {
        let bad = |reason: &str| SyncError::BadHeader {
            reason: reason.into(),
        };
        if bytes.len() < 16 || bytes[..8] != MAGIC {
            return Err(SyncError::BadMagic);
        }
        let version = le32(bytes, 8);
        if !(OLDEST_VERSION..=VERSION).contains(&version) {
            return Err(SyncError::UnsupportedVersion { found: version });
        }
        if bytes.len() < FIXED_HEADER_LEN + 4 || le32(bytes, 12) as usize != bytes.len() {
            return Err(bad("length field does not match the header"));
        }
        let (body, crc) = bytes.split_at(bytes.len() - 4);
        if crc32c(&[body]) != le32(crc, 0) {
            return Err(bad("checksum mismatch"));
        }
        let kind = StreamKind::from_code(bytes[16]).ok_or_else(|| bad("unknown stream kind"))?;
        let chunk_bytes = le32(bytes, 20);
        if !chunk_bytes.is_power_of_two() || !(512..=MAX_CHUNK_BYTES).contains(&chunk_bytes) {
            return Err(bad(
                "chunk size is not a power of 2 from 512 bytes to 512 MiB",
            ));
        }
        let origin_bytes = le64(bytes, 24);
        if origin_bytes == 0 {
            return Err(bad("volume size is 0"));
        }
        let mut strings = Vec::with_capacity(8);
        let mut at = FIXED_HEADER_LEN;
        for _ in 0..8 {
            let len = body
                .get(at..at + 2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
                .ok_or_else(|| bad("strings run past the header"))?;
            let text = body
                .get(at + 2..at + 2 + len)
                .ok_or_else(|| bad("strings run past the header"))?;
            strings.push(String::from_utf8(text.to_vec()).map_err(|_| bad("a name is not UTF-8"))?);
            at += 2 + len;
        }
        if at != body.len() {
            return Err(bad("bytes after the last string"));
        }
        let mut s = strings.into_iter();
        let mut next = || s.next().unwrap_or_default();
        let header = StreamHeader {
            kind,
            chunk_bytes,
            origin_bytes,
            start_chunk: le64(bytes, 32),
            records: le64(bytes, 40),
            data_bytes: le64(bytes, 48),
            source: SourceVolume {
                vg_name: next(),
                vg_uuid: next(),
                lv_name: next(),
                lv_uuid: next(),
            },
            old: SnapshotIdentity {
                name: next(),
                uuid: next(),
                creation_time: le64(bytes, 56) as i64,
            },
            new: SnapshotIdentity {
                name: next(),
                uuid: next(),
                creation_time: le64(bytes, 64) as i64,
            },
        };
        if header.start_chunk > header.chunk_count() {
            return Err(bad("start chunk lies past the end of the volume"));
        }
        Ok(header)
    }
}

/// What the trailer says, as read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    /// Records in the stream.
    pub records: u64,
    /// Data bytes in those records.
    pub data_bytes: u64,
    /// The digest of every byte before the trailer (see [`DigestKind`] for its layout).
    pub digest: [u8; 32],
    /// Its algorithm.
    pub digest_kind: DigestKind,
}

impl Trailer {
    /// The trailer's bytes.
    pub fn encode(&self) -> [u8; TRAILER_LEN] {
        let mut out = [0u8; TRAILER_LEN];
        out[0..8].copy_from_slice(&TRAILER_MARK.to_le_bytes());
        out[8..16].copy_from_slice(&self.records.to_le_bytes());
        out[16..24].copy_from_slice(&self.data_bytes.to_le_bytes());
        out[24..56].copy_from_slice(&self.digest);
        let crc = crc32c(&[&out[..56]]);
        out[56..60].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// The digest as lowercase hex (its own bytes, not the field's zero padding).
    pub fn digest_hex(&self) -> String {
        self.digest[..self.digest_kind.len()]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// A record's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Record number in the stream, from 0.
    pub number: u64,
    /// Chunk index.
    pub chunk: u64,
    /// Data length.
    pub len: u32,
    /// Stream offset of the record's head.
    pub offset: u64,
    /// Where its data starts in the buffer it was returned in (see [`RecordBatch`]).
    pub data_at: usize,
}

/// CRC-32C (Castagnoli, as iSCSI and ext4 use it) of `parts` back to back.
pub fn crc32c(parts: &[&[u8]]) -> u32 {
    let mut digest = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi);
    for part in parts {
        digest.update(part);
    }
    // A 32-bit CRC: the upper half of crc-fast's u64 is always zero.
    digest.finalize() as u32
}

fn record_head(chunk: u64, data: &[u8]) -> [u8; RECORD_HEAD_LEN] {
    let mut head = [0u8; RECORD_HEAD_LEN];
    head[0..8].copy_from_slice(&chunk.to_le_bytes());
    head[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
    let crc = crc32c(&[&head[..12], data]);
    head[12..16].copy_from_slice(&crc.to_le_bytes());
    head
}

/// The heads of the records of `chunks`, whose data lie back to back in
/// `data` (each chunk's length, as [`StreamHeader::chunk_len`] gives it).
pub fn seal_heads(
    header: &StreamHeader,
    chunks: &[u64],
    data: &[u8],
    heads: &mut Vec<[u8; RECORD_HEAD_LEN]>,
) {
    heads.clear();
    let mut at = 0usize;
    for &chunk in chunks {
        let len = header.chunk_len(chunk) as usize;
        heads.push(record_head(chunk, &data[at..at + len]));
        at += len;
    }
}

/// Most buffers in one vectored write (the kernel's `IOV_MAX`).
const MAX_IOV: usize = 1024;

/// Write every byte of `slices`, in order, with vectored writes.
fn write_all_vectored(out: &mut impl Write, mut slices: &mut [io::IoSlice<'_>]) -> io::Result<()> {
    while !slices.is_empty() {
        let take = slices.len().min(MAX_IOV);
        match out.write_vectored(&slices[..take]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => io::IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes a stream: header, records in ascending chunk order, trailer.
pub struct StreamWriter<W: Write> {
    out: W,
    header: StreamHeader,
    digest_kind: DigestKind,
    hasher: StreamHasher,
    records: u64,
    data_bytes: u64,
    last_chunk: Option<u64>,
}

impl<W: Write> StreamWriter<W> {
    /// Write `header` to `out`.
    pub fn new(out: W, header: StreamHeader) -> Result<Self, SyncError> {
        Self::with_version(out, header, VERSION)
    }

    /// Write `header` to `out` as a stream of format `version` ([`OLDEST_VERSION`] to [`VERSION`]).
    fn with_version(mut out: W, header: StreamHeader, version: u32) -> Result<Self, SyncError> {
        let bytes = header.encode_version(version);
        out.write_all(&bytes)
            .map_err(|e| SyncError::io("writing the stream header", e))?;
        let digest_kind = DigestKind::of_version(version);
        let mut hasher = StreamHasher::new(digest_kind);
        hasher.update(&bytes);
        Ok(Self {
            out,
            header,
            digest_kind,
            hasher,
            records: 0,
            data_bytes: 0,
            last_chunk: None,
        })
    }

    /// The header written.
    pub fn header(&self) -> &StreamHeader {
        &self.header
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The output, to flush and sync it between records.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Append the record of chunk `chunk`; `data` must be that chunk's whole length.
    pub fn write_record(&mut self, chunk: u64, data: &[u8]) -> Result<(), SyncError> {
        let expected = self.header.chunk_len(chunk);
        let in_order = self.last_chunk.is_none_or(|last| chunk > last);
        if expected as usize != data.len() || !in_order || chunk < self.header.start_chunk {
            return Err(SyncError::BadRecord {
                record: self.records,
                offset: 0,
                reason: format!(
                    "writer given chunk {chunk} with {} bytes out of order or size",
                    data.len()
                ),
            });
        }
        let head = record_head(chunk, data);
        self.hasher.update(&head);
        self.hasher.update(data);
        let io = |e| SyncError::io(format!("writing the record of chunk {chunk}"), e);
        self.out.write_all(&head).map_err(io)?;
        self.out.write_all(data).map_err(io)?;
        self.records += 1;
        self.data_bytes += data.len() as u64;
        self.last_chunk = Some(chunk);
        Ok(())
    }

    /// Append the records of `chunks`: their heads (from [`seal_heads`]) and
    /// their data, back to back in `data`. Head and data go out with
    /// vectored writes, so the data is not copied into a record layout first.
    pub fn write_split(
        &mut self,
        chunks: &[u64],
        heads: &[[u8; RECORD_HEAD_LEN]],
        data: &[u8],
    ) -> Result<(), SyncError> {
        let mut last = self.last_chunk;
        let mut len = 0usize;
        for &chunk in chunks {
            let in_order = last.is_none_or(|l| chunk > l) && chunk >= self.header.start_chunk;
            let bytes = self.header.chunk_len(chunk);
            if !in_order || bytes == 0 {
                return Err(SyncError::BadRecord {
                    record: self.records,
                    offset: 0,
                    reason: format!("writer given chunk {chunk} out of order or past the end"),
                });
            }
            len += bytes as usize;
            last = Some(chunk);
        }
        if len != data.len() || heads.len() != chunks.len() {
            return Err(SyncError::BadRecord {
                record: self.records,
                offset: 0,
                reason: format!(
                    "writer given {} heads and {} data bytes for {} records of {len}",
                    heads.len(),
                    data.len(),
                    chunks.len()
                ),
            });
        }
        let mut slices = Vec::with_capacity(2 * chunks.len());
        let mut at = 0usize;
        for (&chunk, head) in chunks.iter().zip(heads) {
            let n = self.header.chunk_len(chunk) as usize;
            let body = &data[at..at + n];
            at += n;
            self.hasher.update(head);
            self.hasher.update(body);
            slices.push(io::IoSlice::new(head));
            slices.push(io::IoSlice::new(body));
        }
        write_all_vectored(&mut self.out, &mut slices)
            .map_err(|e| SyncError::io("writing records", e))?;
        self.records += chunks.len() as u64;
        self.data_bytes += len as u64;
        self.last_chunk = last;
        Ok(())
    }

    /// Write the trailer and flush; returns it and the writer.
    pub fn finish(mut self) -> Result<(Trailer, W), SyncError> {
        let trailer = Trailer {
            records: self.records,
            data_bytes: self.data_bytes,
            digest: self.hasher.field(),
            digest_kind: self.digest_kind,
        };
        let io = |e| SyncError::io("writing the stream trailer", e);
        self.out.write_all(&trailer.encode()).map_err(io)?;
        self.out.flush().map_err(io)?;
        Ok((trailer, self.out))
    }
}

/// Reads and checks a stream record by record: each record is returned only
/// once its checksum and place in the stream are known to be right.
///
/// The reader does its own buffering (large reads into one buffer, records
/// parsed in place, the whole-stream digest updated once per buffer of
/// verified records), so its input needs no `BufReader`.
pub struct StreamReader<R: Read> {
    input: R,
    header: StreamHeader,
    version: u32,
    hasher: StreamHasher,
    /// Stream offset of the next byte to parse.
    offset: u64,
    records: u64,
    data_bytes: u64,
    last_chunk: Option<u64>,
    trailer: Option<Trailer>,
    /// Read bytes: `buf[..parsed]` is the current batch of verified records, `buf[parsed..filled]` unparsed.
    buf: Vec<u8>,
    parsed: usize,
    filled: usize,
    eof: bool,
    /// The records in `buf[..parsed]`, and how many of them `next_record` returned.
    batch: Vec<Record>,
    cursor: usize,
    /// An error found after some good records: reported once those were handed out.
    deferred: Option<SyncError>,
}

/// Verified records lying in one buffer, as [`StreamReader::next_batch`] returns them.
#[derive(Debug)]
pub struct RecordBatch<'a> {
    /// The buffer the records' [`Record::data_at`] offsets point into.
    pub bytes: &'a [u8],
    /// The records, in stream order.
    pub records: &'a [Record],
}

impl RecordBatch<'_> {
    /// The data of `record`, one of this batch's.
    pub fn data(&self, record: &Record) -> &[u8] {
        &self.bytes[record.data_at..record.data_at + record.len as usize]
    }
}

/// The reader's buffer: large reads, whole records parsed in place.
const READ_BUFFER_BYTES: usize = 8 << 20;

impl<R: Read> StreamReader<R> {
    /// Read and check the header.
    pub fn new(input: R) -> Result<Self, SyncError> {
        Self::with_buffer(input, READ_BUFFER_BYTES)
    }

    /// Read and check the header; batches of records hold up to `buffer` bytes
    /// (at least one whole record).
    pub fn with_buffer(mut input: R, buffer: usize) -> Result<Self, SyncError> {
        let mut fixed = [0u8; 16];
        let got = read_full(&mut input, &mut fixed)
            .map_err(|e| SyncError::io("reading the stream header", e))?;
        if got < 8 || fixed[..8] != MAGIC {
            if got == 0 {
                return Err(SyncError::Truncated {
                    what: "the header".into(),
                    offset: 0,
                    records: 0,
                });
            }
            return Err(SyncError::BadMagic);
        }
        if got < 16 {
            return Err(SyncError::Truncated {
                what: "the header".into(),
                offset: got as u64,
                records: 0,
            });
        }
        let version = le32(&fixed, 8);
        if !(OLDEST_VERSION..=VERSION).contains(&version) {
            return Err(SyncError::UnsupportedVersion { found: version });
        }
        let len = le32(&fixed, 12);
        if !(FIXED_HEADER_LEN as u32 + 4..=MAX_HEADER_LEN).contains(&len) {
            return Err(SyncError::BadHeader {
                reason: format!("header length {len} is out of range"),
            });
        }
        let mut bytes = vec![0u8; len as usize];
        bytes[..16].copy_from_slice(&fixed);
        let got = read_full(&mut input, &mut bytes[16..])
            .map_err(|e| SyncError::io("reading the stream header", e))?;
        if got < bytes.len() - 16 {
            return Err(SyncError::Truncated {
                what: "the header".into(),
                offset: 16 + got as u64,
                records: 0,
            });
        }
        let header = StreamHeader::decode(&bytes)?;
        let mut hasher = StreamHasher::new(DigestKind::of_version(version));
        hasher.update(&bytes);
        // Room for at least one whole record and the trailer after it.
        let room = (header.chunk_bytes as usize + RECORD_HEAD_LEN + TRAILER_LEN).max(buffer);
        Ok(Self {
            input,
            header,
            version,
            hasher,
            offset: u64::from(len),
            records: 0,
            data_bytes: 0,
            last_chunk: None,
            trailer: None,
            buf: vec![0u8; room],
            parsed: 0,
            filled: 0,
            eof: false,
            batch: Vec::new(),
            cursor: 0,
            deferred: None,
        })
    }

    /// The stream's header.
    pub fn header(&self) -> &StreamHeader {
        &self.header
    }

    /// The stream's format version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Stream bytes checked so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Records checked so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Data bytes in the records checked so far.
    pub fn data_bytes(&self) -> u64 {
        self.data_bytes
    }

    /// The trailer, once the stream was read to its good end.
    pub fn trailer(&self) -> Option<Trailer> {
        self.trailer
    }

    /// The next record with its data copied into `data`, checked; `None` after
    /// a good trailer with nothing after it.
    pub fn next_record(&mut self, data: &mut Vec<u8>) -> Result<Option<Record>, SyncError> {
        loop {
            if let Some(record) = self.batch.get(self.cursor).copied() {
                self.cursor += 1;
                data.clear();
                data.extend_from_slice(
                    &self.buf[record.data_at..record.data_at + record.len as usize],
                );
                return Ok(Some(record));
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Every checked record the next buffer holds (those [`next_record`](Self::next_record)
    /// has not returned yet); `None` after a good trailer with nothing after it.
    /// A bad record is reported by the call after the batch of good records before it.
    pub fn next_batch(&mut self) -> Result<Option<RecordBatch<'_>>, SyncError> {
        while self.cursor >= self.batch.len() {
            if !self.fill()? {
                return Ok(None);
            }
        }
        let first = self.cursor;
        self.cursor = self.batch.len();
        Ok(Some(RecordBatch {
            bytes: &self.buf[..self.parsed],
            records: &self.batch[first..],
        }))
    }

    /// The input, for a caller that reads on past the stream.
    pub fn into_inner(self) -> R {
        self.input
    }

    /// Drop the handed-out batch, read more and check the records it holds;
    /// `false` at the good end of the stream.
    fn fill(&mut self) -> Result<bool, SyncError> {
        if let Some(error) = self.deferred.take() {
            return Err(error);
        }
        if self.trailer.is_some() {
            return Ok(false);
        }
        // Keep the unparsed tail (part of a record) and read behind it.
        self.buf.copy_within(self.parsed..self.filled, 0);
        self.filled -= self.parsed;
        self.parsed = 0;
        self.batch.clear();
        self.cursor = 0;
        while self.filled < self.buf.len() && !self.eof {
            match self.input.read(&mut self.buf[self.filled..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(SyncError::io(
                        format!(
                            "reading the stream at byte {}",
                            self.offset + self.filled as u64
                        ),
                        e,
                    ))
                }
            }
        }
        let parsed = self.parse();
        // The digest takes the checked records in one call: BLAKE3 hashes long inputs many chunks at a time.
        self.hasher.update(&self.buf[..self.parsed]);
        let checked = match parsed {
            Ok(Some(trailer_at)) => self.finish_trailer(trailer_at),
            Ok(None) => Ok(()),
            Err(error) => Err(error),
        };
        match checked {
            Ok(()) => Ok(true),
            Err(error) if self.batch.is_empty() => Err(error),
            Err(error) => {
                self.deferred = Some(error);
                Ok(true)
            }
        }
    }

    /// Check whole records from `parsed` on; `Some(at)` when a trailer mark starts at buffer offset `at`.
    fn parse(&mut self) -> Result<Option<usize>, SyncError> {
        loop {
            let pos = self.parsed;
            let at = self.offset;
            let avail = self.filled - pos;
            if avail < RECORD_HEAD_LEN {
                if !self.eof {
                    return Ok(None);
                }
                if avail == 0 {
                    return Err(self.cut("the trailer (the stream ends after the last record)", at));
                }
                return Err(self.cut(&format!("record {} head", self.records), at + avail as u64));
            }
            let head: [u8; RECORD_HEAD_LEN] = self.buf[pos..pos + RECORD_HEAD_LEN]
                .try_into()
                .expect("16 bytes");
            let chunk = le64(&head, 0);
            if chunk == TRAILER_MARK {
                if avail < TRAILER_LEN {
                    if !self.eof {
                        return Ok(None);
                    }
                    return Err(self.cut("the trailer", at + avail as u64));
                }
                return Ok(Some(pos));
            }
            let len = le32(&head, 8);
            let number = self.records;
            let bad = |reason: String| SyncError::BadRecord {
                record: number,
                offset: at,
                reason,
            };
            if len > self.header.chunk_bytes {
                // Could be a flipped bit in the head: tell checksum damage from a wrong length first where possible.
                return Err(bad(format!(
                    "length {len} exceeds the {}-byte chunk (damaged record head)",
                    self.header.chunk_bytes
                )));
            }
            let whole = RECORD_HEAD_LEN + len as usize;
            if avail < whole {
                if !self.eof {
                    return Ok(None);
                }
                return Err(self.cut(
                    &format!("record {number} (chunk {chunk}) data"),
                    at + avail as u64,
                ));
            }
            let data = &self.buf[pos + RECORD_HEAD_LEN..pos + whole];
            if record_head(chunk, data) != head {
                return Err(SyncError::RecordChecksum {
                    record: number,
                    chunk,
                    offset: at,
                });
            }
            let expected = self.header.chunk_len(chunk);
            if chunk >= self.header.chunk_count() {
                return Err(bad(format!(
                    "chunk {chunk} lies past the end of the {}-chunk volume",
                    self.header.chunk_count()
                )));
            }
            if len != expected {
                return Err(bad(format!(
                    "chunk {chunk} holds {len} bytes, the chunk has {expected}"
                )));
            }
            if self.last_chunk.is_some_and(|last| chunk <= last) || chunk < self.header.start_chunk
            {
                return Err(bad(format!(
                    "chunk {chunk} is out of order (after chunk {:?}, stream starts at {})",
                    self.last_chunk, self.header.start_chunk
                )));
            }
            self.batch.push(Record {
                number,
                chunk,
                len,
                offset: at,
                data_at: pos + RECORD_HEAD_LEN,
            });
            self.parsed += whole;
            self.offset += whole as u64;
            self.records += 1;
            self.data_bytes += u64::from(len);
            self.last_chunk = Some(chunk);
        }
    }

    /// Check the trailer at buffer offset `pos` (every record before it is hashed) and that nothing follows.
    fn finish_trailer(&mut self, pos: usize) -> Result<(), SyncError> {
        let mut bytes = [0u8; TRAILER_LEN];
        bytes.copy_from_slice(&self.buf[pos..pos + TRAILER_LEN]);
        let bad = |reason: String| SyncError::BadTrailer { reason };
        if crc32c(&[&bytes[..56]]) != le32(&bytes, 56) {
            return Err(bad("checksum mismatch".into()));
        }
        let mut digest = [0u8; 32];
        digest.copy_from_slice(&bytes[24..56]);
        let trailer = Trailer {
            records: le64(&bytes, 8),
            data_bytes: le64(&bytes, 16),
            digest,
            digest_kind: DigestKind::of_version(self.version),
        };
        if trailer.records != self.records || trailer.data_bytes != self.data_bytes {
            return Err(bad(format!(
                "says {} records of {} bytes, the stream held {} of {}",
                trailer.records, trailer.data_bytes, self.records, self.data_bytes
            )));
        }
        if self.hasher.field() != trailer.digest {
            return Err(bad("whole-stream digest mismatch".into()));
        }
        self.offset += TRAILER_LEN as u64;
        let mut extra = self.filled - (pos + TRAILER_LEN);
        if extra == 0 {
            let mut probe = [0u8; 4096];
            extra = read_full(&mut self.input, &mut probe)
                .map_err(|e| SyncError::io("reading after the trailer", e))?;
        }
        if extra > 0 {
            return Err(SyncError::TrailingBytes {
                bytes: extra as u64,
            });
        }
        self.trailer = Some(trailer);
        Ok(())
    }

    fn cut(&self, what: &str, offset: u64) -> SyncError {
        SyncError::Truncated {
            what: what.into(),
            offset,
            records: self.records,
        }
    }
}

/// Read until `buf` is full or the input ends; returns the bytes read.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match input.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn le64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> StreamHeader {
        StreamHeader {
            kind: StreamKind::Incremental,
            chunk_bytes: 4096,
            origin_bytes: 10 * 4096 + 512,
            start_chunk: 0,
            records: 3,
            data_bytes: 2 * 4096 + 512,
            source: SourceVolume {
                vg_name: "vg".into(),
                vg_uuid: "vg-uuid".into(),
                lv_name: "base".into(),
                lv_uuid: "lv-uuid".into(),
            },
            old: SnapshotIdentity {
                name: "mon".into(),
                uuid: "old-uuid".into(),
                creation_time: 10,
            },
            new: SnapshotIdentity {
                name: "mon2".into(),
                uuid: "new-uuid".into(),
                creation_time: 20,
            },
        }
    }

    fn stream() -> Vec<u8> {
        let mut w = StreamWriter::new(Vec::new(), header()).unwrap();
        w.write_record(1, &[1; 4096]).unwrap();
        w.write_record(7, &[7; 4096]).unwrap();
        w.write_record(10, &[9; 512]).unwrap();
        w.finish().unwrap().1
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<(u64, Vec<u8>)>, SyncError> {
        let mut r = StreamReader::new(bytes)?;
        let mut out = Vec::new();
        let mut data = Vec::new();
        while let Some(rec) = r.next_record(&mut data)? {
            out.push((rec.chunk, data.clone()));
        }
        Ok(out)
    }

    /// Pseudo-random bytes (xorshift), the same on every run.
    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    /// A version 2 stream of 64 KiB chunks, its records written one by one
    /// and as sealed batches, with data long enough for every vectorised
    /// checksum path.
    fn golden_v2() -> Vec<u8> {
        let mut h = header();
        h.chunk_bytes = 64 << 10;
        h.origin_bytes = 9 * (64 << 10) + 4000;
        h.records = 5;
        h.data_bytes = 4 * (64 << 10) + 4000;
        let mut w = StreamWriter::new(Vec::new(), h.clone()).unwrap();
        w.write_record(0, &noise(64 << 10, 1)).unwrap();
        let chunks = [2, 3, 4];
        let data = noise(3 * (64 << 10), 2);
        let mut heads = Vec::new();
        seal_heads(&h, &chunks, &data, &mut heads);
        w.write_split(&chunks, &heads, &data).unwrap();
        w.write_record(9, &noise(4000, 3)).unwrap();
        w.finish().unwrap().1
    }

    /// Written by the build before the checksums moved to run-time
    /// dispatched SIMD crates: every byte, every crc32c and the XXH3-128
    /// digest must stay the same.
    const GOLDEN_V2: &[u8] = include_bytes!("testdata/v2-golden.rlvsync");

    #[test]
    fn version_2_streams_are_written_byte_for_byte_as_before() {
        assert!(golden_v2() == GOLDEN_V2, "the stream bytes changed");
        assert_eq!(read_all(GOLDEN_V2).unwrap().len(), 5);
    }

    #[test]
    fn crc32c_is_castagnolis_crc() {
        assert_eq!(crc32c(&[b"123456789"]), 0xe306_9283);
        assert_eq!(crc32c(&[]), 0);
    }

    proptest::proptest! {
        /// The SIMD crc32c equals a plain table-driven CRC-32C, however the bytes are split.
        #[test]
        fn crc32c_matches_a_table_driven_crc(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..70_000),
            cut in 0usize..70_000,
        ) {
            let table = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);
            let cut = cut.min(bytes.len());
            proptest::prop_assert_eq!(crc32c(&[&bytes[..cut], &bytes[cut..]]), table.checksum(&bytes));
        }
    }

    #[test]
    fn round_trip() {
        let bytes = stream();
        let mut r = StreamReader::new(&bytes[..]).unwrap();
        assert_eq!(*r.header(), header());
        let mut data = Vec::new();
        let mut chunks = Vec::new();
        while let Some(rec) = r.next_record(&mut data).unwrap() {
            chunks.push((rec.chunk, data.len()));
        }
        assert_eq!(chunks, vec![(1, 4096), (7, 4096), (10, 512)]);
        assert_eq!(r.trailer().unwrap().records, 3);
        assert_eq!(
            bytes.len(),
            header().encode().len() + 3 * 16 + 2 * 4096 + 512 + 60
        );
    }

    #[test]
    fn every_flipped_byte_and_every_cut_is_refused() {
        let bytes = stream();
        for at in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[at] ^= 0x20;
            assert!(read_all(&bad).is_err(), "flip at {at} accepted");
        }
        for len in 0..bytes.len() {
            assert!(read_all(&bytes[..len]).is_err(), "cut at {len} accepted");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(
            read_all(&long),
            Err(SyncError::TrailingBytes { bytes: 1 })
        ));
    }

    #[test]
    fn a_bad_record_is_named() {
        let bytes = stream();
        let header_len = header().encode().len();
        let mut bad = bytes.clone();
        bad[header_len + 16 + 4096 + 16 + 100] ^= 1; // data of record 1
        let err = read_all(&bad).unwrap_err();
        assert!(
            matches!(
                err,
                SyncError::RecordChecksum {
                    record: 1,
                    chunk: 7,
                    ..
                }
            ),
            "{err}"
        );
        let cut = read_all(&bytes[..header_len + 16 + 4096 + 20]).unwrap_err();
        assert!(cut.to_string().contains("record 1 (chunk 7) data"), "{cut}");
    }

    #[test]
    fn writer_refuses_out_of_order_and_wrong_lengths() {
        let mut w = StreamWriter::new(Vec::new(), header()).unwrap();
        w.write_record(3, &[0; 4096]).unwrap();
        assert!(w.write_record(3, &[0; 4096]).is_err());
        assert!(w.write_record(4, &[0; 100]).is_err());
        assert!(w.write_record(10, &[0; 4096]).is_err());
    }
}
