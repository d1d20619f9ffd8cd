//! The persistent exception store ("P"), driven the way dm-snap.c drives
//! dm-snap-persistent.c: allocate a chunk, let the caller copy the origin
//! data into it, commit the exception (batched), and only then let the
//! origin write through.

use std::collections::BTreeSet;
use std::fmt;

use super::area::{Exception, Geometry, RECORD_LEN};
use super::chunk;
use super::error::CowError;
use super::header::{Header, HEADER_LEN};
use super::map::ExceptionMap;
use super::scan::{scan, Mode};
use crate::io::BlockIo;

/// The store's space accounting, as the snapshot target's status line prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    /// Sectors handed out so far, metadata included.
    pub sectors_allocated: u64,
    /// Size of the COW device in sectors, as of this call.
    pub total_sectors: u64,
    /// Sectors of header and metadata areas.
    pub metadata_sectors: u64,
}

impl fmt::Display for Usage {
    /// `<allocated>/<total> <metadata>`, the kernel's status format.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} {}",
            self.sectors_allocated, self.total_sectors, self.metadata_sectors
        )
    }
}

/// The store letter in a snapshot table (`P` or `N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreType {
    /// On-disk header and metadata areas; survives reloads.
    Persistent,
    /// In memory only; lost on unload.
    Transient,
}

/// The next run of exceptions a merge should copy back to the origin: the last
/// committed exception and the `count - 1` before it that continue it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeRun {
    /// Origin chunk of the last exception of the run.
    pub last_old_chunk: u64,
    /// COW chunk of the last exception of the run.
    pub last_new_chunk: u64,
    /// Exceptions in the run (old and new both consecutive), at least 1.
    pub count: u64,
}

impl MergeRun {
    /// First origin chunk of the run.
    pub fn first_old_chunk(&self) -> u64 {
        self.last_old_chunk + 1 - self.count
    }

    /// First COW chunk of the run.
    pub fn first_new_chunk(&self) -> u64 {
        self.last_new_chunk + 1 - self.count
    }
}

/// One metadata area write of a commit: the area's records, and the next
/// area to zero first when this one is full.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AreaWrite {
    /// Byte offset of the next area, zeroed first (the area is full).
    zero_next: Option<u64>,
    /// Byte offset of `bytes` on the device.
    offset: u64,
    /// Which area, for error messages.
    area: u64,
    /// The part of the area's bytes that holds the batch's records, in
    /// whole pages; the rest of the area is on the device already.
    bytes: Vec<u8>,
    /// Length of the whole area, for the zeros of the next one.
    area_len: usize,
}

/// The disk writes that make a staged batch of exceptions durable
/// ([`ExceptionStore::stage_commit`]); empty for the transient store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StagedCommit {
    writes: Vec<AreaWrite>,
}

impl StagedCommit {
    /// Do the writes on `disk`, the store's device, in the kernel's order:
    /// zero the area after each full one, flush (the data chunks and those
    /// zeroed areas reach stable media before any record pointing at them:
    /// the kernel's PREFLUSH), then write each area durably, these bytes
    /// alone (its FUA): a second flush of the whole device would also write
    /// back whatever else was written to it meanwhile (on an image file
    /// shared by many LVs, the origin's writes and the next batch's chunks)
    /// and the commit would wait for all of it. A batch that fills an area
    /// and goes on into the next writes the full area first: whichever of
    /// them lands alone, a reader still stops at an end marker (the older
    /// area is not full on disk, or the newer one is zeroed durably).
    pub fn write_to(&self, disk: &dyn BlockIo) -> Result<(), CowError> {
        if self.writes.is_empty() {
            return Ok(());
        }
        self.zero_next_areas(disk, write)?;
        flush(disk, "flushing data before a metadata area")?;
        self.write_areas(disk, write_durable)
    }

