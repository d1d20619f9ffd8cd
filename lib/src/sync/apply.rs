//! Apply, verify and inspect streams against a target: a file, a block
//! device, an rlvm LV (`VG/LV`, through its device node) or an
//! `nbd+unix://` URI.
//!
//! Records are checked before they are collected, and collected records are
//! written in batches, so the target only ever receives whole, verified
//! records. With `--snapback` the target's old bytes of a batch are saved
//! (and flushed) before the batch is written. The progress file is updated
//! only after the target was flushed.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::io::{BlockIo, FileDisk};
use crate::names::{dm_name, DmLayer};

use super::error::SyncError;
use super::format::{
    DigestKind, Record, RecordBatch, StreamHeader, StreamKind, StreamReader, StreamWriter, Trailer,
};
use super::nbd::NbdDisk;
use super::progress::{self, RoundProgress, RoundState};

/// Records are read and written in batches of up to this many stream bytes.
const BATCH_BYTES: usize = 8 << 20;
/// The default of [`ApplyOptions::checkpoint_bytes`].
pub const DEFAULT_CHECKPOINT_BYTES: u64 = 256 << 20;
/// The progress file is also brought up to date at least this often.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(5);

/// A target opened for a stream.
pub struct Target {
    label: String,
    disk: Box<dyn BlockIo>,
    /// The file or device behind `disk`, for vectored writes (none for NBD).
    file: Option<File>,
    regular_file: Option<PathBuf>,
    created: bool,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("label", &self.label)
            .finish()
    }
}

impl Target {
    /// Open `spec`: an `nbd+unix://` URI, an existing path, an active rlvm LV
    /// `VG/LV`, or (with `create_bytes`) a new regular file of that size.
    pub fn open(spec: &str, writable: bool, create_bytes: Option<u64>) -> Result<Self, SyncError> {
        if spec.starts_with("nbd+unix://") {
            let disk = NbdDisk::connect(spec)?;
            if writable && disk.read_only() {
                return Err(SyncError::Nbd {
                    uri: spec.into(),
                    reason: "the export is read-only".into(),
                });
            }
            return Ok(Self {
                label: spec.into(),
                disk: Box::new(disk),
                file: None,
                regular_file: None,
                created: false,
            });
        }
        let path = Path::new(spec);
        let open = |p: &Path| {
            if writable {
                FileDisk::open(p)
            } else {
                FileDisk::open_read_only(p)
            }
            .map_err(|e| SyncError::io(format!("opening {}", p.display()), e))
        };
        if path.exists() {
            let disk = open(path)?;
            let regular = disk.file().metadata().map(|m| m.is_file()).unwrap_or(false);
            return Ok(Self {
                label: spec.into(),
                file: disk.file().try_clone().ok(),
                disk: Box::new(disk),
                regular_file: regular.then(|| path.to_path_buf()),
                created: false,
            });
        }
        if let Some(node) = lv_node(spec)? {
            let disk = open(&node)?;
            return Ok(Self {
                label: spec.into(),
                file: disk.file().try_clone().ok(),
                disk: Box::new(disk),
                regular_file: None,
                created: false,
            });
        }
        match create_bytes {
            Some(bytes) => {
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create_new(true)
                    .open(path)
                    .and_then(|f| f.set_len(bytes).map(|()| f))
                    .map_err(|e| SyncError::io(format!("creating {spec}"), e))?;
                drop(file);
                let disk = open(path)?;
                Ok(Self {
                    label: spec.into(),
                    file: disk.file().try_clone().ok(),
                    disk: Box::new(disk),
                    regular_file: Some(path.to_path_buf()),
                    created: true,
                })
            }
            None => Err(SyncError::io(
                format!("opening {spec}"),
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )),
        }
    }

    /// How the target was named.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The device.
    pub fn disk(&self) -> &dyn BlockIo {
        self.disk.as_ref()
    }

    /// The default progress file of this target.
    pub fn default_progress_path(&self) -> PathBuf {
        progress::default_path(
            &self.label,
            self.regular_file.as_deref(),
            &crate::backend::state_dir(),
        )
    }
}

