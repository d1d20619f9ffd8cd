//! How the engine's devices reach ordinary programs: as files under a FUSE
//! mount (`$RLVM_DIR/mapper/<dm name>`, the userspace twin of `/dev/mapper`)
//! and as NBD exports on a unix socket. Both sit on [`DeviceSet`], so neither
//! knows anything of tables or targets, and each is tested over a plain
//! in-memory set.

use std::io;
use std::sync::Arc;

pub mod fuse;
pub mod nbd;

/// One device as an export sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportInfo {
    /// dm name (the file name under the mapper directory, the NBD export name).
    pub name: String,
    /// Current size in bytes (the live table's length).
    pub size_bytes: u64,
    /// The device refuses writes.
    pub read_only: bool,
}

/// The devices an export serves. Errors are `io::Error`s carrying the errno a
/// block device would give (`ENOENT` no such device, `EROFS`, `EIO`), so an
/// export can hand them on unchanged.
pub trait DeviceSet: Send + Sync + 'static {
    /// Every device with a live table, sorted by name.
    fn devices(&self) -> Vec<ExportInfo>;
    /// Open a device; the handle counts in the device's open count until dropped.
    fn open(&self, name: &str, writable: bool) -> io::Result<Arc<dyn OpenDevice>>;
}

/// An opened device: byte-addressed I/O through its live table.
pub trait OpenDevice: Send + Sync {
    /// Current size in bytes (re-read each call: a reloaded table may change it).
    fn size_bytes(&self) -> u64;
    /// Whether writes are refused.
    fn read_only(&self) -> bool;
    /// Fill `buf` from `offset`; the range must lie inside the device.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
    /// Write all of `buf` at `offset`; the range must lie inside the device.
    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;
    /// Make completed writes durable.
    fn flush(&self) -> io::Result<()>;
    /// Tell the device `len` bytes at `offset` are no longer needed (may do nothing).
    fn discard(&self, offset: u64, len: u64) -> io::Result<()>;
    /// How bytes `offset..offset+len` are allocated, as runs from `offset`
    /// on (NBD's `base:allocation`); a device that cannot tell is all data.
    fn allocation(&self, offset: u64, len: u64) -> io::Result<Vec<Extent>> {
        let _ = offset;
        Ok(vec![Extent::data(len)])
    }
}

/// A run of a device's bytes, as NBD's `base:allocation` describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    /// Length in bytes.
    pub len: u64,
    /// Not allocated (a hole of a sparse image, a chunk no store holds).
    pub hole: bool,
    /// Reads as zeros.
    pub zero: bool,
}

impl Extent {
    /// `len` allocated bytes.
    pub fn data(len: u64) -> Self {
        Self {
            len,
            hole: false,
            zero: false,
        }
    }

    /// `len` bytes of hole that read as zeros.
    pub fn hole(len: u64) -> Self {
        Self {
            len,
            hole: true,
            zero: true,
        }
    }
}

/// Append `extent` to `runs`, merged into the last run when they are alike.
pub(crate) fn push_extent(runs: &mut Vec<Extent>, extent: Extent) {
    if extent.len == 0 {
        return;
    }
    match runs.last_mut() {
        Some(last) if last.hole == extent.hole && last.zero == extent.zero => {
            last.len += extent.len
        }
        _ => runs.push(extent),
    }
}

/// An in-memory [`DeviceSet`] for the exports' own tests.
#[cfg(test)]
pub(crate) mod memory {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    /// A device backed by a byte vector.
    pub struct MemDevice {
        pub bytes: Mutex<Vec<u8>>,
        pub read_only: bool,
        pub opens: AtomicUsize,
        pub flushes: AtomicUsize,
    }

    /// Devices by name.
    #[derive(Default)]
    pub struct MemSet {
        pub devices: Mutex<BTreeMap<String, Arc<MemDevice>>>,
    }

    impl MemSet {
        pub fn add(&self, name: &str, size: usize, read_only: bool) -> Arc<MemDevice> {
            let dev = Arc::new(MemDevice {
                bytes: Mutex::new(vec![0; size]),
                read_only,
                opens: AtomicUsize::new(0),
                flushes: AtomicUsize::new(0),
            });
            self.devices
                .lock()
                .unwrap()
                .insert(name.to_string(), dev.clone());
            dev
        }
    }

    struct Handle(Arc<MemDevice>);