    /// The same writes for a caller whose data chunks are durable already
    /// (written with [`BlockIo::write_durable_at`]): every area to zero,
    /// then every area, each durable on its own before the next begins, in
    /// the same order and with no flush of the whole device, which on an
    /// image file that other LVs share would write back their dirty pages
    /// too. A crash still leaves old or new records, as above.
    pub fn write_durably_to(&self, disk: &dyn BlockIo) -> Result<(), CowError> {
        self.zero_next_areas(disk, write_durable)?;
        self.write_areas(disk, write_durable)
    }

    fn zero_next_areas(&self, disk: &dyn BlockIo, put: WriteFn) -> Result<(), CowError> {
        for w in &self.writes {
            if let Some(next) = w.zero_next {
                let zero = vec![0u8; w.area_len];
                put(
                    disk,
                    &zero,
                    next,
                    &format!("zeroing metadata area {}", w.area + 1),
                )?;
            }
        }
        Ok(())
    }

    fn write_areas(&self, disk: &dyn BlockIo, put: WriteFn) -> Result<(), CowError> {
        for w in &self.writes {
            put(
                disk,
                &w.bytes,
                w.offset,
                &format!("writing metadata area {}", w.area),
            )?;
        }
        Ok(())
    }
}

/// [`write`] or [`write_durable`].
type WriteFn = fn(&dyn BlockIo, &[u8], u64, &str) -> Result<(), CowError>;

/// What a snapshot target needs from an exception store; both [`PersistentStore`]
/// and [`super::TransientStore`] implement it.
///
/// Protocol (as dm-snap.c): on the first write to an un-remapped origin chunk,
/// [`allocate`](Self::allocate) a COW chunk, copy the origin chunk into it
/// (the caller owns the data path), then [`commit`](Self::commit) or
/// [`commit_batch`](Self::commit_batch); only after that returns `Ok` may the
/// origin write proceed. On `Full` or an I/O error the target calls
/// [`invalidate`](Self::invalidate) (or, for `PO`, reports overflow).
pub trait ExceptionStore: Send {
    /// `P` or `N`.
    fn store_type(&self) -> StoreType;
    /// Chunk size in sectors (for `P`, the header's, which overrides the table's).
    fn chunk_size(&self) -> u32;
    /// Whether the store is still usable; an invalid store refuses allocation and commits.
    fn is_valid(&self) -> bool;
    /// The COW chunk holding origin chunk `old_chunk`, if committed.
    fn lookup(&self, old_chunk: u64) -> Option<u64>;
    /// Number of committed exceptions.
    fn exception_count(&self) -> u64;
    /// Byte offset on the COW device of chunk `chunk`, where the caller copies data to and reads it from.
    fn chunk_offset(&self, chunk: u64) -> Option<u64> {
        chunk.checked_mul(u64::from(self.chunk_size()) * 512)
    }
    /// Hand out the next free COW data chunk (`Full` when the device has no whole chunk left).
    fn allocate(&mut self) -> Result<u64, CowError>;
    /// Make one exception durable (data chunk already written by the caller).
    fn commit(&mut self, exception: Exception) -> Result<(), CowError> {
        self.commit_batch(&[exception])
    }
    /// Make several exceptions durable with as few flushes and area writes as the format allows.
    fn commit_batch(&mut self, batch: &[Exception]) -> Result<(), CowError>;
    /// The first half of [`commit_batch`](Self::commit_batch), for a caller
    /// that does the disk I/O without holding the store: record `batch` in
    /// the in-memory area and return the writes that make it durable. Call
    /// [`StagedCommit::write_to`] (or, when the chunks were written durably,
    /// [`StagedCommit::write_durably_to`]) on the store's device, then
    /// [`finish_commit`](Self::finish_commit); stage nothing else in between.
    fn stage_commit(&mut self, batch: &[Exception]) -> Result<StagedCommit, CowError>;
    /// The second half: with the staged writes' result, publish `batch` to
    /// lookups, or invalidate the store (as the kernel does on a failed metadata write).
    fn finish_commit(
        &mut self,
        batch: &[Exception],
        written: Result<(), CowError>,
    ) -> Result<(), CowError>;
    /// Whether the metadata area right after allocated data chunk
    /// `new_chunk` is one a commit will zero (the area before it fills with
    /// `new_chunk`'s record): the caller may then write that area's zeros in
    /// the same durable write as the chunk and say so with
    /// [`area_zeroed_after`](Self::area_zeroed_after), which spares that
    /// commit a write.
    fn zeroes_area_after(&self, _new_chunk: u64) -> bool {
        false
    }
    /// The area after `new_chunk` ([`zeroes_area_after`](Self::zeroes_area_after))
    /// is zeros on stable media now: the commit that fills the area before it need not zero it.
    fn area_zeroed_after(&mut self, _new_chunk: u64) {}
    /// Mark the store invalid for good (header `valid = 0`, written at once).
    fn invalidate(&mut self) -> Result<(), CowError>;
    /// Space accounting, with the device size re-read now.
    fn usage(&self) -> Result<Usage, CowError>;
    /// The next run to merge back, or `None` when the merge is complete.
    fn prepare_merge(&mut self) -> Result<Option<MergeRun>, CowError>;
    /// Forget the last `count` committed exceptions after they were copied back (durably).
    fn commit_merge(&mut self, count: u64) -> Result<(), CowError>;
}

