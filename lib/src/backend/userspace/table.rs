//! A loaded table: typed lines bound to the devices they map onto, and the
//! I/O path that splits a request across them.

use std::io;
use std::sync::Arc;

use crate::dm::{RawLine, StoreKind, TableLine};
use crate::io::BlockIo;

use super::engine::Device;
use super::export::{push_extent, Extent};
use super::lower::Lower;
use super::snapshot::{MergeTarget, OriginTarget, SnapshotCore};

/// How a write goes down to the devices (see [`BlockIo`]'s write methods).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Through {
    Cache,
    Durable,
}

/// A target bound to its devices.
pub(crate) enum Mapped {
    /// `linear`: bytes at `offset` of `dev` onwards.
    Linear { dev: Lower, offset: u64 },
    /// `striped`: `chunk` bytes to each (device, byte offset) in turn.
    Striped { chunk: u64, devs: Vec<(Lower, u64)> },
    /// `zero`.
    Zero,
    /// `error`.
    Error,
    /// `snapshot-origin`.
    Origin(OriginTarget),
    /// `snapshot` (the state is shared with any other table on the same COW).
    Snapshot(Arc<SnapshotCore>),
    /// `snapshot-merge`.
    Merge(MergeTarget),
}

/// One bound line; `start` and `len` in sectors.
pub(crate) struct Line {
    pub(crate) start: u64,
    pub(crate) len: u64,
    pub(crate) target: Mapped,
    /// A snapshot's optional feature arguments, printed back as given.
    pub(crate) features: Vec<String>,
}

/// A table as the engine holds it, live or inactive. Holding a table holds
/// the devices it maps onto open, as the kernel's `dm_get_device` does.
pub(crate) struct Table {
    pub(crate) lines: Vec<Line>,
    held: Vec<Arc<Device>>,
}

fn eio() -> io::Error {
    io::Error::from_raw_os_error(libc::EIO)
}

/// Where bytes `pos..pos+len` of a striped line live, as dm-stripe maps
/// them: chunk `c` goes to stripe `c % n` at row `c / n`. Calls `io` with
/// the stripe, the byte offset on its device and the request range.
fn stripe_pieces(
    chunk: u64,
    devs: &[(Lower, u64)],
    pos: u64,
    range: std::ops::Range<usize>,
    mut io: impl FnMut(&Lower, u64, std::ops::Range<usize>) -> io::Result<()>,
) -> io::Result<()> {
    let n = devs.len() as u64;
    let mut at = pos;
    let mut from = range.start;
    while from < range.end {
        let index = at / chunk;
        let within = at % chunk;
        let (dev, start) = &devs[(index % n) as usize];
        let take = ((chunk - within) as usize).min(range.end - from);
        io(dev, start + (index / n) * chunk + within, from..from + take)?;
        at += take as u64;
        from += take;
    }
    Ok(())
}

impl Table {
    /// Bind `lines`; every engine device among `lowers` gains one opener.
    pub(crate) fn new(lines: Vec<Line>) -> Self {
        let mut held: Vec<Arc<Device>> = Vec::new();
        for line in &lines {
            for lower in line.lowers() {
                if let Lower::Dm(dev) = lower {
                    if !held.iter().any(|h| Arc::ptr_eq(h, dev)) {
                        dev.hold();
                        held.push(dev.clone());
                    }
                }
            }
        }
        Self { lines, held }
    }

    /// Length in sectors.
    pub(crate) fn len_sectors(&self) -> u64 {
        self.lines.last().map_or(0, |l| l.start + l.len)
    }

