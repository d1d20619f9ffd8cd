//! What a target's device argument resolves to in the engine: another engine
//! device, or an image file or host block device opened once and shared by
//! every table that names it.

use std::collections::HashMap;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};

use crate::dm::DevRef;
use crate::io::{BlockIo, FileDisk};

use super::engine::Device;
use super::export::Extent;

/// The identity of an underlying device, used to find the snapshots of an
/// origin and the store already loaded on a COW, whatever path named it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum DevKey {
    /// An engine device, by minor.
    Dm(u32),
    /// A regular file, by (st_dev, st_ino).
    Inode(u64, u64),
    /// A host block device, by its device number.
    Block(u64),
}

/// An image file or host block device, opened once.
#[derive(Debug)]
pub(crate) struct SharedFile {
    disk: FileDisk,
    key: DevKey,
    number: Option<(u32, u32)>,
}

impl SharedFile {
    fn display(&self) -> String {
        match self.number {
            Some((major, minor)) => format!("{major}:{minor}"),
            None => self.disk.path().display().to_string(),
        }
    }
}

/// A device a table maps onto.
#[derive(Clone)]
pub(crate) enum Lower {
    /// Another engine device (I/O goes through its live table and its suspend gate).
    Dm(Arc<Device>),
    /// A file or host block device.
    File(Arc<SharedFile>),
}

impl std::fmt::Debug for Lower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lower({})", self.display())
    }
}

impl Lower {
    /// The identity snapshots and stores are keyed by.
    pub(crate) fn key(&self) -> DevKey {
        match self {
            Lower::Dm(dev) => DevKey::Dm(dev.minor),
            Lower::File(file) => file.key,
        }
    }

    /// How `table` prints it: `major:minor`, or an image file's path.
    pub(crate) fn display(&self) -> String {
        match self {
            Lower::Dm(dev) => format!("{}:{}", dev.major, dev.minor),
            Lower::File(file) => file.display(),
        }
    }

    /// `(major, minor)` when it has one (image files have none).
    pub(crate) fn number(&self) -> Option<(u32, u32)> {
        match self {
            Lower::Dm(dev) => Some((dev.major, dev.minor)),
            Lower::File(file) => file.number,
        }
    }

    /// How `offset..offset+len` is allocated: an image file's holes, an
    /// engine device's own answer, all data for a host block device.
    pub(crate) fn allocation(&self, offset: u64, len: u64) -> io::Result<Vec<Extent>> {
        match self {
            Lower::Dm(dev) => dev.allocation(offset, len),
            Lower::File(file) if file.number.is_none() => {
                super::table::file_allocation(file.disk.file(), offset, len)
            }
            Lower::File(_) => Ok(vec![Extent::data(len)]),
        }
    }

    /// Discard `len` bytes at `offset`: holes punched in image files, nothing elsewhere.
    pub(crate) fn discard(&self, offset: u64, len: u64) -> io::Result<()> {
        match self {
            Lower::Dm(dev) => dev.discard(offset, len),
            Lower::File(file) if file.number.is_none() => {
                use std::os::fd::AsRawFd;
                let (Ok(off), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
                    return Err(io::Error::from_raw_os_error(libc::EINVAL));
                };
                // SAFETY: fallocate on an fd we own; no memory is passed.
                let rc = unsafe {
                    libc::fallocate(
                        file.disk.file().as_raw_fd(),
                        libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                        off,
                        len,
                    )
                };
                // A filesystem without hole punching keeps the data: discard is advisory.
                let _ = rc;
                Ok(())
            }
            Lower::File(_) => Ok(()),
        }
    }
}

impl BlockIo for Lower {
    fn size_bytes(&self) -> io::Result<u64> {
        match self {
            Lower::Dm(dev) => Ok(dev.size_bytes()),
            Lower::File(file) => file.disk.size_bytes(),
        }
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        match self {
            Lower::Dm(dev) => dev.read_at(buf, offset),
            Lower::File(file) => file.disk.read_exact_at(buf, offset),
        }
    }

    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        match self {
            Lower::Dm(dev) => dev.write_at(buf, offset),
            Lower::File(file) => file.disk.write_all_at(buf, offset),
        }
    }

    fn write_durable_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        match self {
            Lower::Dm(dev) => dev.write_durable_at(buf, offset),
            Lower::File(file) => file.disk.write_durable_at(buf, offset),
        }
    }

    fn flush(&self) -> io::Result<()> {
        match self {
            Lower::Dm(dev) => dev.flush(),
            Lower::File(file) => file.disk.flush(),
        }
    }
}