/// How [`PersistentStore::open`] found the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenReport {
    /// The device had no header (magic 0) and was initialised, as at kernel table load.
    pub initialised: bool,
    /// The table asked for this chunk size but the header's was used instead.
    pub overridden_chunk_size: Option<u32>,
}

/// The kernel's persistent exception store over a [`BlockIo`].
///
/// Keep an `Arc` of the device to write data chunks: `Arc<D>` is itself a `BlockIo`.
#[derive(Debug)]
pub struct PersistentStore<D: BlockIo> {
    disk: D,
    header: Header,
    geometry: Geometry,
    valid: bool,
    next_free: u64,
    current_area: u64,
    current_committed: u64,
    area: Vec<u8>,
    map: ExceptionMap,
    pending: BTreeSet<u64>,
    /// An area known to be zeros on stable media before the area ahead of
    /// it fills ([`ExceptionStore::area_zeroed_after`]).
    zeroed_ahead: Option<u64>,
    report: OpenReport,
}

/// The unit of an area write (see `current_area_write`): a page, which a
/// buffered write replaces without reading it first.
const AREA_WRITE_PAGE: usize = 4096;

/// `next_free` of an empty store: header and area 0 are in use.
const FIRST_DATA_CHUNK: u64 = 2;

impl<D: BlockIo> PersistentStore<D> {
    /// Write a fresh store: area 0 zeroed, then chunk 0 with a valid version-1 header.
    ///
    /// The kernel writes the header first; zeroing area 0 first means a crash in
    /// between leaves a device without a header, never a header over stale records.
    pub fn create(disk: D, chunk_size: u32) -> Result<Self, CowError> {
        chunk::validate_kernel(u64::from(chunk_size), 512)?;
        let geometry = Geometry::new(chunk_size);
        let device_bytes = size(&disk)?;
        let needed = geometry.chunk_bytes() * FIRST_DATA_CHUNK;
        if device_bytes < needed {
            return Err(CowError::Truncated {
                what: "header and metadata area 0".into(),
                needed,
                device_bytes,
            });
        }
        let header = Header::new(chunk_size);
        let zero = vec![0u8; chunk_buf_len(&geometry)?];
        write(
            &disk,
            &zero,
            geometry.chunk_bytes(),
            "zeroing metadata area 0",
        )?;
        flush(&disk, "flushing metadata area 0")?;
        write(
            &disk,
            &header.encode_chunk(zero.len()),
            0,
            "writing the COW header",
        )?;
        flush(&disk, "flushing the COW header")?;
        Ok(Self::empty(disk, header, geometry, zero))
    }