/// `VG/LV` names an active LV: its device node. `None` when `spec` is not of that form or no backend answers.
fn lv_node(spec: &str) -> Result<Option<PathBuf>, SyncError> {
    let Some((vg, lv)) = spec.split_once('/') else {
        return Ok(None);
    };
    if vg.is_empty() || lv.is_empty() || lv.contains('/') || spec.starts_with('.') {
        return Ok(None);
    }
    let Ok(name) = dm_name(vg, lv, DmLayer::Top) else {
        return Ok(None);
    };
    let Ok(backend) = crate::backend::open_backend() else {
        return Ok(None);
    };
    if backend.info(&name).is_err() {
        return Ok(None);
    }
    let node = backend.node_path(&name);
    if !node.exists() {
        backend.mknodes()?;
    }
    Ok(Some(node))
}

/// How `apply` runs.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Continue the interrupted round the progress file records.
    pub resume: bool,
    /// Apply even when the stream does not follow the target's previous round.
    pub force: bool,
    /// Save the target's old bytes of every overwritten chunk here first, as a stream.
    pub snapback: Option<PathBuf>,
    /// The progress file (default: next to the target, see [`Target::default_progress_path`]).
    pub progress_file: Option<PathBuf>,
    /// Data bytes between progress-file updates (each costs a flush of the target).
    pub checkpoint_bytes: u64,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            resume: false,
            force: false,
            snapback: None,
            progress_file: None,
            checkpoint_bytes: DEFAULT_CHECKPOINT_BYTES,
        }
    }
}

/// What an apply did.
#[derive(Debug, Clone)]
pub struct ApplyReport {
    /// The stream's header.
    pub header: StreamHeader,
    /// Its trailer.
    pub trailer: Trailer,
    /// Records written to the target.
    pub written: u64,
    /// Records already on the target from an earlier, interrupted run (checked, not written).
    pub skipped: u64,
    /// The progress file used.
    pub progress_file: PathBuf,
    /// Records saved to the snapback stream.
    pub snapback_records: u64,
}