    /// Call `io` for each line's part of bytes `offset..offset+len`, with the
    /// byte position inside that line and the range of the request it covers.
    fn split(
        &self,
        offset: u64,
        len: usize,
        mut io: impl FnMut(&Line, u64, std::ops::Range<usize>) -> io::Result<()>,
    ) -> io::Result<()> {
        let end = offset.checked_add(len as u64).ok_or_else(eio)?;
        if end > self.len_sectors() * 512 {
            return Err(eio());
        }
        let mut at = offset;
        while at < end {
            let sector = at / 512;
            let index = self
                .lines
                .partition_point(|l| l.start + l.len <= sector)
                .min(self.lines.len().saturating_sub(1));
            let line = &self.lines[index];
            let line_end = (line.start + line.len) * 512;
            let take = line_end.min(end) - at;
            let from = (at - offset) as usize;
            io(line, at - line.start * 512, from..from + take as usize)?;
            at += take;
        }
        Ok(())
    }

    /// Read `buf` at byte `offset`.
    pub(crate) fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.split(offset, buf.len(), |line, pos, range| {
            let piece = &mut buf[range];
            match &line.target {
                Mapped::Linear { dev, offset } => dev.read_exact_at(piece, offset + pos),
                Mapped::Striped { chunk, devs } => {
                    stripe_pieces(*chunk, devs, pos, 0..piece.len(), |dev, at, part| {
                        dev.read_exact_at(&mut piece[part], at)
                    })
                }
                Mapped::Zero => {
                    piece.fill(0);
                    Ok(())
                }
                Mapped::Error => Err(eio()),
                Mapped::Origin(origin) => origin.read(piece, pos),
                Mapped::Snapshot(core) => core.read(piece, pos),
                Mapped::Merge(merge) => merge.read(piece, pos),
            }
        })
    }

    /// Write `data` at byte `offset`.
    pub(crate) fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        self.write_with(data, offset, Through::Cache)
    }

    /// Write `data` at byte `offset`, durable on return: `linear` and
    /// `striped` lines pass the durable write down (these bytes alone); the
    /// other targets write, then flush the devices under their line.
    pub(crate) fn write_durable_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        self.write_with(data, offset, Through::Durable)
    }

    fn write_with(&self, data: &[u8], offset: u64, through: Through) -> io::Result<()> {
        let write = |dev: &Lower, piece: &[u8], at: u64| match through {
            Through::Cache => dev.write_all_at(piece, at),
            Through::Durable => dev.write_durable_at(piece, at),
        };
        self.split(offset, data.len(), |line, pos, range| {
            let piece = &data[range];
            let written = match &line.target {
                Mapped::Linear { dev, offset } => return write(dev, piece, offset + pos),
                Mapped::Striped { chunk, devs } => {
                    return stripe_pieces(*chunk, devs, pos, 0..piece.len(), |dev, at, part| {
                        write(dev, &piece[part], at)
                    })
                }
                Mapped::Zero => Ok(()),
                Mapped::Error => Err(eio()),
                Mapped::Origin(origin) => origin.write(piece, pos),
                Mapped::Snapshot(core) => core.write(piece, pos),
                Mapped::Merge(merge) => merge.write(piece, pos),
            };
            written?;
            if through == Through::Durable {
                for lower in line.lowers() {
                    lower.flush()?;
                }
            }
            Ok(())
        })
    }

    /// Discard: passed down by `linear`, ignored elsewhere (snapshots keep their data).
    pub(crate) fn discard(&self, offset: u64, len: u64) -> io::Result<()> {
        let len = usize::try_from(len).map_err(|_| eio())?;
        self.split(offset, len, |line, pos, range| match &line.target {
            Mapped::Linear { dev, offset } => dev.discard(offset + pos, range.len() as u64),
            Mapped::Striped { chunk, devs } => {
                stripe_pieces(*chunk, devs, pos, 0..range.len(), |dev, at, part| {
                    dev.discard(at, part.len() as u64)
                })
            }
            _ => Ok(()),
        })
    }

    /// How bytes `offset..offset+len` are allocated, line by line.
    pub(crate) fn allocation(&self, offset: u64, len: u64) -> io::Result<Vec<Extent>> {
        let mut runs = Vec::new();
        let len = usize::try_from(len).map_err(|_| eio())?;
        self.split(offset, len, |line, pos, range| {
            let n = range.len() as u64;
            let parts = match &line.target {
                Mapped::Linear { dev, offset } => dev.allocation(offset + pos, n)?,
                Mapped::Striped { chunk, devs } => {
                    let mut parts = Vec::new();
                    stripe_pieces(*chunk, devs, pos, 0..range.len(), |dev, at, part| {
                        parts.extend(dev.allocation(at, part.len() as u64)?);
                        Ok(())
                    })?;
                    parts
                }
                Mapped::Zero => vec![Extent::hole(n)],
                Mapped::Origin(origin) => origin.origin().allocation(pos, n)?,
                Mapped::Snapshot(core) => core.allocation(pos, n)?,
                Mapped::Error | Mapped::Merge(_) => vec![Extent::data(n)],
            };
            for part in parts {
                push_extent(&mut runs, part);
            }
            Ok(())
        })?;
        Ok(runs)
    }

    /// Flush every device the table maps onto.
    pub(crate) fn flush(&self) -> io::Result<()> {
        for line in &self.lines {
            for lower in line.lowers() {
                lower.flush()?;
            }
        }
        Ok(())
    }

    /// The table went live on `owner`.
    pub(crate) fn resumed(&self, owner: &Arc<Device>) {
        for line in &self.lines {
            match &line.target {
                Mapped::Snapshot(core) => core.activate(owner),
                Mapped::Merge(merge) => merge.start(owner),
                _ => {}
            }
        }
    }

    /// The device is about to hold I/O: background work stops.
    pub(crate) fn presuspend(&self) {
        for line in &self.lines {
            if let Mapped::Merge(merge) = &line.target {
                merge.stop();
            }
        }
    }

    /// The lines as `table` prints them.
    pub(crate) fn raw(&self) -> Vec<RawLine> {
        self.lines_with(|line| {
            let mut params = line.target.params();
            if !line.features.is_empty() {
                params.push_str(&format!(
                    " {} {}",
                    line.features.len(),
                    line.features.join(" ")
                ));
            }
            params
        })
    }

    /// The lines as `status` prints them.
    pub(crate) fn status(&self) -> Vec<RawLine> {
        self.lines_with(|line| match &line.target {
            // dm-stripe's: the devices, then one A (alive) per stripe.
            Mapped::Striped { devs, .. } => {
                let names: Vec<String> = devs.iter().map(|(d, _)| d.display()).collect();
                format!(
                    "{} {} 1 {}",
                    devs.len(),
                    names.join(" "),
                    "A".repeat(devs.len())
                )
            }
            Mapped::Snapshot(core) => core.status(),
            Mapped::Merge(merge) => merge.core().status(),
            _ => String::new(),
        })
    }

    /// Each line with the parameter text `params` gives it.
    fn lines_with(&self, params: impl Fn(&Line) -> String) -> Vec<RawLine> {
        self.lines
            .iter()
            .map(|line| RawLine {
                start: line.start,
                length: line.len,
                target_type: line.target.target_type().to_string(),
                params: params(line),
            })
            .collect()
    }

    /// The numbered devices the table maps onto, each once, in table order.
    pub(crate) fn deps(&self) -> Vec<(u32, u32)> {
        let mut deps = Vec::new();
        for line in &self.lines {
            for number in line.lowers().iter().filter_map(|l| l.number()) {
                if !deps.contains(&number) {
                    deps.push(number);
                }
            }
        }
        deps
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        for line in &self.lines {
            if let Mapped::Merge(merge) = &line.target {
                merge.stop();
            }
        }
        for dev in &self.held {
            dev.unhold();
        }
    }
}