    /// Open as the kernel does at table load: initialise a fresh device (magic 0),
    /// refuse a damaged one, load an existing one. `chunk_size` is the table's
    /// (0 = the header's, or 32 sectors for a fresh device); the header's wins.
    /// Chunk sizes are checked against 512-byte blocks; a target over devices with
    /// larger logical blocks checks [`super::validate_chunk_size_kernel`] itself first.
    pub fn open(disk: D, chunk_size: u32) -> Result<Self, CowError> {
        if chunk_size != 0 {
            chunk::validate_kernel(u64::from(chunk_size), 512)?;
        }
        match read_header(&disk)? {
            None => {
                let chunk_size = if chunk_size == 0 {
                    chunk::KERNEL_DEFAULT_CHUNK_SECTORS as u32
                } else {
                    chunk_size
                };
                let mut store = Self::create(disk, chunk_size)?;
                store.report.initialised = true;
                Ok(store)
            }
            Some(header) => {
                let mut store = Self::load_with(disk, header)?;
                if chunk_size != 0 && chunk_size != header.chunk_size {
                    store.report.overridden_chunk_size = Some(chunk_size);
                }
                Ok(store)
            }
        }
    }

    /// Load an existing store without writing anything; a device with no header is [`CowError::NotACow`].
    pub fn load(disk: D) -> Result<Self, CowError> {
        match read_header(&disk)? {
            None => Err(CowError::NotACow),
            Some(header) => Self::load_with(disk, header),
        }
    }

    fn load_with(disk: D, header: Header) -> Result<Self, CowError> {
        chunk::validate_kernel(u64::from(header.chunk_size), 512)?;
        let geometry = Geometry::new(header.chunk_size);
        // Check the size before allocating an area buffer: a hostile header may claim 1 GiB chunks.
        let device_bytes = size(&disk)?;
        let needed = geometry.chunk_bytes() * FIRST_DATA_CHUNK;
        if device_bytes < needed {
            return Err(CowError::Truncated {
                what: "header and metadata area 0".into(),
                needed,
                device_bytes,
            });
        }
        let area = vec![0u8; chunk_buf_len(&geometry)?];
        let mut store = Self::empty(disk, header, geometry, area);
        if !header.is_valid() {
            // As the kernel: an invalid snapshot's exceptions are never read.
            store.valid = false;
            return Ok(store);
        }
        let mut map = ExceptionMap::new();
        let found = scan(
            &store.disk,
            &geometry,
            Mode::Strict,
            &mut Vec::new(),
            |_, e| {
                map.insert(e.old_chunk, e.new_chunk);
            },
        )?;
        let next_free = found
            .max_new_chunk
            .map_or(FIRST_DATA_CHUNK, |max| (max + 1).max(FIRST_DATA_CHUNK));
        store.next_free = geometry.skip_metadata(next_free);
        store.current_area = found.current_area;
        store.current_committed = found.current_committed;
        store.area = found.area;
        store.map = map;
        Ok(store)
    }

    fn empty(disk: D, header: Header, geometry: Geometry, area: Vec<u8>) -> Self {
        Self {
            disk,
            header,
            geometry,
            valid: header.is_valid(),
            next_free: FIRST_DATA_CHUNK,
            current_area: 0,
            current_committed: 0,
            area,
            map: ExceptionMap::new(),
            pending: BTreeSet::new(),
            zeroed_ahead: None,
            report: OpenReport {
                initialised: false,
                overridden_chunk_size: None,
            },
        }
    }

    /// How `open` found the device.
    pub fn open_report(&self) -> OpenReport {
        self.report
    }

    /// The header as last read or written.
    pub fn header(&self) -> Header {
        self.header
    }

    /// The area layout.
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// The device.
    pub fn disk(&self) -> &D {
        &self.disk
    }

    /// The next chunk `allocate` would hand out.
    pub fn next_free(&self) -> u64 {
        self.next_free
    }

    /// The area new records go into, and how many it holds.
    pub fn current_area(&self) -> (u64, u64) {
        (self.current_area, self.current_committed)
    }

