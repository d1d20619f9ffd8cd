//! Measures the userspace engine's data path against the raw file system it
//! sits on, in one run, with every file in one directory on one file system,
//! every path equally durable: each write request is followed by a flush
//! (`fdatasync` of the raw file; the device's flush in the engine, as a
//! client of a block device with a write cache must do).
//!
//! - raw: sequential 1 MiB `pwrite` + `fdatasync` into a fresh sparse file
//!   (the baseline of the COW writes, which allocate too), buffered and
//!   with `O_DIRECT` (the faster of the two is the baseline, so the bound
//!   is what the disk allows whichever way it is written); the same again
//!   over the now allocated file (the baseline of overwrites, which land on
//!   the allocated origin); reading it back cold;
//! - the engine (origin linear over an image file, 1 or 4 snapshots each on
//!   its own sparse COW image, chunks of 4 KiB and 64 KiB): origin first
//!   writes (every chunk is copied out), origin overwrites of chunks already
//!   copied, snapshot reads (every chunk from the COW), each in-process and
//!   through the FUSE mapper files and an NBD connection.
//!
//! Like for like: a group of cells (chunk size, snapshot count) sets up a
//! stack per route and a fresh raw file side by side, then runs each phase
//! interleaved, 8 MiB slice by slice (smaller when a snapshot's share is):
//! the raw file's slice, then each route's, the order turning by one every
//! slice. Every figure of a ratio is thus taken over the same minutes, on
//! the same threads' placement luck: this VM's disk interrupts land on one
//! vCPU and a flush from the other is 1.2-5x slower, so routes measured
//! minutes apart (as this bench did before) could not resolve 20 %. Threads
//! are not pinned; interleaving gives every route the same mix of placements
//! without hiding the engine's own worker threads' cost.
//!
//! A first write with n snapshots moves one read of the origin chunk and
//! n + 1 writes (n COW chunks, one origin), plus the metadata: its physical
//! bound is `1 / (1/read + n/write + 1/overwrite)` of the raw figures, which
//! the table prints beside each first-write cell (the in-process target is
//! 0.8 of it). Overwrites and snapshot reads are compared with the raw
//! overwrite and read (target 0.9), FUSE and NBD with in-process (target 0.8).
//!
//! What FUSE and NBD cost on their own is measured first, through each
//! export to a device that keeps nothing; a FUSE or NBD row's bound is the
//! in-process time of its request plus that cost, the most its transport
//! allows (its target stays 0.8 of in-process).
//!
//! Every phase moves the same bytes in 1 MiB requests, one at a time. Before
//! each phase the files are flushed and dropped from the page cache, so reads
//! come from the disk as a block device's do, and the origin reads of a
//! copy-out too. Nothing asserts a timing; every byte read is checked, and a
//! wrong one exits non-zero.
//!
//! `cargo bench -p rlvm --bench engine` (256 MiB a phase); `RLVM_BENCH_QUICK=1`
//! or `--quick` for a CI-sized run (8 MiB a phase); `RLVM_BENCH_DIR` picks the
//! directory (default: cargo's temporary directory under the target
//! directory, else `/var/tmp`; never a tmpfs `/tmp` by accident).
//! `RLVM_BENCH_CHUNKS=4,64`, `RLVM_BENCH_SNAPSHOTS=1,4` and
//! `RLVM_BENCH_ROUTES=in-process,FUSE,NBD` pick a part of the cells;
//! `RLVM_BENCH_MIB=N` sets the size of a phase (rounded up to 4 MiB).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rlvm::backend::userspace::export::{self, DeviceSet, ExportInfo, OpenDevice};
use rlvm::backend::userspace::Engine;
use rlvm::dm::{parse_table, StoreKind, TableLine};
use rlvm::io::AlignedBuf;
use rlvm::ops::{self, DeviceSpec, OriginSpec, SnapshotSpec};

const MIB: u64 = 1 << 20;
/// Request size of every phase.
const REQ: usize = 1 << 20;
/// Granularity of the stamped pattern.
const BLOCK: usize = 4096;

/// Tags of the three generations of data.
const BEFORE: u64 = 0xA;
const FIRST: u64 = 0xB;
const SECOND: u64 = 0xC;

/// A 4 KiB block at byte `offset` of generation `tag`: its offset and tag,
/// then a byte derived from the tag, so a misplaced or stale block shows.
fn fill(buf: &mut [u8], tag: u64) {
    buf.fill((tag as u8).wrapping_mul(37) ^ 0x5a);
}