impl Line {
    fn lowers(&self) -> Vec<&Lower> {
        match &self.target {
            Mapped::Linear { dev, .. } => vec![dev],
            Mapped::Striped { devs, .. } => devs.iter().map(|(d, _)| d).collect(),
            Mapped::Zero | Mapped::Error => vec![],
            Mapped::Origin(origin) => vec![origin.origin()],
            Mapped::Snapshot(core) => vec![core.origin(), core.cow()],
            Mapped::Merge(merge) => vec![merge.core().origin(), merge.core().cow()],
        }
    }
}

impl Mapped {
    /// The target type name.
    pub(crate) fn target_type(&self) -> &'static str {
        match self {
            Mapped::Linear { .. } => "linear",
            Mapped::Striped { .. } => "striped",
            Mapped::Zero => "zero",
            Mapped::Error => "error",
            Mapped::Origin(_) => "snapshot-origin",
            Mapped::Snapshot(_) => "snapshot",
            Mapped::Merge(_) => "snapshot-merge",
        }
    }

    /// Parameters as the kernel prints a table back.
    fn params(&self) -> String {
        let snapshot_params = |core: &SnapshotCore| {
            let store = match core.kind() {
                StoreKind::Persistent => "P",
                StoreKind::PersistentOverflow => "PO",
                StoreKind::Transient => "N",
            };
            format!(
                "{} {} {} {}",
                core.origin().display(),
                core.cow().display(),
                store,
                core.chunk_sectors()
            )
        };
        match self {
            Mapped::Linear { dev, offset } => format!("{} {}", dev.display(), offset / 512),
            Mapped::Striped { chunk, devs } => {
                let mut text = format!("{} {}", devs.len(), chunk / 512);
                for (dev, offset) in devs {
                    text.push_str(&format!(" {} {}", dev.display(), offset / 512));
                }
                text
            }
            Mapped::Zero | Mapped::Error => String::new(),
            Mapped::Origin(origin) => origin.origin().display(),
            Mapped::Snapshot(core) => snapshot_params(core),
            Mapped::Merge(merge) => snapshot_params(merge.core()),
        }
    }
}