    /// The in-memory exception table (for iteration and measurement).
    pub fn exceptions(&self) -> &ExceptionMap {
        &self.map
    }

    fn area_offset(&self, area: u64) -> Result<u64, CowError> {
        self.geometry
            .chunk_offset(self.geometry.area_location(area))
            .ok_or_else(|| CowError::Truncated {
                what: format!("metadata area {area}"),
                needed: u64::MAX,
                device_bytes: size(&self.disk).unwrap_or(0),
            })
    }

    /// The write that makes records `from..to` of the in-memory current
    /// area durable: the pages of the area that hold them. The device holds
    /// the rest of the area as memory does (every earlier commit wrote its
    /// records, an area starts zeroed), so a batch of 16 records at 64 KiB
    /// chunks writes 4 KiB, not the 64 KiB the kernel writes. Whole pages,
    /// so the page cache never reads a page back to change part of it.
    fn current_area_write(&self, from: u64, to: u64) -> Result<AreaWrite, CowError> {
        let len = self.area.len();
        let page = AREA_WRITE_PAGE.min(len);
        let start = (from as usize * RECORD_LEN / page * page).min(len);
        let end = (to as usize * RECORD_LEN).div_ceil(page) * page;
        let end = end.clamp(start, len);
        Ok(AreaWrite {
            zero_next: None,
            offset: self.area_offset(self.current_area)? + start as u64,
            area: self.current_area,
            bytes: self.area[start..end].to_vec(),
            area_len: len,
        })
    }

    /// Durably write the in-memory current area (a merge step's commit).
    fn write_current_area(&self) -> Result<(), CowError> {
        StagedCommit {
            writes: vec![self.current_area_write(0, self.geometry.exceptions_per_area())?],
        }
        .write_to(&self.disk)
    }

    /// The future area whose metadata chunk follows allocated data chunk
    /// `new_chunk` and lies inside the device, if there is one.
    fn area_after(&self, new_chunk: u64) -> Option<u64> {
        // Arithmetic first: a copy asks this of every chunk it reserves,
        // and one in an area's worth of them is followed by an area.
        let next = new_chunk.checked_add(1)?;
        let area = self.geometry.area_at(next)?;
        if area <= self.current_area || !self.pending.contains(&new_chunk) {
            return None;
        }
        let end = self.geometry.chunk_offset(next + 1)?;
        (end <= size(&self.disk).ok()?).then_some(area)
    }

    fn check_batch(&self, batch: &[Exception]) -> Result<(), CowError> {
        let mut olds = BTreeSet::new();
        let mut news = BTreeSet::new();
        for e in batch {
            if !self.pending.contains(&e.new_chunk) || !news.insert(e.new_chunk) {
                return Err(CowError::NotAllocated {
                    new_chunk: e.new_chunk,
                });
            }
            if self.map.get(e.old_chunk).is_some() || !olds.insert(e.old_chunk) {
                return Err(CowError::AlreadyRemapped {
                    old_chunk: e.old_chunk,
                });
            }
        }
        Ok(())
    }

    /// Record `batch` in the in-memory areas and list the writes that make it
    /// durable: a full area's (after zeroing the next one, so a reader that
    /// walks on from a full area finds an end marker, not stale bytes), then
    /// the current one's.
    fn stage_records(&mut self, batch: &[Exception]) -> Result<StagedCommit, CowError> {
        let epa = self.geometry.exceptions_per_area();
        let mut writes = Vec::new();
        let mut open = false;
        // The first record of the batch in the area it is filling.
        let mut from = self.current_committed;
        for e in batch {
            e.encode_at(&mut self.area, self.current_committed);
            self.current_committed += 1;
            open = true;
            if self.current_committed == epa {
                let mut full = self.current_area_write(from, epa)?;
                let next = self.current_area + 1;
                if self.zeroed_ahead != Some(next) {
                    full.zero_next = Some(self.area_offset(next)?);
                }
                writes.push(full);
                self.current_area += 1;
                self.current_committed = 0;
                self.area.fill(0);
                from = 0;
                open = false;
            }
        }
        if open {
            writes.push(self.current_area_write(from, self.current_committed)?);
        }
        Ok(StagedCommit { writes })
    }