fn stamp(buf: &mut [u8], offset: u64, tag: u64) {
    for (i, block) in buf.chunks_mut(BLOCK).enumerate() {
        block[..8].copy_from_slice(&(offset + (i * BLOCK) as u64).to_le_bytes());
        block[8..16].copy_from_slice(&tag.to_le_bytes());
    }
}

/// The first 4 KiB block of `buf` (read at `offset`) that is not generation `tag`.
fn check(buf: &[u8], offset: u64, tag: u64, what: &str) -> Result<(), String> {
    let mut expected = vec![0u8; BLOCK];
    fill(&mut expected, tag);
    for (i, block) in buf.chunks(BLOCK).enumerate() {
        let at = offset + (i * BLOCK) as u64;
        stamp(&mut expected, at, tag);
        if block != &expected[..block.len()] {
            let got_at = u64::from_le_bytes(block[..8].try_into().unwrap_or_default());
            let got_tag = u64::from_le_bytes(block[8..16].try_into().unwrap_or_default());
            return Err(format!(
                "{what}: wrong bytes at offset {at}: expected generation {tag:#x} of offset {at}, \
                 found a block stamped generation {got_tag:#x} of offset {got_at}"
            ));
        }
    }
    Ok(())
}

/// Byte-addressed I/O the way each path offers it.
trait Dev {
    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()>;
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    fn flush(&mut self) -> io::Result<()>;
}

/// A plain file (the raw baseline) or a FUSE mapper file.
impl Dev for File {
    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.write_all_at(buf, offset)
    }
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.read_exact_at(buf, offset)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.sync_data()
    }
}

/// The engine in-process.
struct InProcess(Arc<dyn OpenDevice>);

impl Dev for InProcess {
    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.0.write_at(buf, offset)
    }
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.0.read_at(buf, offset)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// A minimal NBD client: fixed newstyle, NBD_OPT_GO, simple replies, one
/// request in flight (as the other paths have).
struct Nbd {
    stream: UnixStream,
    header: Vec<u8>,
    cookie: u64,
}

const NBD_REQUEST_MAGIC: u32 = 0x2560_9513;
const NBD_SIMPLE_REPLY_MAGIC: u32 = 0x6744_6698;
const NBD_OPT_REPLY_MAGIC: u64 = 0x0003_e889_0455_65a9;
const IHAVEOPT: u64 = 0x4948_4156_454f_5054;

