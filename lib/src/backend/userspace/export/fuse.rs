//! The mapper directory over FUSE: one regular file per device in a
//! [`DeviceSet`], so dd, cmp, mkfs, `losetup` + `mount` and qemu can use the
//! engine's devices the way they would use `/dev/mapper/<name>`.
//!
//! Coherence: a device's bytes change behind its file's back (a snapshot merge
//! rewrites the origin, writing an origin moves old chunks into its
//! snapshots' COW), so the kernel must never answer a read from its own cache.
//! Every open file therefore gets `FOPEN_DIRECT_IO`: each read and write is a
//! request to this daemon, and the page cache holds nothing for these inodes.
//! Loop devices work on such files: loop's buffered path hands the file bvec
//! iterators, which FUSE's direct I/O path takes as it takes user memory, and
//! `losetup --direct-io=on` (O_DIRECT, like qemu's cache=none) works too; the
//! tests below run mkfs.ext4, losetup and mount both ways (checked on Linux
//! 6.18), so the cached-but-invalidated alternative was not needed.
//! `FUSE_DIRECT_IO_ALLOW_MMAP` is asked for so shared mappings work on kernels
//! that have it. The price is that small I/O is one round trip per call (dd
//! bs=4k runs at ~200 MiB/s against ~4-5 GiB/s at bs=1M over an in-memory set),
//! which is why requests may be 1 MiB. Attributes and entries get a zero TTL,
//! so a size change or a device coming or going is seen at the next
//! `stat`/lookup.
//!
//! What a 1 MiB request costs over the in-process call (Linux 6.18, 2 vCPUs,
//! `bench::overhead` and `bench::engine_interleaved`): the data crosses one
//! more copy than in-process (the kernel pins the caller's pages and copies
//! them into or out of this daemon's buffer page by page, pinning that too),
//! at least ~110 us against an in-memory device and ~230-290 us in front of
//! the engine's page-cache write with everything on one CPU, ~200 us more
//! when the serving thread wakes on the other CPU; a flush is one more round
//! trip (~10-20 us when idle). Against an overwrite that costs the engine
//! ~0.5 ms (write plus fdatasync on a fast disk) that caps FUSE at ~0.6-0.7
//! of in-process; only a zero-copy path (splicing `/dev/fuse` into the image
//! files, which fuser does not offer) would close it. Request sizes and the
//! flush are not the gap: requests arrive whole at 1 MiB from page-aligned
//! buffers, a flush is one `FUSE_FSYNC` and one engine flush as in-process,
//! and 1, 2 or 4 serving threads measured alike within the noise.
//!
//! The files behave like block devices where a regular file would differ:
//! `O_TRUNC` and shrinking truncation are ignored, growing one is `EINVAL`, a write at or
//! past the end is `ENOSPC`, a write crossing it is clipped, and a read past
//! the end is short.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use fuser::{
    BackgroundSession, BsdFileFlags, Config, Errno, FileAttr, FileHandle, FileType, Filesystem,
    FopenFlags, Generation, INodeNo, InitFlags, KernelConfig, LockOwner, MountOption, OpenAccMode,
    OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty,
    ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request, SessionACL, TimeOrNow, WriteFlags,
};

use super::{DeviceSet, ExportInfo, OpenDevice};

/// Nothing is cached by the kernel: the set and the devices' sizes change
/// under us, and lookups must always ask the set.
const TTL: Duration = Duration::ZERO;
/// Largest read/write request: the kernel's default `max_pages_limit` (256
/// pages) caps it at 1 MiB anyway.
const MAX_IO: u32 = 1 << 20;
/// Event-loop threads; a few let one slow request (a COW copy) not stall the
/// rest, and let loop devices keep several requests in flight.
const THREADS: usize = 4;
/// Block size reported by stat/statfs.
const BLOCK: u32 = 4096;

/// A mounted mapper directory; unmounts when dropped.
#[derive(Debug)]
pub struct FuseMount {
    session: Option<BackgroundSession>,
    mountpoint: PathBuf,
}

impl FuseMount {
    /// The directory the devices appear in.
    pub fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// Unmount now, reporting failure (drop does the same but can only log).
    /// If files are still open the mount is detached lazily, and this process
    /// keeps serving those openers until they close.
    pub fn unmount(mut self) -> io::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> io::Result<()> {
        let Some(session) = self.session.take() else {
            return Ok(());
        };
        match session.umount_and_join() {
            Ok(()) => Ok(()),
            // Busy (a loop device or a program still holds a file): a plain
            // umount fails, and fuser gave the mount up, so detach it ourselves.
            Err(e) if is_mounted_here(&self.mountpoint) => {
                lazy_unmount(&self.mountpoint).map_err(|e2| {
                    io::Error::new(
                        e2.kind(),
                        format!("unmount failed ({e}), detach failed: {e2}"),
                    )
                })
            }
            Err(e) => Err(e),
        }
    }
}

impl Drop for FuseMount {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            eprintln!("rdmd: unmounting {}: {e}", self.mountpoint.display());
        }
    }
}

/// Mount the mapper directory for `devices` at `mountpoint` and serve it on
/// background threads until the returned guard is dropped.
pub fn mount(devices: Arc<dyn DeviceSet>, mountpoint: &Path) -> io::Result<FuseMount> {
    // A daemon killed without unmounting leaves a dead FUSE mount whose every
    // access fails with ENOTCONN; detach it so a restarted daemon can mount.
    if let Err(e) = fs::metadata(mountpoint) {
        if e.raw_os_error() == Some(libc::ENOTCONN) {
            lazy_unmount(mountpoint)?;
        }
    }
    fs::create_dir_all(mountpoint)?;
    let mountpoint = mountpoint.canonicalize()?;

    let mut config = Config::default();
    config.mount_options = vec![
        MountOption::FSName("rdmd".into()),
        MountOption::Subtype("rlvm".into()),
        // Let the kernel enforce the 0600/0400 modes, as it does for /dev/mapper.
        MountOption::DefaultPermissions,
        MountOption::NoAtime,
    ];
    // Other users (qemu under its own uid) may use the files the modes allow;
    // only root may ask for allow_other without /etc/fuse.conf's consent.
    config.acl = if nix::unistd::geteuid().is_root() {
        SessionACL::All
    } else {
        SessionACL::Owner
    };
    config.n_threads = Some(THREADS);
    config.clone_fd = true;

    // fuser and fusermount3 both open /dev/fuse as the caller; say which
    // file refused, and why an ordinary user hits it (udev makes it 0666,
    // a container's static /dev often 0600).
    if let Err(e) = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
    {
        return Err(io::Error::new(
            e.kind(),
            format!("/dev/fuse: {e} (an ordinary user needs it mode 0666, as udev makes it)"),
        ));
    }
    let fs = MapperFs::new(devices);
    let session = fuser::spawn_mount(fs, &mountpoint, &config)?;
    Ok(FuseMount {
        session: Some(session),
        mountpoint,
    })
}