    impl Drop for Handle {
        fn drop(&mut self) {
            self.0.opens.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn range(len: usize, offset: u64, count: usize) -> io::Result<std::ops::Range<usize>> {
        let start = usize::try_from(offset).map_err(|_| io::Error::from_raw_os_error(libc::EIO))?;
        match start.checked_add(count) {
            Some(end) if end <= len => Ok(start..end),
            _ => Err(io::Error::from_raw_os_error(libc::EIO)),
        }
    }

    impl OpenDevice for Handle {
        fn size_bytes(&self) -> u64 {
            self.0.bytes.lock().unwrap().len() as u64
        }
        fn read_only(&self) -> bool {
            self.0.read_only
        }
        fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
            let bytes = self.0.bytes.lock().unwrap();
            let r = range(bytes.len(), offset, buf.len())?;
            buf.copy_from_slice(&bytes[r]);
            Ok(())
        }
        fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
            if self.0.read_only {
                return Err(io::Error::from_raw_os_error(libc::EROFS));
            }
            let mut bytes = self.0.bytes.lock().unwrap();
            let r = range(bytes.len(), offset, buf.len())?;
            bytes[r].copy_from_slice(buf);
            Ok(())
        }
        fn flush(&self) -> io::Result<()> {
            self.0.flushes.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
        /// All-zero 4 KiB blocks are holes, as a sparse file's would be.
        fn allocation(&self, offset: u64, len: u64) -> io::Result<Vec<super::Extent>> {
            let bytes = self.0.bytes.lock().unwrap();
            let r = range(bytes.len(), offset, len as usize)?;
            let mut extents: Vec<super::Extent> = Vec::new();
            let mut at = r.start;
            while at < r.end {
                let end = ((at / 4096 + 1) * 4096).min(r.end);
                let hole = bytes[at..end].iter().all(|&b| b == 0);
                match extents.last_mut() {
                    Some(last) if last.hole == hole => last.len += (end - at) as u64,
                    _ => extents.push(super::Extent {
                        len: (end - at) as u64,
                        hole,
                        zero: hole,
                    }),
                }
                at = end;
            }
            Ok(extents)
        }
        fn discard(&self, offset: u64, len: u64) -> io::Result<()> {
            let mut bytes = self.0.bytes.lock().unwrap();
            let r = range(bytes.len(), offset, len as usize)?;
            bytes[r].fill(0);
            Ok(())
        }
    }

    impl DeviceSet for MemSet {
        fn devices(&self) -> Vec<ExportInfo> {
            self.devices
                .lock()
                .unwrap()
                .iter()
                .map(|(name, d)| ExportInfo {
                    name: name.clone(),
                    size_bytes: d.bytes.lock().unwrap().len() as u64,
                    read_only: d.read_only,
                })
                .collect()
        }
        fn open(&self, name: &str, writable: bool) -> io::Result<Arc<dyn OpenDevice>> {
            let dev = self
                .devices
                .lock()
                .unwrap()
                .get(name)
                .cloned()
                .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
            if writable && dev.read_only {
                return Err(io::Error::from_raw_os_error(libc::EROFS));
            }
            dev.opens.fetch_add(1, Ordering::SeqCst);
            Ok(Arc::new(Handle(dev)))
        }
    }

    /// What a [`TapSet`] is told of each read (`'r'`) and write (`'w'`): kind, offset, length.
    type TapFn = dyn Fn(char, u64, usize) + Send + Sync;

    /// A [`MemSet`] whose devices tell `tap` of every read and write before
    /// serving it: how a test sees the requests an export sends down.
    pub struct TapSet {
        pub inner: MemSet,
        tap: Arc<TapFn>,
    }

    impl TapSet {
        /// An empty set (add devices to `inner`) reporting to `tap`.
        pub fn new(tap: impl Fn(char, u64, usize) + Send + Sync + 'static) -> Arc<Self> {
            Arc::new(Self {
                inner: MemSet::default(),
                tap: Arc::new(tap),
            })
        }
    }

    struct Tapped {
        inner: Arc<dyn OpenDevice>,
        tap: Arc<TapFn>,
    }