fn proto(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

impl Nbd {
    fn connect(socket: &Path, export: &str) -> io::Result<Self> {
        let mut stream = UnixStream::connect(socket)?;
        let mut hello = [0u8; 18];
        stream.read_exact(&mut hello)?;
        if hello[..8] != 0x4e42_444d_4147_4943u64.to_be_bytes()
            || hello[8..16] != IHAVEOPT.to_be_bytes()
        {
            return Err(proto("not an NBD newstyle server"));
        }
        // Fixed newstyle, no zeroes.
        stream.write_all(&3u32.to_be_bytes())?;
        let mut opt = Vec::new();
        opt.extend_from_slice(&IHAVEOPT.to_be_bytes());
        opt.extend_from_slice(&7u32.to_be_bytes()); // NBD_OPT_GO
        opt.extend_from_slice(&(4 + export.len() as u32 + 2).to_be_bytes());
        opt.extend_from_slice(&(export.len() as u32).to_be_bytes());
        opt.extend_from_slice(export.as_bytes());
        opt.extend_from_slice(&0u16.to_be_bytes());
        stream.write_all(&opt)?;
        loop {
            let mut reply = [0u8; 20];
            stream.read_exact(&mut reply)?;
            if reply[..8] != NBD_OPT_REPLY_MAGIC.to_be_bytes() {
                return Err(proto("bad option reply magic"));
            }
            let kind = u32::from_be_bytes(reply[12..16].try_into().unwrap_or_default());
            let len = u32::from_be_bytes(reply[16..20].try_into().unwrap_or_default());
            let mut data = vec![0u8; len as usize];
            stream.read_exact(&mut data)?;
            match kind {
                1 => break,    // ACK: transmission begins
                3 => continue, // INFO
                _ => {
                    return Err(proto(format!(
                        "NBD_OPT_GO {export}: error reply {kind:#x}: {}",
                        String::from_utf8_lossy(&data)
                    )))
                }
            }
        }
        // A whole 1 MiB write fits the socket's send buffer (as a kernel
        // NBD client's socket does), so it leaves in one call instead of a
        // sleep and a wake-up per default-sized (208 KiB) buffer-full.
        set_send_buffer(&stream, 2 * REQ);
        Ok(Self {
            stream,
            header: vec![0u8; 28],
            cookie: 0,
        })
    }

    fn request(&mut self, kind: u16, offset: u64, len: usize) -> io::Result<()> {
        self.request_with(kind, offset, len, &[])
    }

    /// Send a request header and its payload together.
    fn request_with(
        &mut self,
        kind: u16,
        offset: u64,
        len: usize,
        payload: &[u8],
    ) -> io::Result<()> {
        self.cookie += 1;
        let h = &mut self.header;
        h[..4].copy_from_slice(&NBD_REQUEST_MAGIC.to_be_bytes());
        h[4..6].copy_from_slice(&0u16.to_be_bytes());
        h[6..8].copy_from_slice(&kind.to_be_bytes());
        h[8..16].copy_from_slice(&self.cookie.to_be_bytes());
        h[16..24].copy_from_slice(&offset.to_be_bytes());
        h[24..28].copy_from_slice(&(len as u32).to_be_bytes());
        let mut parts = [io::IoSlice::new(&self.header), io::IoSlice::new(payload)];
        let mut parts = &mut parts[..];
        while !parts.is_empty() {
            match self.stream.write_vectored(parts) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => io::IoSlice::advance_slices(&mut parts, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn reply(&mut self) -> io::Result<()> {
        let mut r = [0u8; 16];
        self.stream.read_exact(&mut r)?;
        if r[..4] != NBD_SIMPLE_REPLY_MAGIC.to_be_bytes() || r[8..] != self.cookie.to_be_bytes() {
            return Err(proto("bad NBD reply"));
        }
        match u32::from_be_bytes(r[4..8].try_into().unwrap_or_default()) {
            0 => Ok(()),
            e => Err(proto(format!("NBD error {e}"))),
        }
    }
}

impl Dev for Nbd {
    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.request_with(1, offset, buf.len(), buf)?;
        self.reply()
    }
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.request(0, offset, buf.len())?;
        self.reply()?;
        self.stream.read_exact(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.request(3, 0, 0)?;
        self.reply()
    }
}

impl Drop for Nbd {
    fn drop(&mut self) {
        let _ = self.request(2, 0, 0); // NBD_CMD_DISC
    }
}

/// Best effort: the kernel caps it at `net.core.wmem_max`, and any size works.
fn set_send_buffer(stream: &UnixStream, bytes: usize) {
    use std::os::fd::AsRawFd;
    let value = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: setsockopt on a socket we own, with a pointer to a live c_int
    // and its size.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// A 1 MiB request buffer that starts on a page, as dd's, fio's and the
/// kernel's are: a `Vec` starts 16 bytes into a page, spans 257 pages, and
/// FUSE (at most 256 pages a request) then splits every request in two.
fn request_buffer() -> AlignedBuf {
    AlignedBuf::zeroed(REQ)
}

/// Write generation `tag` over `range` of `dev` in 1 MiB requests, each
/// followed by a flush; the time spent in the requests and flushes
/// (stamping excluded).
fn timed_write(dev: &mut dyn Dev, range: std::ops::Range<u64>, tag: u64) -> io::Result<Duration> {
    let mut backing = request_buffer();
    let buf = &mut backing[..];
    fill(buf, tag);
    let mut spent = Duration::ZERO;
    for offset in range.step_by(REQ) {
        stamp(buf, offset, tag);
        let start = Instant::now();
        dev.write_at(buf, offset)?;
        dev.flush()?;
        spent += start.elapsed();
    }
    Ok(spent)
}

/// Read `offset..offset+len` of `dev` in 1 MiB requests, checking every
/// block is generation `tag`; the time spent in the requests.
fn timed_read(
    dev: &mut dyn Dev,
    range: std::ops::Range<u64>,
    tag: u64,
    what: &str,
) -> Result<Duration, String> {
    let mut backing = request_buffer();
    let buf = &mut backing[..];
    let mut spent = Duration::ZERO;
    for offset in range.step_by(REQ) {
        let start = Instant::now();
        dev.read_at(buf, offset)
            .map_err(|e| format!("{what}: read at {offset}: {e}"))?;
        spent += start.elapsed();
        check(buf, offset, tag, what)?;
    }
    Ok(spent)
}

fn mib_s(bytes: u64, spent: Duration) -> f64 {
    bytes as f64 / MIB as f64 / spent.as_secs_f64()
}

/// Flush every file directly in `dir` and drop it from the page cache.
fn evict(dir: &Path) -> Result<(), String> {
    use std::os::fd::AsRawFd;
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let file = File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        file.sync_data()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        // SAFETY: an advisory call on a descriptor we own; no memory is passed.
        let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        if rc != 0 {
            return Err(format!(
                "{}: posix_fadvise: {}",
                path.display(),
                io::Error::from_raw_os_error(rc)
            ));
        }
    }
    Ok(())
}

/// Raw baselines in MiB/s.
#[derive(Clone, Copy)]
struct Raw {
    write: f64,
    /// The same new-file writes with `O_DIRECT`, when the file system
    /// takes it (the bound uses the faster of the two).
    direct_write: Option<f64>,
    overwrite: f64,
    read: f64,
}

impl Raw {
    /// The faster way to write fresh space: what the disk allows a COW write.
    fn best_write(&self) -> f64 {
        self.direct_write.map_or(self.write, |d| d.max(self.write))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Route {
    InProcess,
    Fuse,
    Nbd,
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Route::InProcess => "in-process",
            Route::Fuse => "FUSE",
            Route::Nbd => "NBD",
        }
    }
}

/// One engine with `vg-base` (snapshot-origin over a linear image) and
/// snapshots `vg-s0..` on their own COW images, in a directory of its own.
struct Stack {
    engine: Engine,
    snapshots: usize,
    dir: tempfile::TempDir,
}

fn lines(table: &str) -> Result<Vec<TableLine>, String> {
    parse_table(table).map_err(|e| format!("table {table:?}: {e}"))
}

impl Stack {
    fn new(parent: &Path, total: u64, snapshots: usize, chunk: u32) -> Result<Self, String> {
        let dir = tempfile::tempdir_in(parent).map_err(|e| format!("temp dir: {e}"))?;
        let engine = Engine::new(&dir.path().join("mapper"));
        let base = dir.path().join("base.img");
        let io_err = |path: &Path, e: io::Error| format!("{}: {e}", path.display());
        // The origin's old content, durable before anything is timed.
        let mut file = File::create(&base).map_err(|e| io_err(&base, e))?;
        timed_write(&mut file, 0..total, BEFORE).map_err(|e| io_err(&base, e))?;
        drop(file);
        let origin = OriginSpec {
            top: DeviceSpec {
                name: "vg-base".into(),
                uuid: "LVM-bench-base".into(),
                table: lines(&format!("0 {} linear {} 0", total / 512, base.display()))?,
                read_only: false,
            },
            real_name: "vg-base-real".into(),
            real_uuid: "LVM-bench-base-real".into(),
        };
        // Room for every chunk, one metadata area per (chunk / 16) chunks, the header and slack.
        let chunk_bytes = u64::from(chunk) * 512;
        let per_area = chunk_bytes / 16;
        let cow_bytes = total + (total / chunk_bytes / per_area + 4) * chunk_bytes;
        for i in 0..snapshots {
            let cow = dir.path().join(format!("cow{i}.img"));
            let file = File::create(&cow).map_err(|e| io_err(&cow, e))?;
            file.set_len(cow_bytes).map_err(|e| io_err(&cow, e))?;
            let spec = SnapshotSpec {
                name: format!("vg-s{i}"),
                uuid: format!("LVM-bench-s{i}"),
                read_only: false,
                cow: DeviceSpec {
                    name: format!("vg-s{i}-cow"),
                    uuid: format!("LVM-bench-s{i}-cow"),
                    table: lines(&format!("0 {} linear {} 0", cow_bytes / 512, cow.display()))?,
                    read_only: false,
                },
                store: StoreKind::Persistent,
                chunk_sectors: chunk,
            };
            ops::add_snapshot(&engine, &origin, &spec, None)
                .map_err(|e| format!("adding snapshot {i}: {e}"))?;
        }
        Ok(Self {
            dir,
            engine,
            snapshots,
        })
    }
}

/// A device of a stack through one path.
fn open(
    path: Route,
    stack: &Stack,
    mount: Option<&Path>,
    nbd: Option<&Path>,
    name: &str,
) -> Result<Box<dyn Dev>, String> {
    let err = |e: io::Error| format!("{} {name}: {e}", path.name());
    Ok(match path {
        Route::InProcess => Box::new(InProcess(
            DeviceSet::open(&stack.engine, name, true).map_err(err)?,
        )),
        Route::Fuse => {
            let file = mount.map(|m| m.join(name)).unwrap_or_default();
            Box::new(
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&file)
                    .map_err(err)?,
            )
        }
        Route::Nbd => Box::new(Nbd::connect(nbd.unwrap_or(Path::new("")), name).map_err(err)?),
    })
}

/// A device that keeps nothing: reads leave the buffer as it is, writes and
/// flushes return at once. Through an export it shows what the transport
/// alone costs a request.
struct NullDevice {
    size: u64,
}

impl OpenDevice for NullDevice {
    fn size_bytes(&self) -> u64 {
        self.size
    }
    fn read_only(&self) -> bool {
        false
    }
    fn read_at(&self, _: &mut [u8], _: u64) -> io::Result<()> {
        Ok(())
    }
    fn write_at(&self, _: &[u8], _: u64) -> io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> io::Result<()> {
        Ok(())
    }
    fn discard(&self, _: u64, _: u64) -> io::Result<()> {
        Ok(())
    }
}

/// One [`NullDevice`] named `null`.
struct NullSet {
    size: u64,
}

impl DeviceSet for NullSet {
    fn devices(&self) -> Vec<ExportInfo> {
        vec![ExportInfo {
            name: "null".into(),
            size_bytes: self.size,
            read_only: false,
        }]
    }
    fn open(&self, _: &str, _: bool) -> io::Result<Arc<dyn OpenDevice>> {
        Ok(Arc::new(NullDevice { size: self.size }))
    }
}

/// Seconds a 1 MiB write with its flush, and a 1 MiB read, cost through
/// `route`'s export to a [`NullDevice`]: the transport's own share of
/// every request, best of three passes over `total` bytes.
fn transport_cost(parent: &Path, route: Route, total: u64) -> Result<(f64, f64), String> {
    let dir = tempfile::tempdir_in(parent).map_err(|e| format!("temp dir: {e}"))?;
    let set = Arc::new(NullSet { size: total });
    let what = format!("{} to a null device", route.name());
    let err = |e: io::Error| format!("{what}: {e}");
    let mut mount = None;
    let mut server = None;
    let mut dev: Box<dyn Dev> = match route {
        Route::Fuse => {
            let m = export::fuse::mount(set, &dir.path().join("mapper")).map_err(err)?;
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(m.mountpoint().join("null"))
                .map_err(err)?;
            mount = Some(m);
            Box::new(file)
        }
        Route::Nbd => {
            let sock = dir.path().join("nbd.sock");
            server = Some(export::nbd::serve(set, &sock).map_err(err)?);
            Box::new(Nbd::connect(&sock, "null").map_err(err)?)
        }
        Route::InProcess => return Ok((0.0, 0.0)),
    };
    let mut backing = request_buffer();
    let buf = &mut backing[..];
    let requests = (total / REQ as u64) as f64;
    let (mut write, mut read) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        let spent = timed_write(dev.as_mut(), 0..total, FIRST).map_err(err)?;
        write = write.min(spent.as_secs_f64() / requests);
        // Not timed_read: a null device's bytes are whatever the buffer held.
        let start = Instant::now();
        for offset in (0..total).step_by(REQ) {
            dev.read_at(buf, offset).map_err(err)?;
        }
        read = read.min(start.elapsed().as_secs_f64() / requests);
    }
    drop(dev);
    if let Some(server) = server {
        server.shutdown();
    }
    if let Some(mount) = mount {
        mount.unmount().map_err(err)?;
    }
    Ok((write, read))
}

/// One measured case, with the raw figures measured interleaved with it.
struct Row {
    raw: Raw,
    path: Route,
    snapshots: usize,
    chunk_kib: u64,
    case: &'static str,
    mib_s: f64,
}

/// One route's stack with its export up and its devices open.
struct Live {
    route: Route,
    chunk_kib: u32,
    stack: Stack,
    mount: Option<export::fuse::FuseMount>,
    server: Option<export::nbd::NbdServer>,
    origin: Box<dyn Dev>,
    /// `vg-s0..`, opened before the first phase.
    snaps: Vec<Box<dyn Dev>>,
}

impl Live {
    fn new(
        parent: &Path,
        total: u64,
        snapshots: usize,
        chunk: u32,
        route: Route,
    ) -> Result<Self, String> {
        let stack = Stack::new(parent, total, snapshots, chunk)?;
        let mapper = stack.dir.path().join("mapper");
        let sock = stack.dir.path().join("nbd.sock");
        let mount = match route {
            Route::Fuse => Some(
                export::fuse::mount(Arc::new(stack.engine.clone()), &mapper)
                    .map_err(|e| format!("mounting {}: {e}", mapper.display()))?,
            ),
            _ => None,
        };
        let server = match route {
            Route::Nbd => Some(
                export::nbd::serve(Arc::new(stack.engine.clone()), &sock)
                    .map_err(|e| format!("serving {}: {e}", sock.display()))?,
            ),
            _ => None,
        };
        let mount_dir = mount.as_ref().map(|m| m.mountpoint().to_path_buf());
        let dev = |name: &str| open(route, &stack, mount_dir.as_deref(), Some(&sock), name);
        let origin = dev("vg-base")?;
        let snaps = (0..snapshots)
            .map(|i| dev(&format!("vg-s{i}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            route,
            chunk_kib: chunk / 2,
            stack,
            mount,
            server,
            origin,
            snaps,
        })
    }

    fn what(&self, case: &str) -> String {
        format!(
            "{} {} snapshot(s) {} KiB chunks {case}",
            self.route.name(),
            self.stack.snapshots,
            self.chunk_kib
        )
    }

    /// Untimed checks after the phases: the origin holds the last
    /// generation, every snapshot kept every chunk (one MiB from each
    /// share) and is valid; then the export goes down.
    fn finish(mut self, total: u64) -> Result<(), String> {
        let what = self.what("origin read-back");
        timed_read(self.origin.as_mut(), 0..total, SECOND, &what)?;
        let share = total / self.stack.snapshots as u64;
        let what = self.what("snapshot check");
        for (i, snap) in self.snaps.iter_mut().enumerate() {
            for j in 0..self.stack.snapshots as u64 {
                let at = share * j;
                timed_read(snap.as_mut(), at..at + MIB, BEFORE, &what)?;
            }
            let status = rlvm::backend::Backend::status(&self.stack.engine, &format!("vg-s{i}"))
                .map_err(|e| format!("status vg-s{i}: {e}"))?;
            if status.first().is_none_or(|l| l.params == "Invalid") {
                return Err(format!("{what}: snapshot {i} is invalid"));
            }
        }
        // Every connection and open file goes before its export does.
        drop(self.origin);
        self.snaps.clear();
        if let Some(server) = self.server {
            server.shutdown();
        }
        if let Some(mount) = self.mount {
            let name = mount.mountpoint().display().to_string();
            mount
                .unmount()
                .map_err(|e| format!("unmounting {name}: {e}"))?;
        }
        Ok(())
    }
}

/// The largest slice of 8, 4, 2 or 1 MiB that divides `share`: a slice never
/// spans two snapshots' shares.
fn slice_bytes(share: u64) -> u64 {
    [8, 4, 2, 1]
        .into_iter()
        .map(|m| m * MIB)
        .find(|s| share % s == 0)
        .unwrap_or(MIB)
}

/// One phase of a group, interleaved: slice by slice, the raw file and then
/// every route (the order turning by one each slice, so no route always
/// follows the same one); the time each spent, raw first.
fn interleaved(
    total: u64,
    slice: u64,
    routes: usize,
    mut step: impl FnMut(usize, std::ops::Range<u64>) -> Result<Duration, String>,
) -> Result<Vec<Duration>, String> {
    let mut spent = vec![Duration::ZERO; routes + 1];
    for (k, at) in (0..total).step_by(slice as usize).enumerate() {
        for turn in 0..=routes {
            let who = (turn + k) % (routes + 1);
            spent[who] += step(who, at..at + slice)?;
        }
    }
    Ok(spent)
}

/// The phases of one group (chunk size, snapshot count) on a fresh stack
/// per route, interleaved with the raw baseline; one row per route and phase.
fn run_group(
    parent: &Path,
    total: u64,
    snapshots: usize,
    chunk: u32,
    routes: &[Route],
    rows: &mut Vec<Row>,
) -> Result<(), String> {
    let group = tempfile::tempdir_in(parent).map_err(|e| format!("temp dir: {e}"))?;
    let raw_path = group.path().join("raw.img");
    let raw_err = |e: io::Error| format!("raw file {}: {e}", raw_path.display());
    let mut raw = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&raw_path)
        .map_err(raw_err)?;
    raw.set_len(total).map_err(raw_err)?;
    let direct_path = group.path().join("raw-direct.img");
    let direct_err = |e: io::Error| format!("raw file {}: {e}", direct_path.display());
    let mut direct = {
        use std::os::unix::fs::OpenOptionsExt;
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_DIRECT)
            .open(&direct_path)
            .ok()
    };
    if let Some(file) = &direct {
        file.set_len(total).map_err(direct_err)?;
    }
    let mut direct_spent = Duration::ZERO;
    let mut live = routes
        .iter()
        .map(|&route| Live::new(group.path(), total, snapshots, chunk, route))
        .collect::<Result<Vec<_>, _>>()?;
    let mut dirs = vec![group.path().to_path_buf()];
    dirs.extend(live.iter().map(|l| l.stack.dir.path().to_path_buf()));
    let evict_all = || dirs.iter().try_for_each(|d| evict(d));
    let share = total / snapshots as u64;
    let slice = slice_bytes(share);

    let mut write_phase = |live: &mut [Live], tag: u64, case: &str| {
        interleaved(total, slice, live.len(), |who, range| {
            if who == 0 {
                // First writes: the direct file's slice too, timed apart.
                if let (FIRST, Some(file)) = (tag, direct.as_mut()) {
                    direct_spent += timed_write(file, range.clone(), tag).map_err(direct_err)?;
                }
                return timed_write(&mut raw, range, tag).map_err(raw_err);
            }
            let l = &mut live[who - 1];
            timed_write(l.origin.as_mut(), range, tag).map_err(|e| format!("{}: {e}", l.what(case)))
        })
    };
    evict_all()?;
    let first = write_phase(&mut live, FIRST, "first writes")?;
    evict_all()?;
    let over = write_phase(&mut live, SECOND, "overwrites")?;
    evict_all()?;
    // Snapshot i reads its share i of the device; together, `total` bytes.
    let read = interleaved(total, slice, live.len(), |who, range| {
        if who == 0 {
            return timed_read(&mut raw, range, SECOND, "raw read");
        }
        let l = &mut live[who - 1];
        let what = l.what("snapshot read");
        let snap = &mut l.snaps[(range.start / share) as usize];
        timed_read(snap.as_mut(), range, BEFORE, &what)
    })?;
    drop(raw);
    let direct_write = direct.is_some().then(|| mib_s(total, direct_spent));
    drop(direct);
    let raw = Raw {
        write: mib_s(total, first[0]),
        direct_write,
        overwrite: mib_s(total, over[0]),
        read: mib_s(total, read[0]),
    };
    println!(
        "{snapshots} snapshot(s), {} KiB chunks: raw write (buffered/O_DIRECT)/overwrite/read \
         {:.0}/{}/{:.0}/{:.0} MiB/s, interleaved with the routes in {} MiB slices",
        chunk / 2,
        raw.write,
        raw.direct_write
            .map_or_else(|| "-".to_string(), |d| format!("{d:.0}")),
        raw.overwrite,
        raw.read,
        slice / MIB
    );
    for (i, l) in live.iter().enumerate() {
        for (case, spent) in [
            ("origin first write", first[i + 1]),
            ("origin overwrite", over[i + 1]),
            ("snapshot read", read[i + 1]),
        ] {
            rows.push(Row {
                raw,
                path: l.route,
                snapshots,
                chunk_kib: u64::from(chunk) / 2,
                case,
                mib_s: mib_s(total, spent),
            });
        }
    }
    for l in live {
        l.finish(total)?;
    }
    Ok(())
}