    /// Records are durable: make them visible to lookups.
    fn publish(&mut self, staged: &[Exception]) {
        for e in staged {
            self.pending.remove(&e.new_chunk);
            self.map.insert(e.old_chunk, e.new_chunk);
        }
    }

    fn write_header(&mut self) -> Result<(), CowError> {
        let chunk = self.header.encode_chunk(self.area.len());
        write(&self.disk, &chunk, 0, "writing the COW header")?;
        flush(&self.disk, "flushing the COW header")
    }
}

impl<D: BlockIo> ExceptionStore for PersistentStore<D> {
    fn store_type(&self) -> StoreType {
        StoreType::Persistent
    }

    fn chunk_size(&self) -> u32 {
        self.header.chunk_size
    }

    fn is_valid(&self) -> bool {
        self.valid
    }

    fn lookup(&self, old_chunk: u64) -> Option<u64> {
        self.map.get(old_chunk)
    }

    fn exception_count(&self) -> u64 {
        self.map.len()
    }

    fn allocate(&mut self) -> Result<u64, CowError> {
        if !self.valid {
            return Err(CowError::Invalidated);
        }
        let cow_sectors = size(&self.disk)? / 512;
        let chunk = self.geometry.chunk_sectors();
        // The kernel's test: the chunk after next_free must still start inside the device.
        if (self.next_free + 1).saturating_mul(chunk) > cow_sectors {
            return Err(CowError::Full {
                next_free: self.next_free,
                chunk_size: chunk,
                cow_sectors,
            });
        }
        let new_chunk = self.next_free;
        self.next_free = self.geometry.skip_metadata(self.next_free + 1);
        self.pending.insert(new_chunk);
        Ok(new_chunk)
    }

    fn commit_batch(&mut self, batch: &[Exception]) -> Result<(), CowError> {
        if !self.valid {
            return Err(CowError::Invalidated);
        }
        let staged = self.stage_commit(batch)?;
        let written = staged.write_to(&self.disk);
        self.finish_commit(batch, written)
    }

    fn stage_commit(&mut self, batch: &[Exception]) -> Result<StagedCommit, CowError> {
        if !self.valid {
            return Err(CowError::Invalidated);
        }
        self.check_batch(batch)?;
        let staged = self.stage_records(batch);
        if staged.is_err() {
            let _ = self.invalidate();
        }
        staged
    }

    fn finish_commit(
        &mut self,
        batch: &[Exception],
        written: Result<(), CowError>,
    ) -> Result<(), CowError> {
        match written {
            Ok(()) if self.valid => {
                self.publish(batch);
                Ok(())
            }
            Ok(()) => Err(CowError::Invalidated),
            Err(e) => {
                // As the kernel: a failed metadata write leaves the snapshot invalid.
                let _ = self.invalidate();
                Err(e)
            }
        }
    }

    fn zeroes_area_after(&self, new_chunk: u64) -> bool {
        self.area_after(new_chunk).is_some()
    }

    fn area_zeroed_after(&mut self, new_chunk: u64) {
        if let Some(area) = self.area_after(new_chunk) {
            self.zeroed_ahead = Some(area);
        }
    }

    fn invalidate(&mut self) -> Result<(), CowError> {
        self.valid = false;
        self.pending.clear();
        self.header.valid = 0;
        self.write_header()
    }

    fn usage(&self) -> Result<Usage, CowError> {
        let chunk = self.geometry.chunk_sectors();
        Ok(Usage {
            sectors_allocated: self.next_free * chunk,
            total_sectors: size(&self.disk)? / 512,
            metadata_sectors: (self.current_area + 2) * chunk,
        })
    }