/// Check a parsed table's shape as the kernel does before any constructor runs.
pub(crate) fn check_layout(lines: &[TableLine]) -> Result<(), String> {
    if lines.is_empty() {
        return Err("table is empty".into());
    }
    let mut next = 0u64;
    for line in lines {
        if line.length == 0 {
            return Err(format!("zero-length target at sector {}", line.start));
        }
        if line.start != next {
            return Err(format!(
                "gap or overlap in the table: a target starts at sector {} where {} was expected",
                line.start, next
            ));
        }
        next = line
            .start
            .checked_add(line.length)
            .ok_or("table length overflows")?;
    }
    Ok(())
}

/// The holes and data of bytes `offset..offset+len` of an image file
/// (`SEEK_DATA`/`SEEK_HOLE`; a file system without them answers all data).
pub(crate) fn file_allocation(
    file: &std::fs::File,
    offset: u64,
    len: u64,
) -> io::Result<Vec<Extent>> {
    use std::os::fd::AsRawFd;
    let seek = |at: u64, whence: i32| -> io::Result<Option<u64>> {
        let at = i64::try_from(at).map_err(|_| eio())?;
        // SAFETY: lseek on a descriptor we own; the file offset is not used
        // by our positioned reads and writes.
        let got = unsafe { libc::lseek(file.as_raw_fd(), at, whence) };
        if got >= 0 {
            return Ok(Some(got as u64));
        }
        match io::Error::last_os_error() {
            e if e.raw_os_error() == Some(libc::ENXIO) => Ok(None),
            e => Err(e),
        }
    };
    let end = offset.saturating_add(len);
    let mut runs = Vec::new();
    let mut at = offset;
    while at < end {
        let data = match seek(at, libc::SEEK_DATA) {
            Ok(Some(data)) => data.min(end),
            // No data from here to the end of the file.
            Ok(None) => end,
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                push_extent(&mut runs, Extent::data(end - at));
                break;
            }
            Err(e) => return Err(e),
        };
        if data > at {
            push_extent(&mut runs, Extent::hole(data - at));
            at = data;
            continue;
        }
        let hole = seek(at, libc::SEEK_HOLE)?.unwrap_or(end).min(end);
        push_extent(&mut runs, Extent::data(hole.max(at + 1) - at));
        at = hole.max(at + 1);
    }
    Ok(runs)
}