/// Where the files go: `RLVM_BENCH_DIR`, else the target directory's file
/// system (cargo's bench temp dir), else /var/tmp; never a tmpfs /tmp by accident.
fn bench_parent() -> PathBuf {
    if let Some(dir) = std::env::var_os("RLVM_BENCH_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = option_env!("CARGO_TARGET_TMPDIR") {
        return PathBuf::from(dir);
    }
    PathBuf::from("/var/tmp")
}

/// Whether `value` is in the comma-separated list `var` names (all when unset),
/// so one group of cells can be measured alone while looking for a miss.
fn picked(var: &str, value: &str) -> bool {
    std::env::var(var).map_or(true, |list| list.split(',').any(|v| v.trim() == value))
}

fn run() -> Result<(), String> {
    let quick = std::env::var_os("RLVM_BENCH_QUICK").is_some_and(|v| v != "0")
        || std::env::args().any(|a| a == "--quick");
    let total = match std::env::var("RLVM_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        Some(mib) if mib > 0 => mib.next_multiple_of(4) * MIB,
        _ if quick => 8 * MIB,
        _ => 256 * MIB,
    };
    let parent = bench_parent();
    std::fs::create_dir_all(&parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let top = tempfile::tempdir_in(&parent).map_err(|e| format!("temp dir: {e}"))?;
    println!(
        "engine bench: {} MiB per phase in 1 MiB requests, files in {}{}",
        total / MIB,
        top.path().display(),
        if quick { " (quick)" } else { "" }
    );

    // What FUSE and NBD cost on their own, for the ceiling of their rows.
    let mut transport = Vec::new();
    for route in [Route::Fuse, Route::Nbd] {
        if picked("RLVM_BENCH_ROUTES", route.name()) {
            let (write, read) = transport_cost(top.path(), route, total.min(64 * MIB))?;
            println!(
                "{} alone (to a device that does nothing): 1 MiB write + flush {:.0} us, 1 MiB read {:.0} us",
                route.name(),
                write * 1e6,
                read * 1e6
            );
            transport.push((route, write, read));
        }
    }

    let mut rows = Vec::new();
    for chunk in [8u32, 128] {
        if !picked("RLVM_BENCH_CHUNKS", &(chunk / 2).to_string()) {
            continue;
        }
        for snapshots in [1usize, 4] {
            if !picked("RLVM_BENCH_SNAPSHOTS", &snapshots.to_string()) {
                continue;
            }
            let routes: Vec<Route> = [Route::InProcess, Route::Fuse, Route::Nbd]
                .into_iter()
                .filter(|r| picked("RLVM_BENCH_ROUTES", r.name()))
                .collect();
            run_group(top.path(), total, snapshots, chunk, &routes, &mut rows)?;
        }
    }
    println!(
        "{:<10} {:>5} {:>6} {:<20} {:>8} {:>8} {:>7} {:>8} {:>8} {:>7} {:<5} {:>10}",
        "path",
        "snaps",
        "chunk",
        "case",
        "MiB/s",
        "raw",
        "vs raw",
        "bound",
        "vs bound",
        "target",
        "",
        "vs in-proc"
    );
    let mut missed = 0;
    for row in &rows {
        let baseline = match row.case {
            "origin first write" => row.raw.best_write(),
            "origin overwrite" => row.raw.overwrite,
            _ => row.raw.read,
        };
        let in_process = rows
            .iter()
            .find(|r| {
                r.path == Route::InProcess
                    && r.snapshots == row.snapshots
                    && r.chunk_kib == row.chunk_kib
                    && r.case == row.case
            })
            .map_or(f64::NAN, |r| r.mib_s);
        let bound = if row.path == Route::InProcess {
            // One read, n COW writes to fresh files and one origin overwrite per chunk.
            (row.case == "origin first write").then(|| {
                1.0 / (1.0 / row.raw.read
                    + row.snapshots as f64 / row.raw.best_write()
                    + 1.0 / row.raw.overwrite)
            })
        } else {
            // The in-process time of a request plus the transport's own.
            transport
                .iter()
                .find(|(route, _, _)| *route == row.path)
                .map(|&(_, write, read)| {
                    let alone = if row.case == "snapshot read" {
                        read
                    } else {
                        write
                    };
                    1.0 / (1.0 / in_process + alone * MIB as f64 / REQ as f64)
                })
        };
        let ratio = row.mib_s / baseline;
        // In-process against raw (first writes against their bound); FUSE
        // and NBD against in-process.
        let (verdict, target_text, vs_in_process) = if row.path == Route::InProcess {
            match bound {
                Some(bound) => (
                    row.mib_s / bound >= 0.8,
                    "0.8 bnd".to_string(),
                    String::new(),
                ),
                None => (ratio >= 0.9, "0.9 raw".to_string(), String::new()),
            }
        } else {
            let r = row.mib_s / in_process;
            (r >= 0.8, "0.8 ip".to_string(), format!("{r:>9.2}x"))
        };
        if !verdict {
            missed += 1;
        }
        let (bound_text, vs_bound) = match bound {
            Some(b) => (format!("{b:.0}"), format!("{:.2}", row.mib_s / b)),
            None => (String::new(), String::new()),
        };
        println!(
            "{:<10} {:>5} {:>4}K {:<20} {:>8.0} {:>8.0} {:>7.2} {:>8} {:>8} {:>7} {:<5} {:>10}",
            row.path.name(),
            row.snapshots,
            row.chunk_kib,
            row.case,
            row.mib_s,
            baseline,
            ratio,
            bound_text,
            vs_bound,
            target_text,
            if verdict { "PASS" } else { "MISS" },
            vs_in_process
        );
    }
    println!();
    println!(
        "{missed} of {} below target (in-process: first writes 0.8 of their physical bound, \
         overwrites and snapshot reads 0.9 of raw; FUSE/NBD: 0.8 of the in-process figure; \
         raw: new-file write (the faster of buffered and O_DIRECT), overwrite, cold read, every write request followed by fdatasync, \
         interleaved slice by slice with the routes of its group; the bound of a FUSE or NBD row is the most \
         its transport allows: the in-process time of a request plus that request's time through the export \
         to a device that does nothing). Every byte read was checked.",
        rows.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("engine bench: {e}");
            ExitCode::FAILURE
        }
    }
}