    fn prepare_merge(&mut self) -> Result<Option<MergeRun>, CowError> {
        if !self.valid {
            return Err(CowError::Invalidated);
        }
        // A merge walks the areas back: an area zeroed ahead may hold records again.
        self.zeroed_ahead = None;
        if self.current_committed == 0 {
            if self.current_area == 0 {
                return Ok(None);
            }
            self.current_area -= 1;
            let mut area = std::mem::take(&mut self.area);
            let read =
                super::area::read_area(&self.disk, &self.geometry, self.current_area, &mut area);
            self.area = area;
            read?;
            self.current_committed = self.geometry.exceptions_per_area();
        }
        let decode = |index: u64| {
            Exception::decode_at(&self.area, index).ok_or(CowError::MergeTooMany {
                requested: index + 1,
                available: self.current_committed,
            })
        };
        let last = decode(self.current_committed - 1)?;
        let mut count = 1;
        while count < self.current_committed {
            let e = decode(self.current_committed - 1 - count)?;
            if e.old_chunk.checked_add(count) != Some(last.old_chunk)
                || e.new_chunk.checked_add(count) != Some(last.new_chunk)
            {
                break;
            }
            count += 1;
        }
        Ok(Some(MergeRun {
            last_old_chunk: last.old_chunk,
            last_new_chunk: last.new_chunk,
            count,
        }))
    }

    fn commit_merge(&mut self, count: u64) -> Result<(), CowError> {
        if count > self.current_committed {
            return Err(CowError::MergeTooMany {
                requested: count,
                available: self.current_committed,
            });
        }
        let first = self.current_committed - count;
        let mut merged = Vec::new();
        for index in first..self.current_committed {
            if let Some(e) = Exception::decode_at(&self.area, index) {
                merged.push(e);
            }
            Exception {
                old_chunk: 0,
                new_chunk: 0,
            }
            .encode_at(&mut self.area, index);
        }
        self.write_current_area()?;
        for e in merged {
            self.map.remove(e.old_chunk);
        }
        self.current_committed = first;
        // Only for status, as in the kernel: the merge is done when allocated == metadata.
        self.next_free =
            self.geometry.area_location(self.current_area) + self.current_committed + 1;
        Ok(())
    }
}

/// Read and decode chunk 0's header: `None` for a fresh device.
pub fn read_header(disk: &dyn BlockIo) -> Result<Option<Header>, CowError> {
    let device_bytes = size(disk)?;
    if device_bytes < HEADER_LEN as u64 {
        return Err(CowError::Truncated {
            what: "COW header".into(),
            needed: HEADER_LEN as u64,
            device_bytes,
        });
    }
    let mut bytes = [0u8; HEADER_LEN];
    disk.read_exact_at(&mut bytes, 0)
        .map_err(|e| CowError::io("reading the COW header at byte 0", e))?;
    Header::decode(&bytes)
}

fn chunk_buf_len(geometry: &Geometry) -> Result<usize, CowError> {
    usize::try_from(geometry.chunk_bytes()).map_err(|_| CowError::ChunkSizeTooLarge {
        chunk_size: geometry.chunk_sectors(),
        limit: chunk::KERNEL_MAX_CHUNK_SECTORS,
    })
}

pub(crate) fn size(disk: &dyn BlockIo) -> Result<u64, CowError> {
    disk.size_bytes()
        .map_err(|e| CowError::io("reading the COW device size", e))
}

fn write_durable(disk: &dyn BlockIo, buf: &[u8], offset: u64, what: &str) -> Result<(), CowError> {
    disk.write_durable_at(buf, offset)
        .map_err(|e| CowError::io(format!("{what} at byte {offset}"), e))
}

fn write(disk: &dyn BlockIo, buf: &[u8], offset: u64, what: &str) -> Result<(), CowError> {
    disk.write_all_at(buf, offset)
        .map_err(|e| CowError::io(format!("{what} at byte {offset}"), e))
}

fn flush(disk: &dyn BlockIo, what: &str) -> Result<(), CowError> {
    disk.flush().map_err(|e| CowError::io(what, e))
}