/// Detach whatever is mounted at `path` (MNT_DETACH), falling back to the
/// setuid helper when not root.
fn lazy_unmount(path: &Path) -> io::Result<()> {
    match nix::mount::umount2(path, nix::mount::MntFlags::MNT_DETACH) {
        Ok(()) => Ok(()),
        Err(nix::errno::Errno::EPERM) => {
            let out = Command::new("fusermount3").arg("-uz").arg(path).output()?;
            if out.status.success() {
                Ok(())
            } else {
                Err(io::Error::other(format!(
                    "fusermount3 -uz {}: {}",
                    path.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                )))
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether `path` is still a mount point (its device differs from its parent's).
fn is_mounted_here(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(parent) = path.parent() else {
        return false;
    };
    match (fs::metadata(path), fs::metadata(parent)) {
        (Ok(m), Ok(p)) => m.dev() != p.dev(),
        // ENOTCONN and the like: something dead is mounted there.
        (Err(_), Ok(_)) => true,
        _ => false,
    }
}

/// Inode numbers handed out per name, never reused within a mount, so a
/// device that goes and comes back keeps its number.
#[derive(Default)]
struct Inodes {
    by_name: HashMap<String, u64>,
    names: Vec<String>,
}

impl Inodes {
    /// The first device inode (1 is the root directory).
    const FIRST: u64 = 2;

    fn ino(&mut self, name: &str) -> u64 {
        if let Some(&ino) = self.by_name.get(name) {
            return ino;
        }
        let ino = Self::FIRST + self.names.len() as u64;
        self.names.push(name.to_string());
        self.by_name.insert(name.to_string(), ino);
        ino
    }

    fn name(&self, ino: u64) -> Option<&str> {
        let idx = ino.checked_sub(Self::FIRST)?;
        self.names
            .get(usize::try_from(idx).ok()?)
            .map(String::as_str)
    }
}

/// The filesystem: a root directory over a [`DeviceSet`].
struct MapperFs {
    devices: Arc<dyn DeviceSet>,
    inodes: Mutex<Inodes>,
    files: Mutex<HashMap<u64, Arc<dyn OpenDevice>>>,
    /// Directory listings taken at `readdir` offset 0, so one pass over the
    /// directory is consistent while devices come and go.
    dirs: Mutex<HashMap<u64, Vec<(u64, String)>>>,
    next_fh: AtomicU64,
    /// Read buffers not in use, last returned on top, so a 1 MiB read
    /// neither allocates and zeroes fresh memory nor starts from a cold cache.
    read_bufs: Mutex<Vec<Vec<u8>>>,
    uid: u32,
    gid: u32,
    born: SystemTime,
}

/// Lock ignoring poison: a panicking holder cannot leave these maps torn, and
/// callbacks must never panic.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MapperFs {
    fn new(devices: Arc<dyn DeviceSet>) -> Self {
        MapperFs {
            devices,
            inodes: Mutex::new(Inodes::default()),
            files: Mutex::new(HashMap::new()),
            dirs: Mutex::new(HashMap::new()),
            next_fh: AtomicU64::new(1),
            read_bufs: Mutex::new(Vec::new()),
            uid: nix::unistd::geteuid().as_raw(),
            gid: nix::unistd::getegid().as_raw(),
            born: SystemTime::now(),
        }
    }

    fn find(&self, name: &str) -> Option<ExportInfo> {
        self.devices.devices().into_iter().find(|d| d.name == name)
    }

    fn name_of(&self, ino: INodeNo) -> Option<String> {
        lock(&self.inodes).name(ino.0).map(str::to_string)
    }

    fn file(&self, fh: FileHandle) -> Result<Arc<dyn OpenDevice>, Errno> {
        lock(&self.files).get(&fh.0).cloned().ok_or(Errno::EBADF)
    }

    fn attr(&self, ino: u64, kind: FileType, size: u64, perm: u16) -> FileAttr {
        FileAttr {
            ino: INodeNo(ino),
            size,
            blocks: size.div_ceil(512),
            atime: self.born,
            mtime: self.born,
            ctime: self.born,
            crtime: self.born,
            kind,
            perm,
            nlink: if kind == FileType::Directory { 2 } else { 1 },
            uid: self.uid,
            gid: self.gid,
            rdev: 0,
            blksize: BLOCK,
            flags: 0,
        }
    }

    fn root_attr(&self) -> FileAttr {
        self.attr(INodeNo::ROOT.0, FileType::Directory, 0, 0o755)
    }

    fn device_attr(&self, ino: u64, size: u64, read_only: bool) -> FileAttr {
        let perm = if read_only { 0o400 } else { 0o600 };
        self.attr(ino, FileType::RegularFile, size, perm)
    }

    /// Attributes of `ino` as the set (or, for an open file, the handle) sees it now.
    fn current_attr(&self, ino: INodeNo, fh: Option<FileHandle>) -> Result<FileAttr, Errno> {
        if ino == INodeNo::ROOT {
            return Ok(self.root_attr());
        }
        if let Some(file) = fh.and_then(|fh| self.file(fh).ok()) {
            return Ok(self.device_attr(ino.0, file.size_bytes(), file.read_only()));
        }
        let name = self.name_of(ino).ok_or(Errno::ENOENT)?;
        let info = self.find(&name).ok_or(Errno::ENOENT)?;
        Ok(self.device_attr(ino.0, info.size_bytes, info.read_only))
    }

    /// Write zeroes over `[offset, offset + len)`, which lies inside the device.
    fn zero_fill(file: &dyn OpenDevice, offset: u64, len: u64) -> io::Result<()> {
        let zeroes = vec![0u8; MAX_IO as usize];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(zeroes.len() as u64) as usize;
            file.write_at(&zeroes[..n], offset + done)?;
            done += n as u64;
        }
        Ok(())
    }
}

impl Filesystem for MapperFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> io::Result<()> {
        // Each is optional: take what this kernel offers.
        for cap in [
            // O_TRUNC reaches open (which ignores it, as a block device does)
            // instead of becoming a truncating setattr that would fail the open.
            InitFlags::FUSE_ATOMIC_O_TRUNC,
            // Let one large direct read/write be several requests in flight.
            InitFlags::FUSE_ASYNC_DIO,
            // Shared mmap of direct_io files (Linux 6.6+).
            InitFlags::FUSE_DIRECT_IO_ALLOW_MMAP,
            InitFlags::FUSE_PARALLEL_DIROPS,
        ] {
            let _ = config.add_capabilities(cap);
        }
        if let Err(max) = config.set_max_write(MAX_IO) {
            let _ = config.set_max_write(max);
        }
        if let Err(max) = config.set_max_readahead(MAX_IO) {
            let _ = config.set_max_readahead(max);
        }
        let _ = config.set_max_background(64);
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        if parent != INodeNo::ROOT {
            return reply.error(Errno::ENOENT);
        }
        let Some(info) = name.to_str().and_then(|n| self.find(n)) else {
            return reply.error(Errno::ENOENT);
        };
        let ino = lock(&self.inodes).ino(&info.name);
        let attr = self.device_attr(ino, info.size_bytes, info.read_only);
        reply.entry(&TTL, &attr, Generation(0));
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.current_attr(ino, fh) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let attr = match self.current_attr(ino, fh) {
            Ok(attr) => attr,
            Err(e) => return reply.error(e),
        };
        if mode.is_some() || uid.is_some() || gid.is_some() {
            return reply.error(Errno::EPERM);
        }
        // A device's size is its table's. dd (without conv=notrunc) truncates
        // its output to the seek offset, which it skips for a real block
        // device; a shrink is therefore accepted and changes nothing, while a
        // grow, which could only be meant, is refused as a block device does.
        if size.is_some_and(|s| s > attr.size) {
            return reply.error(Errno::EINVAL);
        }
        // Times: accepted and forgotten, so cp/touch/dd do not fail.
        reply.attr(&TTL, &attr);
    }

    fn mknod(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EPERM);
    }

    fn mkdir(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EPERM);
    }

    fn unlink(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::EPERM);
    }

    fn rmdir(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::EPERM);
    }

    fn symlink(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _link_name: &OsStr,
        _target: &Path,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EPERM);
    }

    fn rename(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _newparent: INodeNo,
        _newname: &OsStr,
        _flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        reply.error(Errno::EPERM);
    }

    fn link(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _newparent: INodeNo,
        _newname: &OsStr,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EPERM);
    }

    fn create(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        reply.error(Errno::EPERM);
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        if ino == INodeNo::ROOT {
            return reply.error(Errno::EISDIR);
        }
        let Some(name) = self.name_of(ino) else {
            return reply.error(Errno::ENOENT);
        };
        let writable = flags.acc_mode() != OpenAccMode::O_RDONLY;
        let file = match self.devices.open(&name, writable) {
            Ok(file) => file,
            Err(e) => return reply.error(e.into()),
        };
        // The set should refuse this itself; make sure, since writes to a
        // read-only device must fail at open as they do for a block device.
        if writable && file.read_only() {
            return reply.error(Errno::EROFS);
        }
        let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
        lock(&self.files).insert(fh, file);
        // See the module comment: no page cache, so no stale reads.
        let fopen = FopenFlags::FOPEN_DIRECT_IO | FopenFlags::FOPEN_PARALLEL_DIRECT_WRITES;
        reply.opened(FileHandle(fh), fopen);
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let file = match self.file(fh) {
            Ok(file) => file,
            Err(e) => return reply.error(e),
        };
        let dev_size = file.size_bytes();
        if offset >= dev_size {
            return reply.data(&[]);
        }
        let len = u64::from(size).min(dev_size - offset) as usize;
        // The most recently returned buffer is the one still in this CPU's
        // cache: fuser hands requests to its threads in turn (the kernel wakes
        // the longest-waiting reader), so a buffer per thread would be cold.
        let mut buf = lock(&self.read_bufs).pop().unwrap_or_default();
        if buf.len() < len {
            buf.resize(len, 0);
        }
        match file.read_at(&mut buf[..len], offset) {
            Ok(()) => reply.data(&buf[..len]),
            Err(e) => reply.error(e.into()),
        }
        let mut bufs = lock(&self.read_bufs);
        if bufs.len() < THREADS {
            bufs.push(buf);
        }
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        let file = match self.file(fh) {
            Ok(file) => file,
            Err(e) => return reply.error(e),
        };
        if file.read_only() {
            return reply.error(Errno::EROFS);
        }
        let dev_size = file.size_bytes();
        if offset >= dev_size {
            return reply.error(Errno::ENOSPC);
        }
        let len = (data.len() as u64).min(dev_size - offset) as usize;
        match file.write_at(&data[..len], offset) {
            Ok(()) => reply.written(len as u32),
            Err(e) => reply.error(e.into()),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // Called on every close(); only a writer can have something to make durable.
        match self.file(fh) {
            Ok(file) if file.read_only() => reply.ok(),
            Ok(file) => match file.flush() {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(e.into()),
            },
            Err(e) => reply.error(e),
        }
    }

    fn fsync(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        match self.file(fh).and_then(|f| f.flush().map_err(Errno::from)) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        // Dropping the handle is what lowers the engine's open count.
        let file = lock(&self.files).remove(&fh.0);
        drop(file);
        reply.ok();
    }

    fn fallocate(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        let file = match self.file(fh) {
            Ok(file) => file,
            Err(e) => return reply.error(e),
        };
        // Only zeroing a range has a block-device meaning. Punching a hole
        // would need zeroes afterwards, which `discard` does not promise, and
        // writing them over a whole device (mkfs discards everything first)
        // would cost far more than mkfs saves, so it is refused and callers
        // fall back to not discarding.
        if mode & !libc::FALLOC_FL_KEEP_SIZE != libc::FALLOC_FL_ZERO_RANGE {
            return reply.error(Errno::EOPNOTSUPP);
        }
        if file.read_only() {
            return reply.error(Errno::EROFS);
        }
        match offset.checked_add(length) {
            Some(end) if end <= file.size_bytes() => {}
            _ => return reply.error(Errno::EINVAL),
        }
        match Self::zero_fill(file.as_ref(), offset, length) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e.into()),
        }
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        if ino != INodeNo::ROOT {
            return reply.error(Errno::ENOTDIR);
        }
        let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
        lock(&self.dirs).insert(fh, Vec::new());
        reply.opened(FileHandle(fh), FopenFlags::empty());
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        if ino != INodeNo::ROOT {
            return reply.error(Errno::ENOTDIR);
        }
        let mut dirs = lock(&self.dirs);
        let Some(listing) = dirs.get_mut(&fh.0) else {
            return reply.error(Errno::EBADF);
        };
        if offset == 0 {
            // A fresh pass (or rewinddir): list the set as it is now.
            let devices = self.devices.devices();
            let mut inodes = lock(&self.inodes);
            *listing = vec![
                (INodeNo::ROOT.0, ".".into()),
                (INodeNo::ROOT.0, "..".into()),
            ];
            listing.extend(devices.into_iter().map(|d| (inodes.ino(&d.name), d.name)));
        }
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        for (i, (ino, name)) in listing.iter().enumerate().skip(start) {
            let kind = if *ino == INodeNo::ROOT.0 {
                FileType::Directory
            } else {
                FileType::RegularFile
            };
            if reply.add(INodeNo(*ino), i as u64 + 1, kind, name) {
                break;
            }
        }
        drop(dirs);
        reply.ok();
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        lock(&self.dirs).remove(&fh.0);
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let devices = self.devices.devices();
        let bytes: u64 = devices.iter().map(|d| d.size_bytes).sum();
        let blocks = bytes.div_ceil(u64::from(BLOCK));
        reply.statfs(blocks, 0, 0, devices.len() as u64, 0, BLOCK, 255, BLOCK);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::userspace::export::memory::{MemDevice, MemSet, TapSet};
    use std::fs::OpenOptions;
    use std::io::{Read, Seek, SeekFrom, Write};
    use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt, PermissionsExt};
    use std::process::Stdio;
    use std::time::Instant;

    /// A mount over a [`MemSet`] in a temporary directory. Fields drop in
    /// order: the mount goes before the directory it sits in.
    struct Fixture {
        mount: Option<FuseMount>,
        set: Arc<MemSet>,
        dir: tempfile::TempDir,
    }

    impl Fixture {
        /// None (after saying so loudly) when this machine cannot do FUSE.
        fn new(devices: &[(&str, usize, bool)]) -> Option<Fixture> {
            if let Err(e) = OpenOptions::new().read(true).write(true).open("/dev/fuse") {
                eprintln!("SKIPPING FUSE TEST: cannot open /dev/fuse: {e}");
                return None;
            }
            let set = Arc::new(MemSet::default());
            for &(name, size, ro) in devices {
                set.add(name, size, ro);
            }
            let dir = tempfile::tempdir().unwrap();
            let as_set: Arc<dyn DeviceSet> = set.clone();
            let mount = mount(as_set, &dir.path().join("mapper")).unwrap();
            Some(Fixture {
                mount: Some(mount),
                set,
                dir,
            })
        }

        fn mnt(&self) -> &Path {
            self.mount.as_ref().unwrap().mountpoint()
        }

        fn path(&self, name: &str) -> PathBuf {
            self.mnt().join(name)
        }

        fn dev(&self, name: &str) -> Arc<MemDevice> {
            self.set.devices.lock().unwrap()[name].clone()
        }

        fn names(&self) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(self.mnt())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        }
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
            .collect()
    }

    fn errno(e: &io::Error) -> i32 {
        e.raw_os_error().unwrap_or(0)
    }

    /// Release reaches the daemon asynchronously after close(); wait for it.
    fn wait_opens(dev: &MemDevice, want: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while dev.opens.load(Ordering::SeqCst) != want && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(dev.opens.load(Ordering::SeqCst), want);
    }

    fn run(cmd: &mut Command) -> std::process::Output {
        let out = cmd.stdin(Stdio::null()).output().unwrap();
        assert!(
            out.status.success(),
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    #[test]
    fn lists_devices_with_their_attributes() {
        let Some(fx) = Fixture::new(&[("vg-lv", 1 << 20, false), ("vg-snap", 8192, true)]) else {
            return;
        };
        assert_eq!(fx.names(), ["vg-lv", "vg-snap"]);
        let lv = fs::metadata(fx.path("vg-lv")).unwrap();
        assert!(lv.is_file());
        assert_eq!(lv.len(), 1 << 20);
        assert_eq!(lv.permissions().mode() & 0o7777, 0o600);
        assert_eq!(lv.uid(), nix::unistd::geteuid().as_raw());
        assert_eq!(lv.gid(), nix::unistd::getegid().as_raw());
        let snap = fs::metadata(fx.path("vg-snap")).unwrap();
        assert_eq!(snap.len(), 8192);
        assert_eq!(snap.permissions().mode() & 0o7777, 0o400);
        // Inode numbers are stable and distinct.
        assert_ne!(lv.ino(), snap.ino());
        assert_eq!(fs::metadata(fx.path("vg-lv")).unwrap().ino(), lv.ino());
        let err = fs::metadata(fx.path("nope")).unwrap_err();
        assert_eq!(errno(&err), libc::ENOENT);
        let st = nix::sys::statfs::statfs(fx.mnt()).unwrap();
        assert_eq!(st.block_size(), 4096);
    }

    #[test]
    fn reads_and_writes_reach_the_device() {
        let Some(fx) = Fixture::new(&[("d", 1 << 20, false)]) else {
            return;
        };
        let data = pattern(300_000, 7);
        let mut f = OpenOptions::new().write(true).open(fx.path("d")).unwrap();
        f.seek(SeekFrom::Start(4096)).unwrap();
        f.write_all(&data).unwrap();
        drop(f);
        assert_eq!(
            &fx.dev("d").bytes.lock().unwrap()[4096..4096 + data.len()],
            &data[..]
        );
        let all = fs::read(fx.path("d")).unwrap();
        assert_eq!(all.len(), 1 << 20);
        assert_eq!(&all[4096..4096 + data.len()], &data[..]);
        assert!(all[..4096].iter().all(|&b| b == 0));
    }

    #[test]
    fn content_changed_behind_the_file_is_seen() {
        let Some(fx) = Fixture::new(&[("origin", 65536, false)]) else {
            return;
        };
        let f = fs::File::open(fx.path("origin")).unwrap();
        let mut buf = vec![0u8; 4096];
        f.read_exact_at(&mut buf, 0).unwrap();
        assert!(buf.iter().all(|&b| b == 0));
        // A merge rewriting the origin: not through this file.
        fx.dev("origin").bytes.lock().unwrap()[..4096].fill(0xab);
        f.read_exact_at(&mut buf, 0).unwrap();
        assert!(
            buf.iter().all(|&b| b == 0xab),
            "stale read through open file"
        );
        assert!(fs::read(fx.path("origin")).unwrap()[..4096]
            .iter()
            .all(|&b| b == 0xab));
        // A reload that changes the size is seen at the next stat.
        fx.dev("origin").bytes.lock().unwrap().resize(131072, 0);
        assert_eq!(fs::metadata(fx.path("origin")).unwrap().len(), 131072);
        assert_eq!(f.metadata().unwrap().len(), 131072);
    }

    #[test]
    fn open_count_follows_opens_and_closes() {
        let Some(fx) = Fixture::new(&[("d", 4096, false)]) else {
            return;
        };
        let dev = fx.dev("d");
        assert_eq!(dev.opens.load(Ordering::SeqCst), 0);
        let a = fs::File::open(fx.path("d")).unwrap();
        wait_opens(&dev, 1);
        let b = OpenOptions::new()
            .read(true)
            .write(true)
            .open(fx.path("d"))
            .unwrap();
        wait_opens(&dev, 2);
        // A dup is the same open: no new handle.
        let c = a.try_clone().unwrap();
        drop(a);
        wait_opens(&dev, 2);
        drop(c);
        wait_opens(&dev, 1);
        drop(b);
        wait_opens(&dev, 0);
        // stat and readdir open nothing.
        fs::metadata(fx.path("d")).unwrap();
        fx.names();
        assert_eq!(dev.opens.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn read_only_device_refuses_write_open() {
        let Some(fx) = Fixture::new(&[("ro", 8192, true)]) else {
            return;
        };
        for opts in [
            OpenOptions::new().write(true).clone(),
            OpenOptions::new().read(true).write(true).clone(),
        ] {
            let err = opts.open(fx.path("ro")).unwrap_err();
            assert_eq!(errno(&err), libc::EROFS, "{err}");
        }
        assert_eq!(fx.dev("ro").opens.load(Ordering::SeqCst), 0);
        assert_eq!(fs::read(fx.path("ro")).unwrap().len(), 8192);
    }

    #[test]
    fn devices_come_and_go() {
        let Some(fx) = Fixture::new(&[("a", 4096, false)]) else {
            return;
        };
        assert_eq!(fx.names(), ["a"]);
        let ino_a = fs::metadata(fx.path("a")).unwrap().ino();
        fx.set.add("b", 8192, false);
        assert_eq!(fx.names(), ["a", "b"]);
        assert_eq!(fs::metadata(fx.path("b")).unwrap().len(), 8192);
        fx.set.devices.lock().unwrap().remove("a");
        assert_eq!(fx.names(), ["b"]);
        assert_eq!(
            errno(&fs::metadata(fx.path("a")).unwrap_err()),
            libc::ENOENT
        );
        assert_eq!(
            errno(&fs::File::open(fx.path("a")).unwrap_err()),
            libc::ENOENT
        );
        // Back again under the same name: same inode number.
        fx.set.add("a", 4096, false);
        assert_eq!(fs::metadata(fx.path("a")).unwrap().ino(), ino_a);
        assert_eq!(fx.names(), ["a", "b"]);
    }

    #[test]
    fn io_at_the_end_behaves_like_a_block_device() {
        let Some(fx) = Fixture::new(&[("d", 10_000, false)]) else {
            return;
        };
        fx.dev("d").bytes.lock().unwrap().fill(5);
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(fx.path("d"))
            .unwrap();
        let mut buf = vec![0u8; 4096];
        assert_eq!(f.read_at(&mut buf, 9000).unwrap(), 1000);
        assert!(buf[..1000].iter().all(|&b| b == 5));
        assert_eq!(f.read_at(&mut buf, 10_000).unwrap(), 0);
        assert_eq!(f.read_at(&mut buf, 1 << 30).unwrap(), 0);
        let mut g = fs::File::open(fx.path("d")).unwrap();
        let mut all = Vec::new();
        g.read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 10_000);
        // Crossing the end: clipped. At or past it: ENOSPC.
        assert_eq!(f.write_at(&[9u8; 4096], 8000).unwrap(), 2000);
        assert!(fx.dev("d").bytes.lock().unwrap()[8000..]
            .iter()
            .all(|&b| b == 9));
        assert_eq!(errno(&f.write_at(&[1], 10_000).unwrap_err()), libc::ENOSPC);
        assert_eq!(errno(&f.write_at(&[1], 20_000).unwrap_err()), libc::ENOSPC);
        assert_eq!(f.metadata().unwrap().len(), 10_000);
        assert_eq!(fx.dev("d").bytes.lock().unwrap().len(), 10_000);
    }

    #[test]
    fn namespace_and_size_are_fixed() {
        let Some(fx) = Fixture::new(&[("d", 8192, false)]) else {
            return;
        };
        let f = OpenOptions::new().write(true).open(fx.path("d")).unwrap();
        assert_eq!(errno(&f.set_len(16384).unwrap_err()), libc::EINVAL);
        f.set_len(4096).unwrap();
        f.set_len(8192).unwrap();
        assert_eq!(
            f.metadata().unwrap().len(),
            8192,
            "a shrink changes nothing"
        );
        // Times are accepted (cp -p, touch) and change nothing.
        f.set_modified(SystemTime::now()).unwrap();
        drop(f);
        // O_TRUNC is ignored, as on a block device.
        fx.dev("d").bytes.lock().unwrap().fill(3);
        let f = OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(fx.path("d"))
            .unwrap();
        assert_eq!(f.metadata().unwrap().len(), 8192);
        drop(f);
        assert_eq!(fs::metadata(fx.path("d")).unwrap().len(), 8192);
        assert!(fx.dev("d").bytes.lock().unwrap().iter().all(|&b| b == 3));

        let eperm = |r: io::Result<()>| assert_eq!(errno(&r.unwrap_err()), libc::EPERM);
        eperm(fs::remove_file(fx.path("d")));
        eperm(fs::rename(fx.path("d"), fx.path("e")));
        eperm(fs::create_dir(fx.path("x")));
        eperm(fs::File::create(fx.path("new")).map(drop));
        eperm(fs::hard_link(fx.path("d"), fx.path("h")));
        eperm(std::os::unix::fs::symlink("d", fx.path("s")));
        eperm(fs::set_permissions(
            fx.path("d"),
            fs::Permissions::from_mode(0o666),
        ));
        assert_eq!(fx.names(), ["d"]);
    }

    #[test]
    fn o_direct_io() {
        let Some(fx) = Fixture::new(&[("d", 1 << 20, false)]) else {
            return;
        };
        #[repr(align(4096))]
        struct Page([u8; 4096]);
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(fx.path("d"))
            .unwrap();
        let mut pages: Vec<Page> = (0..16).map(|i| Page([i as u8 + 1; 4096])).collect();
        let bytes = |p: &mut Vec<Page>| {
            let len = p.len() * 4096;
            // SAFETY: Page is a plain byte array; the slice covers exactly the Vec's items.
            unsafe { std::slice::from_raw_parts_mut(p.as_mut_ptr().cast::<u8>(), len) }
        };
        f.write_all_at(bytes(&mut pages), 65536).unwrap();
        let want = bytes(&mut pages).to_vec();
        assert_eq!(
            &fx.dev("d").bytes.lock().unwrap()[65536..65536 + want.len()],
            &want[..]
        );
        for p in pages.iter_mut() {
            p.0.fill(0);
        }
        f.read_exact_at(bytes(&mut pages), 65536).unwrap();
        assert_eq!(bytes(&mut pages), &want[..]);
    }

    #[test]
    fn parallel_writers_on_one_file() {
        let Some(fx) = Fixture::new(&[("d", 8 << 20, false)]) else {
            return;
        };
        let f = Arc::new(
            OpenOptions::new()
                .read(true)
                .write(true)
                .open(fx.path("d"))
                .unwrap(),
        );
        let threads: Vec<_> = (0..4u8)
            .map(|t| {
                let f = f.clone();
                std::thread::spawn(move || {
                    let data = pattern(2 << 20, t);
                    for chunk in 0..16u64 {
                        let at = u64::from(t) * (2 << 20) + chunk * (128 << 10);
                        let part = &data[chunk as usize * (128 << 10)..][..128 << 10];
                        f.write_all_at(part, at).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let bytes = fx.dev("d").bytes.lock().unwrap().clone();
        for t in 0..4u8 {
            assert!(bytes[usize::from(t) * (2 << 20)..][..2 << 20] == pattern(2 << 20, t)[..]);
        }
    }

    #[test]
    fn fallocate_zeroes_ranges_and_refuses_holes() {
        use nix::fcntl::{fallocate, FallocateFlags};
        let Some(fx) = Fixture::new(&[("d", 65536, false)]) else {
            return;
        };
        fx.dev("d").bytes.lock().unwrap().fill(0xff);
        let f = OpenOptions::new().write(true).open(fx.path("d")).unwrap();
        use std::os::fd::AsRawFd;
        let fd = f.as_raw_fd();
        fallocate(fd, FallocateFlags::FALLOC_FL_ZERO_RANGE, 4096, 8192).unwrap();
        {
            let dev = fx.dev("d");
            let bytes = dev.bytes.lock().unwrap();
            assert!(bytes[4096..12288].iter().all(|&b| b == 0));
            assert!(bytes[..4096]
                .iter()
                .chain(&bytes[12288..])
                .all(|&b| b == 0xff));
        }
        let punch = FallocateFlags::FALLOC_FL_PUNCH_HOLE | FallocateFlags::FALLOC_FL_KEEP_SIZE;
        assert_eq!(
            fallocate(fd, punch, 0, 4096),
            Err(nix::errno::Errno::EOPNOTSUPP)
        );
        assert_eq!(
            fallocate(fd, FallocateFlags::FALLOC_FL_ZERO_RANGE, 61440, 8192),
            Err(nix::errno::Errno::EINVAL)
        );
    }

    #[test]
    fn dd_and_cmp() {
        let Some(fx) = Fixture::new(&[("vg-lv", 4 << 20, false)]) else {
            return;
        };
        let src = fx.dir.path().join("src");
        let data = pattern(3 << 20, 0x5a);
        fs::write(&src, &data).unwrap();
        let dst = fx.path("vg-lv");
        run(Command::new("dd")
            .arg(format!("if={}", src.display()))
            .arg(format!("of={}", dst.display()))
            .args(["bs=1M", "seek=1", "conv=notrunc,fsync", "status=none"]));
        assert!(fx.dev("vg-lv").flushes.load(Ordering::SeqCst) > 0);
        assert_eq!(&fx.dev("vg-lv").bytes.lock().unwrap()[1 << 20..], &data[..]);
        run(Command::new("cmp")
            .args(["-i", "0:1048576"])
            .arg(&src)
            .arg(&dst));
        // Plain dd (O_TRUNC, no conv=notrunc) works as on a block device.
        run(Command::new("dd")
            .arg(format!("if={}", src.display()))
            .arg(format!("of={}", dst.display()))
            .args(["bs=64k", "status=none"]));
        assert_eq!(fs::metadata(&dst).unwrap().len(), 4 << 20);
        run(Command::new("cmp")
            .args(["-n", "3145728"])
            .arg(&src)
            .arg(&dst));
        // Reading the whole device back out with dd.
        let back = fx.dir.path().join("back");
        run(Command::new("dd")
            .arg(format!("if={}", dst.display()))
            .arg(format!("of={}", back.display()))
            .args(["bs=1M", "status=none"]));
        assert_eq!(
            fs::read(&back).unwrap(),
            *fx.dev("vg-lv").bytes.lock().unwrap()
        );
        // And a mismatch is seen.
        fx.dev("vg-lv").bytes.lock().unwrap()[100] ^= 1;
        let out = Command::new("cmp")
            .args(["-s", "-n", "3145728"])
            .arg(&src)
            .arg(&dst)
            .status();
        assert_eq!(out.unwrap().code(), Some(1));
    }

    #[test]
    fn explicit_unmount_and_remount() {
        let Some(mut fx) = Fixture::new(&[("d", 4096, false)]) else {
            return;
        };
        let mnt = fx.mnt().to_path_buf();
        fx.mount.take().unwrap().unmount().unwrap();
        assert!(!is_mounted_here(&mnt));
        assert!(fs::read_dir(&mnt).unwrap().next().is_none());
        let set: Arc<dyn DeviceSet> = fx.set.clone();
        fx.mount = Some(mount(set, &mnt).unwrap());
        assert_eq!(fx.names(), ["d"]);
    }

    #[test]
    fn unmount_while_open_detaches() {
        let Some(mut fx) = Fixture::new(&[("d", 4096, false)]) else {
            return;
        };
        let mnt = fx.mnt().to_path_buf();
        let f = fs::File::open(fx.path("d")).unwrap();
        fx.mount.take().unwrap().unmount().unwrap();
        assert!(!is_mounted_here(&mnt));
        // The opener keeps working until it closes.
        let mut buf = [1u8; 16];
        f.read_exact_at(&mut buf, 0).unwrap();
        assert_eq!(buf, [0; 16]);
        drop(f);
        wait_opens(&fx.dev("d"), 0);
    }

    #[test]
    fn stale_mount_of_a_dead_daemon_is_replaced() {
        let Some(mut fx) = Fixture::new(&[("d", 4096, false)]) else {
            return;
        };
        let mnt = fx.mnt().to_path_buf();
        fx.mount.take().unwrap().unmount().unwrap();
        // What a killed daemon leaves: a FUSE mount whose /dev/fuse is closed.
        {
            let dev = OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/fuse")
                .unwrap();
            use std::os::fd::AsRawFd;
            let opts = format!("fd={},rootmode=40000,user_id=0,group_id=0", dev.as_raw_fd());
            nix::mount::mount(
                Some("rdmd"),
                &mnt,
                Some("fuse.rlvm"),
                nix::mount::MsFlags::empty(),
                Some(opts.as_str()),
            )
            .unwrap();
        }
        assert_eq!(errno(&fs::metadata(&mnt).unwrap_err()), libc::ENOTCONN);
        let set: Arc<dyn DeviceSet> = fx.set.clone();
        fx.mount = Some(mount(set, &mnt).unwrap());
        assert_eq!(fx.names(), ["d"]);
    }

    /// A 1 MiB pread/pwrite from page-aligned memory (dd, fio, qemu, loop)
    /// reaches the daemon as one request: the init reply's max_write and
    /// max_pages took. Memory not page-aligned spans 257 pages, which the
    /// kernel's 256-page limit splits in two; both halves must still land.
    #[test]
    fn one_mib_from_aligned_memory_is_one_request() {
        if OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/fuse")
            .is_err()
        {
            eprintln!("SKIPPING FUSE TEST: cannot open /dev/fuse");
            return;
        }
        let log: Arc<Mutex<Vec<(char, u64, usize)>>> = Arc::default();
        let set = {
            let log = log.clone();
            TapSet::new(move |kind, offset, len| log.lock().unwrap().push((kind, offset, len)))
        };
        set.inner.add("d", 8 << 20, false);
        let dir = tempfile::tempdir().unwrap();
        let as_set: Arc<dyn DeviceSet> = set.clone();
        let m = mount(as_set, &dir.path().join("mapper")).unwrap();
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(m.mountpoint().join("d"))
            .unwrap();
        let mut backing = pattern(3 << 20, 9);
        let aligned = (4096 - backing.as_ptr() as usize % 4096) % 4096;
        let mib = 1usize << 20;
        let take = |log: &Mutex<Vec<(char, u64, usize)>>| std::mem::take(&mut *log.lock().unwrap());
        let buf = &mut backing[aligned..aligned + mib];
        let want = buf.to_vec();
        f.write_all_at(buf, 1 << 20).unwrap();
        assert_eq!(take(&log), [('w', 1 << 20, mib)]);
        buf.fill(0);
        f.read_exact_at(buf, 1 << 20).unwrap();
        assert_eq!(take(&log), [('r', 1 << 20, mib)]);
        assert!(*buf == want[..]);
        let buf = &mut backing[aligned + 16..aligned + 16 + mib];
        let want = buf.to_vec();
        f.write_all_at(buf, 3 << 20).unwrap();
        let writes = take(&log);
        assert_eq!(writes.iter().map(|w| w.2).sum::<usize>(), mib, "{writes:?}");
        buf.fill(0);
        f.read_exact_at(buf, 3 << 20).unwrap();
        assert!(*buf == want[..]);
        assert_eq!(
            &set.inner.devices.lock().unwrap()["d"].bytes.lock().unwrap()[3 << 20..4 << 20],
            &want[..]
        );
        drop(f);
        m.unmount().unwrap();
    }

    /// Undo a `losetup` even if the test fails.
    struct Loop(String);
    impl Drop for Loop {
        fn drop(&mut self) {
            let _ = Command::new("losetup").args(["-d", &self.0]).status();
        }
    }

    /// Undo a `mount` even if the test fails.
    struct Mounted(PathBuf);
    impl Drop for Mounted {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }

    #[test]
    fn mkfs_losetup_mount() {
        let Some(fx) = Fixture::new(&[("vg-fs", 64 << 20, false)]) else {
            return;
        };
        let dev = fx.path("vg-fs");
        run(Command::new("mkfs.ext4").args(["-q", "-F"]).arg(&dev));
        let out = Command::new("losetup")
            .args(["-f", "--show"])
            .arg(&dev)
            .output()
            .unwrap();
        if !out.status.success() {
            eprintln!(
                "SKIPPING LOOP PART OF mkfs_losetup_mount: losetup failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        let lo = Loop(String::from_utf8(out.stdout).unwrap().trim().to_string());
        let target = fx.dir.path().join("fs");
        fs::create_dir(&target).unwrap();
        run(Command::new("mount").arg(&lo.0).arg(&target));
        let mounted = Mounted(target.clone());
        let data = pattern(5 << 20, 3);
        fs::write(target.join("file"), &data).unwrap();
        run(Command::new("sync").arg("-f").arg(target.join("file")));
        drop(mounted);
        run(Command::new("mount")
            .args(["-o", "ro"])
            .arg(&lo.0)
            .arg(&target));
        let mounted = Mounted(target.clone());
        assert_eq!(fs::read(target.join("file")).unwrap(), data);
        drop(mounted);
        drop(lo);
        // A loop device doing O_DIRECT I/O on the file (as qemu's cache=none does).
        let out = Command::new("losetup")
            .args(["-f", "--show", "--direct-io=on"])
            .arg(&dev)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lo = Loop(String::from_utf8(out.stdout).unwrap().trim().to_string());
        let dio = fs::read_to_string(format!(
            "/sys/block/{}/loop/dio",
            lo.0.trim_start_matches("/dev/")
        ))
        .unwrap_or_default();
        eprintln!("loop dio: {}", dio.trim());
        run(Command::new("mount").arg(&lo.0).arg(&target));
        let mounted = Mounted(target.clone());
        assert_eq!(fs::read(target.join("file")).unwrap(), data);
        fs::write(target.join("file2"), &data[..1 << 20]).unwrap();
        drop(mounted);
        drop(lo);
        // The filesystem really is in the device, checked through the file.
        run(Command::new("e2fsck").args(["-f", "-n"]).arg(&dev));
    }
}

#[cfg(test)]
mod bench {
    use super::*;
    use crate::backend::userspace::export::memory::{MemSet, TapSet};
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    /// dd throughput through the mount against a plain copy; run by hand with
    /// `cargo test --release -- --ignored --nocapture fuse::bench`.
    #[test]
    #[ignore]
    fn dd_throughput() {
        const SIZE: usize = 1 << 30;
        // The largest request each way, to see what sizes the kernel sends.
        let (max_read, max_write) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let set = {
            let (max_read, max_write) = (max_read.clone(), max_write.clone());
            TapSet::new(move |kind, _, len| {
                let max = if kind == 'r' { &max_read } else { &max_write };
                max.fetch_max(len, Ordering::Relaxed);
            })
        };
        set.inner.add("d", SIZE, false);
        let dir = tempfile::tempdir().unwrap();
        let m = mount(set.clone(), &dir.path().join("mapper")).unwrap();
        let dev = m.mountpoint().join("d");

        // The baseline: the same bytes copied 1 MiB at a time straight into
        // the set, after a first pass has faulted every page in.
        let h = set.inner.open("d", true).unwrap();
        let mut buf = vec![7u8; 1 << 20];
        for pass in 0..2 {
            let t = Instant::now();
            for off in (0..SIZE).step_by(buf.len()) {
                h.write_at(&buf, off as u64).unwrap();
            }
            let w = t.elapsed().as_secs_f64();
            let t = Instant::now();
            for off in (0..SIZE).step_by(buf.len()) {
                h.read_at(&mut buf, off as u64).unwrap();
            }
            let r = t.elapsed().as_secs_f64();
            if pass == 1 {
                eprintln!(
                    "MemSet direct: write {:.0} MiB/s, read {:.0} MiB/s",
                    1024.0 / w,
                    1024.0 / r
                );
            }
        }
        drop(h);

        for (what, args) in [
            (
                "write",
                vec!["if=/dev/zero".to_string(), format!("of={}", dev.display())],
            ),
            (
                "read",
                vec![format!("if={}", dev.display()), "of=/dev/null".to_string()],
            ),
        ] {
            for bs in ["4k", "128k", "1M", "4M"] {
                let t = Instant::now();
                let out = Command::new("dd")
                    .args(&args)
                    .arg(format!("bs={bs}"))
                    .arg(format!("count={}", SIZE / parse(bs)))
                    .args(["conv=notrunc", "status=none"])
                    .status()
                    .unwrap();
                assert!(out.success());
                let s = t.elapsed().as_secs_f64();
                eprintln!("dd {what} bs={bs}: {:.0} MiB/s", 1024.0 / s);
            }
        }
        eprintln!(
            "largest requests: read {} write {}",
            max_read.load(Ordering::Relaxed),
            max_write.load(Ordering::Relaxed)
        );
        m.unmount().unwrap();
    }

    /// Per-request cost of 1 MiB reads and writes through the mount against
    /// the same device in-process, interleaved request by request so a loaded
    /// machine slows both alike; by hand with
    /// `cargo test --release -p rlvm --lib -- --ignored --nocapture fuse::bench::overhead`.
    #[test]
    #[ignore]
    fn overhead() {
        use std::os::unix::fs::FileExt;
        const SIZE: usize = 64 << 20;
        const REQ: usize = 1 << 20;
        let set = Arc::new(MemSet::default());
        set.add("d", SIZE, false);
        let dir = tempfile::tempdir().unwrap();
        let as_set: Arc<dyn DeviceSet> = set.clone();
        let m = mount(as_set, &dir.path().join("mapper")).unwrap();
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(m.mountpoint().join("d"))
            .unwrap();
        let h = set.open("d", true).unwrap();
        let mut backing = vec![5u8; 2 * REQ + 8192];
        let base = (4096 - backing.as_ptr() as usize % 4096) % 4096;
        let rounds = std::env::var("RLVM_FUSE_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5usize);
        for (what, skew) in [("aligned", 0), ("malloc-like (+16)", 16)] {
            let at = base + skew;
            let mut t = [Duration::ZERO; 4];
            let mut all: [Vec<Duration>; 5] = Default::default();
            let mut n = 0u32;
            for _ in 0..rounds {
                for off in (0..SIZE).step_by(REQ) {
                    let off = off as u64;
                    let buf = &mut backing[at..at + REQ];
                    let s = Instant::now();
                    h.write_at(buf, off).unwrap();
                    t[0] += s.elapsed();
                    all[0].push(s.elapsed());
                    let s = Instant::now();
                    f.write_all_at(buf, off).unwrap();
                    t[1] += s.elapsed();
                    all[1].push(s.elapsed());
                    let s = Instant::now();
                    f.sync_data().unwrap();
                    all[4].push(s.elapsed());
                    let s = Instant::now();
                    h.read_at(buf, off).unwrap();
                    t[2] += s.elapsed();
                    all[2].push(s.elapsed());
                    let s = Instant::now();
                    f.read_exact_at(buf, off).unwrap();
                    t[3] += s.elapsed();
                    all[3].push(s.elapsed());
                    n += 1;
                }
            }
            let us = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(n);
            for v in all.iter_mut() {
                v.sort();
            }
            let q = |v: &Vec<Duration>, p: usize| v[v.len() * p / 100].as_secs_f64() * 1e6;
            eprintln!(
                "{what}: fsync round trip min/p50/p90 us {:.0}/{:.0}/{:.0}",
                q(&all[4], 0),
                q(&all[4], 50),
                q(&all[4], 90)
            );
            eprintln!("{what}: min/p50/p90 us: w-ip {:.0}/{:.0}/{:.0} w-fuse {:.0}/{:.0}/{:.0} r-ip {:.0}/{:.0}/{:.0} r-fuse {:.0}/{:.0}/{:.0}",
                q(&all[0],0),q(&all[0],50),q(&all[0],90),q(&all[1],0),q(&all[1],50),q(&all[1],90),
                q(&all[2],0),q(&all[2],50),q(&all[2],90),q(&all[3],0),q(&all[3],50),q(&all[3],90));
            eprintln!(
                "{what}: write in-process {:.0} us, FUSE {:.0} us (+{:.0}); \
                 read in-process {:.0} us, FUSE {:.0} us (+{:.0})",
                us(t[0]),
                us(t[1]),
                us(t[1]) - us(t[0]),
                us(t[2]),
                us(t[3]),
                us(t[3]) - us(t[2]),
            );
        }
        drop(f);
        m.unmount().unwrap();
    }

    /// The engine (an origin with one snapshot, 64 KiB chunks, on image
    /// files) in-process against its FUSE mapper files, 1 MiB requests
    /// alternating between the two every 8 MiB, so the shared disk and CPU
    /// slow both alike (the engine bench runs them minutes apart):
    /// overwrites each followed by a flush, cold origin and snapshot reads.
    /// The backing files' readahead still serves one path's reads from the
    /// other's now and then (an in-process "cold" read at GiB/s): read the
    /// read rows over several rounds. On a VM whose disk interrupts land on
    /// one vCPU, a pwrite + fdatasync loop from the other ran 1.2-5x slower
    /// (344 against 1632 MiB/s in one pair of runs), so which CPU the flushing
    /// thread runs on moves a cell more than FUSE does; `taskset` both alike
    /// to compare them.
    /// By hand: `RLVM_BENCH_DIR=<not tmpfs> cargo test --release -p rlvm --lib
    /// -- --ignored --nocapture fuse::bench::engine_interleaved`.
    #[test]
    #[ignore]
    fn engine_interleaved() {
        use crate::backend::userspace::Engine;
        use crate::dm::{parse_table, StoreKind};
        use crate::ops::{self, DeviceSpec, OriginSpec, SnapshotSpec};
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::FileExt;
        const MIB: u64 = 1 << 20;
        let total: u64 = std::env::var("RLVM_FUSE_MIB")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256)
            * MIB;
        let parent = std::env::var_os("RLVM_BENCH_DIR").map_or("/var/tmp".into(), PathBuf::from);
        let dir = tempfile::tempdir_in(parent).unwrap();
        let evict = || {
            for e in fs::read_dir(dir.path()).unwrap().flatten() {
                if e.file_type().unwrap().is_file() {
                    let f = fs::File::open(e.path()).unwrap();
                    f.sync_data().unwrap();
                    // SAFETY: advisory call on a descriptor we own.
                    unsafe { libc::posix_fadvise(f.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
                }
            }
        };
        let base = dir.path().join("base.img");
        fs::write(&base, vec![0xa5u8; total as usize]).unwrap();
        let cow = dir.path().join("cow.img");
        fs::File::create(&cow)
            .unwrap()
            .set_len(total + (64 << 20))
            .unwrap();
        let engine = Engine::new(&dir.path().join("mapper"));
        let line = |t: String| parse_table(&t).unwrap();
        let origin = OriginSpec {
            top: DeviceSpec {
                name: "vg-base".into(),
                uuid: "LVM-fusebench-base".into(),
                table: line(format!("0 {} linear {} 0", total / 512, base.display())),
                read_only: false,
            },
            real_name: "vg-base-real".into(),
            real_uuid: "LVM-fusebench-base-real".into(),
        };
        let cow_len = total + (64 << 20);
        let spec = SnapshotSpec {
            name: "vg-s0".into(),
            uuid: "LVM-fusebench-s0".into(),
            read_only: false,
            cow: DeviceSpec {
                name: "vg-s0-cow".into(),
                uuid: "LVM-fusebench-s0-cow".into(),
                table: line(format!("0 {} linear {} 0", cow_len / 512, cow.display())),
                read_only: false,
            },
            store: StoreKind::Persistent,
            chunk_sectors: 128,
        };
        ops::add_snapshot(&engine, &origin, &spec, None).unwrap();
        let m = mount(Arc::new(engine.clone()), &dir.path().join("fuse")).unwrap();
        let file = |name: &str| {
            fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(m.mountpoint().join(name))
                .unwrap()
        };
        let origin_ip = DeviceSet::open(&engine, "vg-base", true).unwrap();
        let snap_ip = DeviceSet::open(&engine, "vg-s0", true).unwrap();
        let (origin_fuse, snap_fuse) = (file("vg-base"), file("vg-s0"));
        // Page-aligned, as dd's and the engine bench's buffers are: a Vec's
        // 1 MiB spans 257 pages, which FUSE sends as two requests.
        let mut backing = vec![0x5au8; MIB as usize + 4096];
        let skew = (4096 - backing.as_ptr() as usize % 4096) % 4096;
        let buf = &mut backing[skew..skew + MIB as usize];
        // Copy every chunk out first (not timed): what follows are overwrites.
        for off in (0..total).step_by(MIB as usize) {
            origin_ip.write_at(buf, off).unwrap();
        }
        origin_ip.flush().unwrap();
        for round in 0..3u64 {
            // Runs of 8 MiB alternate between the two (which comes first
            // alternates from round to round): long enough that the backing
            // file's readahead for one path seldom serves the other.
            let fuse_at = |off: u64| (off / (8 * MIB) + round) % 2 == 1;
            let mut t = [Duration::ZERO; 6];
            let mut split = [Duration::ZERO; 2];
            evict();
            for off in (0..total).step_by(MIB as usize) {
                buf.fill(round as u8);
                let s = Instant::now();
                if fuse_at(off) {
                    origin_fuse.write_all_at(buf, off).unwrap();
                    let w = s.elapsed();
                    origin_fuse.sync_data().unwrap();
                    t[1] += s.elapsed();
                    split[1] += w;
                } else {
                    origin_ip.write_at(buf, off).unwrap();
                    let w = s.elapsed();
                    origin_ip.flush().unwrap();
                    t[0] += s.elapsed();
                    split[0] += w;
                }
            }
            evict();
            for off in (0..total).step_by(MIB as usize) {
                let s = Instant::now();
                if fuse_at(off) {
                    origin_fuse.read_exact_at(buf, off).unwrap();
                    t[3] += s.elapsed();
                } else {
                    origin_ip.read_at(buf, off).unwrap();
                    t[2] += s.elapsed();
                }
                assert!(buf.iter().all(|&b| b == round as u8), "origin at {off}");
            }
            evict();
            for off in (0..total).step_by(MIB as usize) {
                let s = Instant::now();
                if fuse_at(off) {
                    snap_fuse.read_exact_at(buf, off).unwrap();
                    t[5] += s.elapsed();
                } else {
                    snap_ip.read_at(buf, off).unwrap();
                    t[4] += s.elapsed();
                }
                assert!(buf.iter().all(|&b| b == 0xa5), "snapshot at {off}");
            }
            let per = |d: Duration| d.as_secs_f64() * 1e6 / (total / 2 / MIB) as f64;
            eprintln!(
                "round {round} overwrite us/request: in-process write {:.0} + flush {:.0}, FUSE write {:.0} + flush {:.0}",
                per(split[0]), per(t[0] - split[0]), per(split[1]), per(t[1] - split[1])
            );
            let rate = |d: Duration| (total / 2 / MIB) as f64 / d.as_secs_f64();
            for (i, what) in ["origin overwrite", "origin cold read", "snapshot cold read"]
                .iter()
                .enumerate()
            {
                let (ip, fu) = (rate(t[2 * i]), rate(t[2 * i + 1]));
                eprintln!(
                    "round {round} {what:<18}: in-process {ip:>6.0} MiB/s, FUSE {fu:>6.0} MiB/s, {:.2}x",
                    fu / ip
                );
            }
        }
        drop((origin_fuse, snap_fuse, origin_ip, snap_ip));
        m.unmount().unwrap();
    }

    fn parse(bs: &str) -> usize {
        let (n, unit) = bs.split_at(bs.len() - 1);
        n.parse::<usize>().unwrap() * if unit == "k" { 1024 } else { 1 << 20 }
    }
}