/// Image files and host block devices currently open, so each is opened once.
#[derive(Default)]
pub(crate) struct FileCache {
    open: Mutex<HashMap<DevKey, Weak<SharedFile>>>,
}

impl FileCache {
    /// Open `path` (or share the open one).
    pub(crate) fn open(&self, path: &Path) -> io::Result<Arc<SharedFile>> {
        let meta = std::fs::metadata(path)?;
        let is_block = meta.file_type().is_block_device();
        let key = if is_block {
            DevKey::Block(meta.rdev())
        } else if meta.is_file() {
            DevKey::Inode(meta.dev(), meta.ino())
        } else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file or block device",
            ));
        };
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(file) = open.get(&key).and_then(Weak::upgrade) {
            return Ok(file);
        }
        open.retain(|_, weak| weak.strong_count() > 0);
        let number = is_block.then(|| {
            let rdev = meta.rdev();
            (libc::major(rdev), libc::minor(rdev))
        });
        let file = Arc::new(SharedFile {
            disk: FileDisk::open(path)?,
            key,
            number,
        });
        open.insert(key, Arc::downgrade(&file));
        Ok(file)
    }
}

impl FileCache {
    /// fdatasync every file still open.
    pub(crate) fn sync_all(&self) {
        let open: Vec<Arc<SharedFile>> = self
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        for file in open {
            let _ = file.disk.flush();
        }
    }
}

/// The node of host block device `major:minor`, from sysfs (no udev needed).
pub(crate) fn host_block_path(major: u32, minor: u32) -> Option<PathBuf> {
    let uevent = std::fs::read_to_string(format!("/sys/dev/block/{major}:{minor}/uevent")).ok()?;
    let name = uevent
        .lines()
        .find_map(|line| line.strip_prefix("DEVNAME="))?;
    Some(Path::new("/dev").join(name))
}

/// The block major the engine numbers its devices with: the highest number
/// from 254 down that no host block driver uses, as the kernel picks a
/// dynamic major, so an engine `major:minor` never names a host device.
pub(crate) fn engine_major() -> u32 {
    let used: Vec<u32> = std::fs::read_to_string("/proc/devices")
        .unwrap_or_default()
        .lines()
        .skip_while(|line| !line.starts_with("Block devices:"))
        .skip(1)
        .filter_map(|line| line.split_whitespace().next()?.parse().ok())
        .collect();
    (200..=254)
        .rev()
        .find(|major| !used.contains(major))
        .unwrap_or(254)
}

/// Resolve a table's device argument: engine devices by number or mapper
/// path, other numbers through sysfs, other paths opened as files.
pub(crate) fn resolve(
    dev: &DevRef,
    major: u32,
    mapper_dir: &Path,
    by_minor: impl Fn(u32) -> Option<Arc<Device>>,
    by_name: impl Fn(&str) -> Option<Arc<Device>>,
    files: &FileCache,
) -> Result<Lower, String> {
    let lookup_failed = || format!("device {dev} lookup failed");
    match dev {
        DevRef::Number { major: m, minor } if *m == major => {
            by_minor(*minor).map(Lower::Dm).ok_or_else(lookup_failed)
        }
        DevRef::Number { major: m, minor } => {
            let path = host_block_path(*m, *minor).ok_or_else(lookup_failed)?;
            files
                .open(&path)
                .map(Lower::File)
                .map_err(|e| format!("device {dev} lookup failed: {e}"))
        }
        DevRef::Path(path) => {
            let in_mapper = path.parent() == Some(mapper_dir)
                || (path.parent() == Some(Path::new("/dev/mapper")) && !path.exists());
            if in_mapper {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                return by_name(name).map(Lower::Dm).ok_or_else(lookup_failed);
            }
            files
                .open(path)
                .map(Lower::File)
                .map_err(|e| format!("device {dev} lookup failed: {e}"))
        }
    }
}