/// Apply the stream on `input` to `target`, calling `progress` with the data bytes done and planned.
///
/// The input is read on a second thread a few buffers ahead (see [`ReadAhead`]).
pub fn apply<R: Read + Send + 'static>(
    input: R,
    target: &str,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ApplyReport, SyncError> {
    // A batch is written before the next is checked: no bigger than a checkpoint's worth.
    let buffer = options.checkpoint_bytes.min(BATCH_BYTES as u64) as usize;
    let mut reader = StreamReader::with_buffer(ReadAhead::spawn(input), buffer)?;
    let header = reader.header().clone();
    let create =
        (header.kind != StreamKind::Incremental || options.force).then_some(header.origin_bytes);
    let target = match Target::open(target, true, create) {
        Err(SyncError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound && create.is_none() =>
        {
            return Err(SyncError::TargetMismatch {
                target: target.into(),
                reason: "no copy is there, and an incremental stream needs one holding its OLD: apply a full stream first".into(),
            });
        }
        other => other?,
    };
    let label = target.label().to_string();
    let progress_path = options
        .progress_file
        .clone()
        .unwrap_or_else(|| target.default_progress_path());
    let previous = progress::load(&progress_path)?;
    // --resume of a round that never recorded its start is that round from the beginning.
    let fresh_round = previous.as_ref().is_some_and(|p| {
        p.state == RoundState::Done
            && !p.same_stream(&header)
            && check_previous(Some(p), &header, &target).is_ok()
    });
    let (skip_below, records_done) = if options.resume && !fresh_round {
        resume_point(&previous, &header, &label, &progress_path)?
    } else {
        if !options.force {
            check_previous(previous.as_ref(), &header, &target)?;
        }
        (0, 0)
    };
    let disk = target.disk();
    let size = disk
        .size_bytes()
        .map_err(|e| SyncError::io(format!("{label}: size"), e))?;
    if size < header.origin_bytes {
        match &target.regular_file {
            Some(path) if header.kind == StreamKind::Full || options.force => {
                File::options()
                    .write(true)
                    .open(path)
                    .and_then(|f| f.set_len(header.origin_bytes))
                    .map_err(|e| SyncError::io(format!("{label}: growing"), e))?;
            }
            _ => {
                return Err(SyncError::TargetTooSmall {
                    target: label,
                    target_bytes: size,
                    origin_bytes: header.origin_bytes,
                })
            }
        }
    }
    let mut round = RoundProgress::start(&header, skip_below.max(header.start_chunk), records_done);
    let mut snapback = match &options.snapback {
        Some(path) => Some(Snapback::open(
            path,
            &header,
            options.resume,
            options.force,
        )?),
        None => None,
    };
    // Every refusal above comes before the progress file or the target is touched.
    progress::save(&progress_path, &round)?;
    let chunk_bytes = u64::from(header.chunk_bytes);
    let mut skipped = 0u64;
    let mut written = 0u64;
    let mut since_checkpoint = 0u64;
    let mut last_checkpoint = Instant::now();
    let mut done_bytes = 0u64;
    let mut next_chunk = round.next_chunk;
    let mut scratch = Vec::new();
    let result: Result<(), SyncError> = (|| {
        // Each batch holds only whole records whose checks passed; it is written before the next is read.
        while let Some(batch) = reader.next_batch()? {
            let first_new = batch
                .records
                .iter()
                .position(|r| r.chunk >= skip_below)
                .unwrap_or(batch.records.len());
            skipped += first_new as u64;
            let records = &batch.records[first_new..];
            done_bytes += batch.records.iter().map(|r| u64::from(r.len)).sum::<u64>();
            if records.is_empty() {
                progress(done_bytes, header.data_bytes);
                continue;
            }
            if let Some(s) = snapback.as_mut() {
                s.save(records, chunk_bytes, disk, &label)?;
            }
            write_runs(&target, &batch, records, chunk_bytes, &mut scratch)?;
            start_writeback(&target, records, chunk_bytes);
            written += records.len() as u64;
            since_checkpoint += records.iter().map(|r| u64::from(r.len)).sum::<u64>();
            next_chunk = records.last().map_or(next_chunk, |r| r.chunk + 1);
            progress(done_bytes, header.data_bytes);
            if since_checkpoint >= options.checkpoint_bytes
                || last_checkpoint.elapsed() >= CHECKPOINT_EVERY
            {
                checkpoint(
                    disk,
                    &label,
                    &progress_path,
                    &mut round,
                    next_chunk,
                    skipped + written,
                )?;
                since_checkpoint = 0;
                last_checkpoint = Instant::now();
            }
        }
        Ok(())
    })();
    if let Err(error) = result {
        // The whole, verified records written before a bad one are recorded.
        if next_chunk > round.next_chunk {
            let _ = checkpoint(
                disk,
                &label,
                &progress_path,
                &mut round,
                next_chunk,
                skipped + written,
            );
        }
        if let Some(s) = snapback.take() {
            let _ = s.finish();
        }
        return Err(error);
    }
    disk.flush()
        .map_err(|e| SyncError::io(format!("{label}: flushing"), e))?;
    let snapback_records = match snapback.take() {
        Some(s) => s.finish()?,
        None => 0,
    };
    round.state = RoundState::Done;
    round.next_chunk = header.chunk_count();
    round.records_done = skipped + written;
    progress::save(&progress_path, &round)?;
    progress(done_bytes, header.data_bytes);
    Ok(ApplyReport {
        header,
        trailer: reader.trailer().expect("a finished stream has its trailer"),
        written,
        skipped,
        progress_file: progress_path,
        snapback_records,
    })
}

/// Bytes the read-ahead thread gathers (or all there is) before it hands a buffer over.
const READ_AHEAD_BYTES: usize = 4 << 20;
/// Buffers circulating between the read-ahead thread and the applying one.
const READ_AHEAD_BUFFERS: usize = 3;

/// A stream's input read on its own thread, a few buffers ahead: while the
/// applying thread checks and writes, the next bytes are being read (a
/// file's page-cache copy, or a pipe's wait for ssh), and the applying
/// thread's reads become copies from memory. The thread is not joined: if
/// apply stops early it may be waiting on a pipe that never closes, and ends
/// with the process (or at its next read, when nobody takes its buffers).
struct ReadAhead {
    full: mpsc::Receiver<std::io::Result<(Vec<u8>, usize)>>,
    empty: mpsc::Sender<Vec<u8>>,
    current: Option<Vec<u8>>,
    len: usize,
    at: usize,
    done: bool,
}

impl ReadAhead {
    fn spawn<R: Read + Send + 'static>(mut input: R) -> Self {
        let (full_tx, full) = mpsc::sync_channel(READ_AHEAD_BUFFERS - 1);
        let (empty, empty_rx) = mpsc::channel::<Vec<u8>>();
        for _ in 0..READ_AHEAD_BUFFERS {
            let _ = empty.send(Vec::new());
        }
        std::thread::spawn(move || {
            while let Ok(mut buf) = empty_rx.recv() {
                buf.resize(READ_AHEAD_BYTES, 0);
                let mut n = 0;
                let mut eof = false;
                while n < buf.len() {
                    match input.read(&mut buf[n..]) {
                        Ok(0) => {
                            eof = true;
                            break;
                        }
                        // A pipe delivers 64 KiB at a time: a megabyte is worth a hand-over.
                        Ok(k) if n + k >= 1 << 20 => {
                            n += k;
                            break;
                        }
                        Ok(k) => n += k,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let _ = full_tx.send(Err(e));
                            return;
                        }
                    }
                }
                if n > 0 && full_tx.send(Ok((buf, n))).is_err() {
                    return;
                }
                if eof {
                    return;
                }
            }
        });
        Self {
            full,
            empty,
            current: None,
            len: 0,
            at: 0,
            done: false,
        }
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if let Some(buf) = &self.current {
                if self.at < self.len {
                    let n = out.len().min(self.len - self.at);
                    out[..n].copy_from_slice(&buf[self.at..self.at + n]);
                    self.at += n;
                    return Ok(n);
                }
            }
            if self.done {
                return Ok(0);
            }
            if let Some(used) = self.current.take() {
                let _ = self.empty.send(used);
            }
            match self.full.recv() {
                Ok(Ok((buf, len))) => {
                    self.current = Some(buf);
                    self.len = len;
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                // The thread ended: the input's end.
                Err(_) => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
    }
}

/// Most records in one vectored write (the kernel's `IOV_MAX`).
const MAX_SLOTS: usize = 1024;

/// Write `records` (checked, ascending, all of `batch`) to the target: one
/// vectored write per run of consecutive chunks, straight from the stream's
/// buffer; a target without a file (NBD) gets each run gathered first.
fn write_runs(
    target: &Target,
    batch: &RecordBatch<'_>,
    records: &[Record],
    chunk_bytes: u64,
    scratch: &mut Vec<u8>,
) -> Result<(), SyncError> {
    let mut i = 0;
    while i < records.len() {
        let first = records[i].chunk;
        let mut n = 1;
        while i + n < records.len() && n < MAX_SLOTS && records[i + n].chunk == first + n as u64 {
            n += 1;
        }
        let run = &records[i..i + n];
        let offset = first * chunk_bytes;
        let wrote = match &target.file {
            Some(file) => {
                let slices: Vec<&[u8]> = run.iter().map(|r| batch.data(r)).collect();
                write_slices(file, &slices, offset)
            }
            None => {
                scratch.clear();
                for r in run {
                    scratch.extend_from_slice(batch.data(r));
                }
                target.disk.write_all_at(scratch, offset)
            }
        };
        wrote.map_err(|e| {
            SyncError::io(
                format!("{}: writing chunk {first} at byte {offset}", target.label),
                e,
            )
        })?;
        i += n;
    }
    Ok(())
}

/// Ask the kernel to start writing the batch's range out now (without
/// waiting), so the flush at the next checkpoint or the end finds little left
/// to do and the writeback overlaps the reading of the next batches.
fn start_writeback(target: &Target, records: &[Record], chunk_bytes: u64) {
    use std::os::fd::AsRawFd;
    let (Some(file), Some(first), Some(last)) = (&target.file, records.first(), records.last())
    else {
        return;
    };
    let start = first.chunk * chunk_bytes;
    let end = last.chunk * chunk_bytes + u64::from(last.len);
    // Advice only: a failure (an unsupported file system) changes nothing the flush does not.
    // SAFETY: plain integers and a descriptor we own; the call touches none of our memory.
    unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            start as libc::off64_t,
            (end - start) as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

/// Write `slices` back to back at `offset` of `file` with vectored writes (repeated while the device takes less).
fn write_slices(file: &File, slices: &[&[u8]], offset: u64) -> std::io::Result<()> {
    let total: usize = slices.iter().map(|s| s.len()).sum();
    let mut done = 0usize;
    while done < total {
        let mut skip = done;
        let iov: Vec<std::io::IoSlice<'_>> = slices
            .iter()
            .filter_map(|s| {
                if skip >= s.len() {
                    skip -= s.len();
                    return None;
                }
                let part = &s[skip..];
                skip = 0;
                Some(std::io::IoSlice::new(part))
            })
            .collect();
        match nix::sys::uio::pwritev(file, &iov, (offset + done as u64) as libc::off_t) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Flush the target, then record that every chunk below `next_chunk` is on it.
fn checkpoint(
    disk: &dyn BlockIo,
    label: &str,
    path: &Path,
    round: &mut RoundProgress,
    next_chunk: u64,
    records_done: u64,
) -> Result<(), SyncError> {
    disk.flush()
        .map_err(|e| SyncError::io(format!("{label}: flushing"), e))?;
    round.next_chunk = next_chunk;
    round.records_done = records_done;
    progress::save(path, round)
}

/// Where a resumed apply starts writing: below it every record is on the target.
fn resume_point(
    previous: &Option<RoundProgress>,
    header: &StreamHeader,
    label: &str,
    path: &Path,
) -> Result<(u64, u64), SyncError> {
    let cannot = |reason: String| SyncError::CannotResume {
        target: label.into(),
        reason,
    };
    let p = previous
        .as_ref()
        .ok_or_else(|| cannot(format!("no progress file at {}", path.display())))?;
    if !p.same_stream(header) {
        return Err(cannot(format!(
            "the recorded round is {} from {} to {}, this stream is {} from {} to {}",
            p.kind.as_str(),
            p.old.describe(),
            p.new.describe(),
            header.kind.as_str(),
            header.old.describe(),
            header.new.describe()
        )));
    }
    let next = match p.state {
        RoundState::Done => header.chunk_count(),
        RoundState::Applying => p.next_chunk,
    };
    if header.start_chunk > next {
        return Err(cannot(format!(
            "the stream starts at chunk {}, but only chunks below {next} are on the target (export with --from-chunk {next})",
            header.start_chunk
        )));
    }
    Ok((next, p.records_done))
}

/// Refuse a stream that does not follow the target's previous round.
fn check_previous(
    previous: Option<&RoundProgress>,
    header: &StreamHeader,
    target: &Target,
) -> Result<(), SyncError> {
    let refuse = |reason: String| SyncError::TargetMismatch {
        target: target.label().into(),
        reason,
    };
    if header.start_chunk > 0 {
        return Err(refuse(format!(
            "the stream starts at chunk {}: it is the rest of an interrupted round, apply it with --resume",
            header.start_chunk
        )));
    }
    let Some(p) = previous else {
        if header.kind == StreamKind::Incremental && target.created {
            return Err(refuse(
                "a new target holds no earlier round: apply a full stream first".into(),
            ));
        }
        return Ok(());
    };
    if p.source != header.source {
        return Err(refuse(format!(
            "its previous round was of {}/{} ({}), this stream is of {}/{} ({})",
            p.source.vg_name,
            p.source.lv_name,
            p.source.lv_uuid,
            header.source.vg_name,
            header.source.lv_name,
            header.source.lv_uuid
        )));
    }
    if p.origin_bytes != header.origin_bytes {
        return Err(refuse(format!(
            "its previous round was of a {}-byte volume, this stream of {} bytes",
            p.origin_bytes, header.origin_bytes
        )));
    }
    match p.state {
        RoundState::Applying if !p.same_stream(header) => Err(refuse(format!(
            "a round to {} was interrupted; finish it with --resume first",
            p.new.describe()
        ))),
        RoundState::Applying => Ok(()),
        RoundState::Done if header.kind == StreamKind::Full => Ok(()),
        RoundState::Done => {
            let follows = header.old == p.new;
            let replay = header.old == p.old && header.new == p.new;
            if follows || replay {
                Ok(())
            } else {
                Err(refuse(format!(
                    "the stream starts from {}, the target holds {}",
                    header.old.describe(),
                    p.new.describe()
                )))
            }
        }
    }
}

/// The snapback stream being written: the target's old bytes of each chunk before it is overwritten.
struct Snapback {
    path: PathBuf,
    writer: StreamWriter<BufWriter<File>>,
    /// Chunks up to this one are saved already (from an interrupted run).
    saved_through: Option<u64>,
}

impl Snapback {
    fn header(stream: &StreamHeader) -> StreamHeader {
        StreamHeader {
            kind: StreamKind::Snapback,
            start_chunk: 0,
            old: stream.new.clone(),
            new: stream.old.clone(),
            ..stream.clone()
        }
    }

    fn open(
        path: &Path,
        stream: &StreamHeader,
        resume: bool,
        force: bool,
    ) -> Result<Self, SyncError> {
        let header = Self::header(stream);
        let io = |what: &str, e| SyncError::io(format!("{what} {}", path.display()), e);
        let part = path.with_extension("part");
        let create = |p: &Path| {
            File::create(p)
                .map(|f| BufWriter::with_capacity(1 << 20, f))
                .map_err(|e| io("creating", e))
        };
        if !resume || !path.exists() {
            if path.exists() && !force {
                return Err(SyncError::TargetMismatch {
                    target: path.display().to_string(),
                    reason: "a snapback file is already there (it may be the only undo of an earlier round)".into(),
                });
            }
            return Ok(Self {
                path: path.to_path_buf(),
                writer: StreamWriter::new(create(path)?, header)?,
                saved_through: None,
            });
        }
        // Resume: keep every whole record of the interrupted run's snapback, rewritten
        // into a fresh stream that then goes on; the old file stays until the copy is durable.
        let old = File::open(path).map_err(|e| io("opening", e))?;
        let mut reader = match StreamReader::new(old) {
            Ok(reader) => reader,
            // Its header never reached the disk, so neither did any target write after it.
            Err(SyncError::Truncated { .. }) => {
                return Ok(Self {
                    path: path.to_path_buf(),
                    writer: StreamWriter::new(create(path)?, header)?,
                    saved_through: None,
                })
            }
            Err(e) => return Err(e),
        };
        if reader.header().old != header.old || reader.header().source != header.source {
            return Err(SyncError::CannotResume {
                target: path.display().to_string(),
                reason: "the snapback file is of another round".into(),
            });
        }
        let mut writer = StreamWriter::new(create(&part)?, header)?;
        let mut data = Vec::new();
        let mut saved_through = None;
        while let Ok(Some(record)) = reader.next_record(&mut data) {
            writer.write_record(record.chunk, &data)?;
            saved_through = Some(record.chunk);
        }
        let mut s = Self {
            path: path.to_path_buf(),
            writer,
            saved_through,
        };
        s.sync()?;
        std::fs::rename(&part, path).map_err(|e| io("replacing", e))?;
        Ok(s)
    }

    fn save(
        &mut self,
        records: &[Record],
        chunk_bytes: u64,
        disk: &dyn BlockIo,
        label: &str,
    ) -> Result<(), SyncError> {
        let mut old = Vec::new();
        for &Record { chunk, len, .. } in records {
            let len = len as usize;
            if self.saved_through.is_some_and(|s| chunk <= s) {
                continue;
            }
            old.resize(len, 0);
            disk.read_exact_at(&mut old, chunk * chunk_bytes)
                .map_err(|e| {
                    SyncError::io(
                        format!("{label}: reading chunk {chunk} for the snapback"),
                        e,
                    )
                })?;
            self.writer.write_record(chunk, &old)?;
            self.saved_through = Some(chunk);
        }
        self.sync()
    }

    fn sync(&mut self) -> Result<(), SyncError> {
        let out = self.writer.get_mut();
        out.flush()
            .and_then(|()| out.get_ref().sync_data())
            .map_err(|e| SyncError::io(format!("writing {}", self.path.display()), e))
    }

    fn finish(self) -> Result<u64, SyncError> {
        let records = self.writer.records();
        let path = self.path;
        let (_, out) = self.writer.finish()?;
        out.get_ref()
            .sync_data()
            .map_err(|e| SyncError::io(format!("writing {}", path.display()), e))?;
        Ok(records)
    }
}

/// The progress file of `target` (or `progress_file`) and what it records; `None` when there is none yet.
pub fn progress_of(
    target: &str,
    progress_file: Option<&Path>,
) -> Result<(PathBuf, Option<RoundProgress>), SyncError> {
    let path = match progress_file {
        Some(p) => p.to_path_buf(),
        None => Target::open(target, false, None)?.default_progress_path(),
    };
    let recorded = progress::load(&path)?;
    Ok((path, recorded))
}

/// What `verify` found.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    /// The stream's header.
    pub header: StreamHeader,
    /// Its trailer.
    pub trailer: Trailer,
    /// Records compared.
    pub records: u64,
}

/// Check the stream and that `target` holds every record's bytes.
pub fn verify<R: Read>(input: R, target: &str) -> Result<VerifyReport, SyncError> {
    let mut reader = StreamReader::new(input)?;
    let header = reader.header().clone();
    let target = Target::open(target, false, None)?;
    let chunk_bytes = u64::from(header.chunk_bytes);
    let mut data = Vec::new();
    let mut on_target = Vec::new();
    let mut mismatched = 0u64;
    let mut first_chunk = None;
    while let Some(record) = reader.next_record(&mut data)? {
        on_target.resize(data.len(), 0);
        target
            .disk()
            .read_exact_at(&mut on_target, record.chunk * chunk_bytes)
            .map_err(|e| {
                SyncError::io(
                    format!("{}: reading chunk {}", target.label(), record.chunk),
                    e,
                )
            })?;
        if on_target != data {
            mismatched += 1;
            first_chunk.get_or_insert(record.chunk);
        }
    }
    let records = reader.records();
    if let Some(first_chunk) = first_chunk {
        return Err(SyncError::Differs {
            target: target.label().into(),
            mismatched,
            records,
            first_chunk,
        });
    }
    Ok(VerifyReport {
        header,
        trailer: reader.trailer().expect("a finished stream has its trailer"),
        records,
    })
}

/// What `info` reports of a stream.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StreamInfo {
    /// The header.
    pub header: StreamHeader,
    /// The stream's format version.
    pub version: u32,
    /// The digest's algorithm (fixed by the version).
    pub digest_kind: DigestKind,
    /// Records read.
    pub records: u64,
    /// Data bytes in them.
    pub data_bytes: u64,
    /// Stream bytes in all.
    pub stream_bytes: u64,
    /// The trailer's digest, hex.
    pub digest: String,
}

/// Read a whole stream, checking every record and the trailer.
pub fn info<R: Read>(input: R) -> Result<StreamInfo, SyncError> {
    let mut reader = StreamReader::new(input)?;
    while reader.next_batch()?.is_some() {}
    let trailer = reader.trailer().expect("a finished stream has its trailer");
    Ok(StreamInfo {
        header: reader.header().clone(),
        version: reader.version(),
        digest_kind: trailer.digest_kind,
        records: reader.records(),
        data_bytes: reader.data_bytes(),
        stream_bytes: reader.offset(),
        digest: trailer.digest_hex(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemDisk;
    use crate::sync::export::ExportPlan;
    use crate::sync::format::{SnapshotIdentity, SourceVolume};

    const CHUNK: u32 = 4096;
    const SIZE: usize = 64 * 4096 + 1000;

    fn header(kind: StreamKind, old: &str, new: &str) -> StreamHeader {
        let id = |n: &str| SnapshotIdentity {
            name: n.into(),
            uuid: format!("{n}-uuid"),
            creation_time: 1,
        };
        StreamHeader {
            kind,
            chunk_bytes: CHUNK,
            origin_bytes: SIZE as u64,
            start_chunk: 0,
            records: 0,
            data_bytes: 0,
            source: SourceVolume {
                vg_name: "vg".into(),
                vg_uuid: "vgu".into(),
                lv_name: "lv".into(),
                lv_uuid: "lvu".into(),
            },
            old: if old.is_empty() {
                SnapshotIdentity::default()
            } else {
                id(old)
            },
            new: id(new),
        }
    }

    /// A stream as `apply`'s input, which it reads on its own thread.
    fn owned(stream: &[u8]) -> std::io::Cursor<Vec<u8>> {
        std::io::Cursor::new(stream.to_vec())
    }

    fn stream(h: StreamHeader, volume: &[u8], chunks: Vec<u64>) -> Vec<u8> {
        let plan = ExportPlan::new(h, chunks, Box::new(MemDisk::from_bytes(volume.to_vec())));
        let mut out = Vec::new();
        plan.write_to(&mut out, &mut |_| {}).unwrap();
        out
    }

    #[test]
    fn rounds_snapback_and_a_bad_record() {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("copy.img");
        let target = copy.to_str().unwrap();
        let v1: Vec<u8> = (0..SIZE).map(|i| (i * 7 % 251) as u8).collect();
        let full = stream(header(StreamKind::Full, "", "s1"), &v1, (0..65).collect());
        let opts = ApplyOptions::default();
        // An incremental stream cannot start a new copy.
        let mut v2 = v1.clone();
        v2[5 * 4096..6 * 4096].fill(0xee);
        v2[SIZE - 10..].fill(0xdd);
        let inc = stream(
            header(StreamKind::Incremental, "s1", "s2"),
            &v2,
            vec![5, 64],
        );
        assert!(matches!(
            apply(owned(&inc), target, &opts, &mut |_, _| {}),
            Err(SyncError::TargetMismatch { .. })
        ));
        apply(owned(&full), target, &opts, &mut |_, _| {}).unwrap();
        assert_eq!(std::fs::read(&copy).unwrap(), v1);
        // A damaged second record: the first is written, nothing of the second.
        let mut bad = inc.clone();
        let n = bad.len();
        bad[n - 60 - 5] ^= 1;
        let err = apply(owned(&bad), target, &opts, &mut |_, _| {}).unwrap_err();
        assert!(
            matches!(
                err,
                SyncError::RecordChecksum {
                    record: 1,
                    chunk: 64,
                    ..
                }
            ),
            "{err}"
        );
        let now = std::fs::read(&copy).unwrap();
        assert_eq!(now[5 * 4096..6 * 4096], v2[5 * 4096..6 * 4096]);
        assert_eq!(now[SIZE - 10..], v1[SIZE - 10..]);
        // The whole stream with a snapback, then the snapback undoes it.
        let undo = dir.path().join("undo");
        let with_snapback = ApplyOptions {
            snapback: Some(undo.clone()),
            force: true,
            ..ApplyOptions::default()
        };
        std::fs::write(&copy, &v1).unwrap();
        let report = apply(owned(&inc), target, &with_snapback, &mut |_, _| {}).unwrap();
        assert_eq!((report.written, report.snapback_records), (2, 2));
        assert_eq!(std::fs::read(&copy).unwrap(), v2);
        let undo_stream = std::fs::read(&undo).unwrap();
        apply(owned(&undo_stream), target, &opts, &mut |_, _| {}).unwrap();
        assert_eq!(std::fs::read(&copy).unwrap(), v1);
        verify(&full[..], target).unwrap();
        assert!(matches!(
            verify(&inc[..], target),
            Err(SyncError::Differs { mismatched: 2, .. })
        ));
        assert_eq!(info(&inc[..]).unwrap().records, 2);
    }

    /// A version 1 stream, written by the build before the format change:
    /// vg/base of 4 MiB from snapshot s1 (4 KiB chunks) to s2, two chunks changed.
    const V1_STREAM: &[u8] = include_bytes!("testdata/v1-incremental.rlvsync");

    #[test]
    fn a_version_1_stream_still_applies_verifies_and_reports() {
        let size = 4usize << 20;
        let old: Vec<u8> = (0..size)
            .map(|i| ((i * 7 + i / 4096) % 251) as u8)
            .collect();
        let mut new = old.clone();
        new[4096 * 3 + 5..4096 * 3 + 13].copy_from_slice(b"changed!");
        new[4096 * 700..4096 * 700 + 5].copy_from_slice(b"again");
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("copy.img");
        let target = copy.to_str().unwrap();
        std::fs::write(&copy, &old).unwrap();
        let report = apply(V1_STREAM, target, &ApplyOptions::default(), &mut |_, _| {}).unwrap();
        assert_eq!(report.written, 2);
        assert!(std::fs::read(&copy).unwrap() == new, "the copy is not s2");
        assert_eq!(verify(V1_STREAM, target).unwrap().records, 2);
        let v1 = info(V1_STREAM).unwrap();
        assert_eq!((v1.version, v1.digest_kind), (1, DigestKind::Blake3));
        assert_eq!(
            v1.digest,
            "c83ed92f1b7fe8d0db3ba0fab8a02c490b5e8fa68acd5ad9436dc8aa951e8e51"
        );
        // Its BLAKE3 digest is checked: a changed digest (trailer checksum made to match) is refused.
        let mut bad = V1_STREAM.to_vec();
        let trailer = bad.len() - 60;
        bad[trailer + 30] ^= 1;
        let crc = crate::sync::format::crc32c(&[&bad[trailer..trailer + 56]]);
        bad[trailer + 56..].copy_from_slice(&crc.to_le_bytes());
        let err = info(&bad[..]).unwrap_err();
        assert!(err.to_string().contains("digest mismatch"), "{err}");
        // What this build writes is version 2, with its XXH3-128 digest checked the same way.
        let v2 = stream(
            header(StreamKind::Full, "", "s1"),
            &old[..SIZE],
            (0..65).collect(),
        );
        let got = info(&v2[..]).unwrap();
        assert_eq!(
            (got.version, got.digest_kind, got.digest.len()),
            (2, DigestKind::Xxh3_128, 32)
        );
        let mut bad = v2.clone();
        let trailer = bad.len() - 60;
        bad[trailer + 30] ^= 1;
        let crc = crate::sync::format::crc32c(&[&bad[trailer..trailer + 56]]);
        bad[trailer + 56..].copy_from_slice(&crc.to_le_bytes());
        assert!(
            info(&bad[..]).is_err(),
            "a non-zero padding byte was accepted"
        );
        bad[trailer + 30] ^= 1;
        bad[trailer + 24] ^= 1;
        let crc = crate::sync::format::crc32c(&[&bad[trailer..trailer + 56]]);
        bad[trailer + 56..].copy_from_slice(&crc.to_le_bytes());
        let err = info(&bad[..]).unwrap_err();
        assert!(err.to_string().contains("digest mismatch"), "{err}");
    }
}