    impl OpenDevice for Tapped {
        fn size_bytes(&self) -> u64 {
            self.inner.size_bytes()
        }
        fn read_only(&self) -> bool {
            self.inner.read_only()
        }
        fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
            (self.tap)('r', offset, buf.len());
            self.inner.read_at(buf, offset)
        }
        fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
            (self.tap)('w', offset, buf.len());
            self.inner.write_at(buf, offset)
        }
        fn flush(&self) -> io::Result<()> {
            self.inner.flush()
        }
        fn discard(&self, offset: u64, len: u64) -> io::Result<()> {
            self.inner.discard(offset, len)
        }
    }

    impl DeviceSet for TapSet {
        fn devices(&self) -> Vec<ExportInfo> {
            self.inner.devices()
        }
        fn open(&self, name: &str, writable: bool) -> io::Result<Arc<dyn OpenDevice>> {
            Ok(Arc::new(Tapped {
                inner: self.inner.open(name, writable)?,
                tap: self.tap.clone(),
            }))
        }
    }

    type ReadFn = dyn Fn(&mut [u8], u64) -> io::Result<()> + Send + Sync;
    type WriteFn = dyn Fn(&[u8], u64) -> io::Result<()> + Send + Sync;
    type FlushFn = dyn Fn() -> io::Result<()> + Send + Sync;
    type DiscardFn = dyn Fn(u64, u64) -> io::Result<()> + Send + Sync;

    /// A device whose I/O is what a test says: one that fails, waits or
    /// computes its bytes. Unless told otherwise it reads zeros and
    /// accepts every write, flush and discard.
    pub struct FakeDevice {
        size: u64,
        read_only: bool,
        read: Box<ReadFn>,
        write: Box<WriteFn>,
        flush: Box<FlushFn>,
        discard: Box<DiscardFn>,
    }

    impl FakeDevice {
        /// A writable device of `size` bytes.
        pub fn new(size: u64) -> Self {
            Self {
                size,
                read_only: false,
                read: Box::new(|buf, _| {
                    buf.fill(0);
                    Ok(())
                }),
                write: Box::new(|_, _| Ok(())),
                flush: Box::new(|| Ok(())),
                discard: Box::new(|_, _| Ok(())),
            }
        }

        /// Marked read-only (writes still go to the write closure).
        pub fn read_only(mut self) -> Self {
            self.read_only = true;
            self
        }

        /// Reads are `read(buf, offset)`.
        pub fn reads(
            mut self,
            read: impl Fn(&mut [u8], u64) -> io::Result<()> + Send + Sync + 'static,
        ) -> Self {
            self.read = Box::new(read);
            self
        }

        /// Writes are `write(data, offset)`.
        pub fn writes(
            mut self,
            write: impl Fn(&[u8], u64) -> io::Result<()> + Send + Sync + 'static,
        ) -> Self {
            self.write = Box::new(write);
            self
        }

        /// Flushes are `flush()`.
        pub fn flushes(
            mut self,
            flush: impl Fn() -> io::Result<()> + Send + Sync + 'static,
        ) -> Self {
            self.flush = Box::new(flush);
            self
        }

        /// Discards are `discard(offset, len)`.
        pub fn discards(
            mut self,
            discard: impl Fn(u64, u64) -> io::Result<()> + Send + Sync + 'static,
        ) -> Self {
            self.discard = Box::new(discard);
            self
        }
    }

    impl OpenDevice for FakeDevice {
        fn size_bytes(&self) -> u64 {
            self.size
        }
        fn read_only(&self) -> bool {
            self.read_only
        }
        fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
            (self.read)(buf, offset)
        }
        fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
            (self.write)(buf, offset)
        }
        fn flush(&self) -> io::Result<()> {
            (self.flush)()
        }
        fn discard(&self, offset: u64, len: u64) -> io::Result<()> {
            (self.discard)(offset, len)
        }
    }

    /// One [`FakeDevice`] under every name but those `refused` lists,
    /// which fail to open with their errno; lists no devices.
    pub struct FakeSet {
        device: Arc<FakeDevice>,
        refused: Vec<(&'static str, i32)>,
    }

    impl FakeSet {
        /// `device` under every name.
        pub fn new(device: FakeDevice) -> Arc<Self> {
            Self::refusing(device, &[])
        }

        /// `device` under every name but `refused`'s, which fail with their errno.
        pub fn refusing(device: FakeDevice, refused: &[(&'static str, i32)]) -> Arc<Self> {
            Arc::new(Self {
                device: Arc::new(device),
                refused: refused.to_vec(),
            })
        }
    }

    impl DeviceSet for FakeSet {
        fn devices(&self) -> Vec<ExportInfo> {
            Vec::new()
        }
        fn open(&self, name: &str, _: bool) -> io::Result<Arc<dyn OpenDevice>> {
            match self.refused.iter().find(|(refused, _)| *refused == name) {
                Some(&(_, errno)) => Err(io::Error::from_raw_os_error(errno)),
                None => Ok(self.device.clone()),
            }
        }
    }
}
