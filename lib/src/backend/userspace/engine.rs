//! The engine: dm devices held in memory as the kernel holds them (a live and
//! an inactive table each, a suspend gate, an event counter, an open count),
//! driven through the same [`Backend`] trait as the kernel.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::backend::{
    Backend, BackendError, BackendKind, CreateOptions, DeviceInfo, DeviceSummary, Result,
    SuspendMode, TableSlot, TargetVersion,
};
use crate::dm::{RawLine, StoreKind, TableLine, Target};

use super::export::{DeviceSet, ExportInfo, Extent, OpenDevice};
use super::links;
use super::lockfs;
use super::lower::{engine_major, resolve, FileCache, Lower};
use super::snapshot::{MergeTarget, OriginTarget, SnapshotRegistry};
use super::table::{check_layout, Line, Mapped, Table};

/// The ioctl interface version the engine implements (the kernel 6.1's).
pub const DRIVER_VERSION: [u32; 3] = [4, 47, 0];

/// The read-ahead the engine reports for every device, in sectors: the
/// kernel's default for a new dm device (`VM_READAHEAD_PAGES`, 128 KiB).
pub const READ_AHEAD_SECTORS: u32 = 256;

/// The targets the engine runs, with the versions of the kernel 6.1 targets it follows.
pub const TARGETS: [(&str, [u32; 3]); 6] = [
    ("snapshot-merge", [1, 5, 0]),
    ("snapshot-origin", [1, 9, 0]),
    ("snapshot", [1, 16, 0]),
    ("zero", [1, 2, 0]),
    ("error", [1, 6, 0]),
    ("linear", [1, 4, 0]),
];

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn errno(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

#[derive(Default)]
struct DevState {
    live: Option<Arc<Table>>,
    inactive: Option<Arc<Table>>,
    suspended: bool,
    removed: bool,
    in_flight: u32,
    /// Suspends waiting for `in_flight` to reach 0.
    draining: u32,
    event_nr: u32,
    /// Filesystems this suspend froze, thawed by the resume.
    frozen: lockfs::Frozen,
}

/// One engine device.
pub struct Device {
    pub(crate) major: u32,
    pub(crate) minor: u32,
    name: Mutex<String>,
    uuid: String,
    read_only: bool,
    state: Mutex<DevState>,
    cond: Condvar,
    holders: AtomicI32,
    opens: AtomicI32,
}

/// I/O admitted through the suspend gate; leaving wakes a waiting suspend.
struct InFlight<'a> {
    device: &'a Device,
    table: Arc<Table>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut state = lock(&self.device.state);
        state.in_flight -= 1;
        // A wake nobody waits for is still a futex call, on every I/O that
        // leaves the device idle.
        if state.in_flight == 0 && state.draining > 0 {
            self.device.cond.notify_all();
        }
    }
}

impl Device {
    fn name(&self) -> String {
        lock(&self.name).clone()
    }

    /// Wait while suspended, then count the I/O in.
    fn enter(&self) -> io::Result<InFlight<'_>> {
        let mut state = lock(&self.state);
        while state.suspended && !state.removed {
            state = self.cond.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        if state.removed {
            return Err(errno(libc::ENXIO));
        }
        let table = state.live.clone().ok_or_else(|| errno(libc::EIO))?;
        state.in_flight += 1;
        Ok(InFlight {
            device: self,
            table,
        })
    }

    /// Size of the live table in bytes (0 without one).
    pub(crate) fn size_bytes(&self) -> u64 {
        lock(&self.state)
            .live
            .as_ref()
            .map_or(0, |t| t.len_sectors() * 512)
    }

    /// Read through the live table.
    pub(crate) fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let io = self.enter()?;
        io.table.read_at(buf, offset)
    }

    /// Write through the live table.
    pub(crate) fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        if self.read_only {
            return Err(errno(libc::EROFS));
        }
        let io = self.enter()?;
        io.table.write_at(buf, offset)
    }

    /// Write through the live table, durable on return (these bytes alone
    /// where the devices under it allow: [`crate::io::BlockIo::write_durable_at`]).
    pub(crate) fn write_durable_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        if self.read_only {
            return Err(errno(libc::EROFS));
        }
        let io = self.enter()?;
        io.table.write_durable_at(buf, offset)
    }

    /// Flush every device under the live table.
    pub(crate) fn flush(&self) -> io::Result<()> {
        let io = self.enter()?;
        io.table.flush()
    }

    /// Discard through the live table.
    pub(crate) fn discard(&self, offset: u64, len: u64) -> io::Result<()> {
        if self.read_only {
            return Err(errno(libc::EROFS));
        }
        let io = self.enter()?;
        io.table.discard(offset, len)
    }

    /// How bytes are allocated, through the live table (NBD block status).
    pub(crate) fn allocation(&self, offset: u64, len: u64) -> io::Result<Vec<Extent>> {
        let io = self.enter()?;
        io.table.allocation(offset, len)
    }

    /// A table now maps onto this device.
    pub(crate) fn hold(&self) {
        self.holders.fetch_add(1, Ordering::AcqRel);
    }

    /// A table that mapped onto this device is gone.
    pub(crate) fn unhold(&self) {
        self.holders.fetch_sub(1, Ordering::AcqRel);
    }

    /// Bump the event counter and wake `wait`ers (invalidation, as `dm_table_event`).
    pub(crate) fn raise_event(&self) {
        let mut state = lock(&self.state);
        state.event_nr = state.event_nr.wrapping_add(1);
        self.cond.notify_all();
    }

    fn open_count(&self) -> i32 {
        self.holders.load(Ordering::Acquire) + self.opens.load(Ordering::Acquire)
    }

    fn info(&self) -> DeviceInfo {
        let state = lock(&self.state);
        DeviceInfo {
            name: self.name(),
            uuid: self.uuid.clone(),
            major: self.major,
            minor: self.minor,
            open_count: self.open_count(),
            event_nr: state.event_nr,
            suspended: state.suspended,
            read_only: self.read_only,
            live_table: state.live.is_some(),
            inactive_table: state.inactive.is_some(),
            target_count: state.live.as_ref().map_or(0, |t| t.lines.len() as u32),
        }
    }
}

struct EngineInner {
    major: u32,
    mapper_dir: PathBuf,
    devices: Mutex<BTreeMap<String, Arc<Device>>>,
    files: FileCache,
    snapshots: SnapshotRegistry,
}

/// The userspace device-mapper. Cheap to clone; clones share the devices.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl Engine {
    /// An engine with no devices, whose devices appear to programs under `mapper_dir`.
    pub fn new(mapper_dir: &Path) -> Self {
        Self {
            inner: Arc::new(EngineInner {
                major: engine_major(),
                mapper_dir: mapper_dir.to_path_buf(),
                devices: Mutex::new(BTreeMap::new()),
                files: FileCache::default(),
                snapshots: SnapshotRegistry::default(),
            }),
        }
    }

    /// The block major the engine's devices carry.
    pub fn major(&self) -> u32 {
        self.inner.major
    }

    /// Make everything written to image files and host devices durable.
    pub fn sync_files(&self) {
        self.inner.files.sync_all();
    }

    /// The devices programs hold open (mapper files, NBD connections, and so
    /// loop devices and filesystems over them), with their opener counts:
    /// what the kernel would answer `EBUSY` for. Layers held only by other
    /// engine devices are not listed.
    pub fn open_devices(&self) -> Vec<(String, i32)> {
        lock(&self.inner.devices)
            .iter()
            .map(|(name, d)| (name.clone(), d.opens.load(Ordering::Acquire)))
            .filter(|(_, opens)| *opens > 0)
            .collect()
    }

    /// `suspend`, returning what it could not do as warning lines: with
    /// [`SuspendMode::Flush`] the filesystems mounted on loop devices over
    /// the mapper file are frozen first (the kernel's lockfs), and an open
    /// device with none is named, since its snapshot may need recovery.
    pub fn suspend_locking_fs(&self, name: &str, mode: SuspendMode) -> Result<Vec<String>> {
        let device = self.device(name)?;
        if lock(&device.state).suspended {
            return Ok(Vec::new());
        }
        let mut warnings = Vec::new();
        let frozen = if mode == SuspendMode::Flush {
            let file = lockfs::canonical_file(&self.inner.mapper_dir, name);
            let (frozen, problems) = lockfs::freeze(&file);
            warnings.extend(problems.into_iter().map(|p| format!("{name}: {p}")));
            if frozen.is_empty() && device.opens.load(Ordering::Acquire) > 0 {
                warnings.push(format!(
                    "{name} is open but no filesystem on it was frozen for the suspend (the engine freezes only filesystems mounted through a loop device over {}): a snapshot taken now may need recovery",
                    file.display()
                ));
            }
            frozen
        } else {
            lockfs::Frozen::default()
        };
        let live = {
            let mut state = lock(&device.state);
            if state.suspended {
                drop(state);
                lockfs::thaw(frozen);
                return Ok(Vec::new());
            }
            state.suspended = true;
            state.frozen = frozen;
            state.live.clone()
        };
        if let Some(live) = &live {
            live.presuspend();
        }
        {
            let mut state = lock(&device.state);
            state.draining += 1;
            while state.in_flight > 0 {
                state = device.cond.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            state.draining -= 1;
        }
        if let (Some(live), SuspendMode::Flush | SuspendMode::FlushNoLockfs) = (&live, mode) {
            live.flush().map_err(|source| BackendError::Io {
                context: format!("{name}: flushing on suspend"),
                source,
            })?;
        }
        Ok(warnings)
    }

    /// The state directory around the mapper directory, where the
    /// `VG/LV` links live.
    fn state_dir(&self) -> &Path {
        self.inner
            .mapper_dir
            .parent()
            .unwrap_or(&self.inner.mapper_dir)
    }

    /// Undo what the devices did outside the engine, as the daemon stops
    /// and its devices go: their `VG/LV` links, and filesystems a suspend
    /// froze (left frozen, they would hang their writers for ever).
    pub fn release_host_state(&self) {
        for (name, device) in lock(&self.inner.devices).iter() {
            links::remove(self.state_dir(), name, &device.uuid);
            lockfs::thaw(std::mem::take(&mut lock(&device.state).frozen));
        }
    }

    /// Where `vg/lv` appears, as `/dev/VG/LV` on a kernel host.
    pub fn lv_link(&self, vg: &str, lv: &str) -> PathBuf {
        self.state_dir().join(vg).join(lv)
    }

    /// Where the devices appear as files.
    pub fn mapper_dir(&self) -> &Path {
        &self.inner.mapper_dir
    }

    fn device(&self, name: &str) -> Result<Arc<Device>> {
        lock(&self.inner.devices)
            .get(name)
            .cloned()
            .ok_or_else(|| BackendError::NoSuchDevice {
                name: name.to_string(),
            })
    }

    fn by_minor(&self, minor: u32) -> Option<Arc<Device>> {
        lock(&self.inner.devices)
            .values()
            .find(|d| d.minor == minor)
            .cloned()
    }

    /// `create`, at `minor` when given.
    fn create_at(
        &self,
        name: &str,
        options: &CreateOptions,
        minor: Option<u32>,
    ) -> Result<DeviceInfo> {
        valid_name(name)?;
        let mut devices = lock(&self.inner.devices);
        let uuid = options.uuid.clone().unwrap_or_default();
        if devices.contains_key(name)
            || (!uuid.is_empty() && devices.values().any(|d| d.uuid == uuid))
        {
            return Err(BackendError::AlreadyExists {
                name: name.to_string(),
            });
        }
        // The kernel hands out the lowest free minor, or the one asked for.
        let mut used: Vec<u32> = devices.values().map(|d| d.minor).collect();
        used.sort_unstable();
        let minor = match minor {
            Some(minor) if used.contains(&minor) => {
                return Err(BackendError::DeviceBusy {
                    name: name.to_string(),
                    reason: format!("minor {minor} is taken"),
                })
            }
            Some(minor) => minor,
            None => used
                .iter()
                .enumerate()
                .find(|(i, m)| *i as u32 != **m)
                .map_or(used.len() as u32, |(i, _)| i as u32),
        };
        let device = Arc::new(Device {
            major: self.inner.major,
            minor,
            name: Mutex::new(name.to_string()),
            uuid,
            read_only: options.read_only,
            state: Mutex::new(DevState::default()),
            cond: Condvar::new(),
            holders: AtomicI32::new(0),
            opens: AtomicI32::new(0),
        });
        devices.insert(name.to_string(), device.clone());
        links::add(self.state_dir(), name, &device.uuid);
        Ok(device.info())
    }

    /// Bind one parsed line to its devices, running the target's constructor checks.
    fn bind(&self, line: &TableLine) -> std::result::Result<Line, String> {
        let lower = |dev| {
            resolve(
                dev,
                self.inner.major,
                &self.inner.mapper_dir,
                |minor| self.by_minor(minor),
                |name| lock(&self.inner.devices).get(name).cloned(),
                &self.inner.files,
            )
        };
        // The kernel's device_area_is_invalid, with its words; no sum may wrap.
        let too_small = |dev: &Lower, start: u64| -> std::result::Result<(), String> {
            let size = crate::io::BlockIo::size_bytes(dev).map_err(|e| e.to_string())?;
            let dev_size = size / 512;
            if start >= dev_size
                || start
                    .checked_add(line.length)
                    .is_none_or(|end| end > dev_size)
            {
                return Err(format!(
                    "{} too small for target: start={start}, len={}, dev_size={dev_size}",
                    dev.display(),
                    line.length
                ));
            }
            Ok(())
        };
        let target = match &line.target {
            Target::Linear {
                device,
                offset_sectors,
            } => {
                let dev = lower(device)?;
                too_small(&dev, *offset_sectors)?;
                Mapped::Linear {
                    dev,
                    offset: offset_sectors * 512,
                }
            }
            Target::Striped {
                chunk_sectors,
                stripes,
            } => {
                // dm-stripe's constructor checks, with its words.
                let n = stripes.len() as u64;
                if line.length % n != 0 {
                    return Err("striped: Target length not divisible by number of stripes".into());
                }
                let width = line.length / n;
                if width % chunk_sectors != 0 {
                    return Err("striped: Target length not divisible by chunk size".into());
                }
                let mut devs = Vec::with_capacity(stripes.len());
                for (device, offset) in stripes {
                    let dev = lower(device).map_err(|e| format!("striped: {e}"))?;
                    let size =
                        crate::io::BlockIo::size_bytes(&dev).map_err(|e| e.to_string())? / 512;
                    if offset.checked_add(width).is_none_or(|end| end > size) {
                        return Err(format!(
                            "{} too small for target: start={offset}, len={width}, dev_size={size}",
                            dev.display()
                        ));
                    }
                    devs.push((dev, offset * 512));
                }
                Mapped::Striped {
                    chunk: chunk_sectors * 512,
                    devs,
                }
            }
            Target::Zero => Mapped::Zero,
            Target::Error => Mapped::Error,
            Target::SnapshotOrigin { origin } => {
                let dev = lower(origin)?;
                too_small(&dev, 0)?;
                Mapped::Origin(OriginTarget::new(&self.inner.snapshots, dev))
            }
            Target::Snapshot(params) | Target::SnapshotMerge(params) => {
                let merge = matches!(line.target, Target::SnapshotMerge(_));
                let name = if merge { "snapshot-merge" } else { "snapshot" };
                let origin = lower(&params.origin).map_err(|e| format!("{name}: {e}"))?;
                let cow = lower(&params.cow).map_err(|e| format!("{name}: {e}"))?;
                if origin.key() == cow.key() {
                    return Err(format!(
                        "{name}: COW device cannot be the same as origin device"
                    ));
                }
                if params.chunk_sectors != 0 {
                    crate::cow::validate_chunk_size_kernel(u64::from(params.chunk_sectors), 512)
                        .map_err(|e| format!("{name}: {e}"))?;
                }
                check_features(&params.features).map_err(|e| format!("{name}: {e}"))?;
                if merge && params.store == StoreKind::Transient {
                    return Err(format!(
                        "{name}: Merge target only supports persistent snapshots"
                    ));
                }
                too_small(&origin, 0)?;
                let core =
                    self.inner
                        .snapshots
                        .core(origin, cow, params.store, params.chunk_sectors)?;
                if merge {
                    Mapped::Merge(MergeTarget::new(core).map_err(|e| format!("{name}: {e}"))?)
                } else {
                    Mapped::Snapshot(core)
                }
            }
            Target::Other { target_type, .. } => {
                return Err(format!("{target_type}: unknown target type"))
            }
        };
        let features = match &line.target {
            Target::Snapshot(params) | Target::SnapshotMerge(params) => params.features.clone(),
            _ => Vec::new(),
        };
        Ok(Line {
            start: line.start,
            len: line.length,
            target,
            features,
        })
    }
}

fn check_features(features: &[String]) -> std::result::Result<(), String> {
    for feature in features {
        match feature.as_str() {
            "discard_zeroes_cow" => {}
            "discard_passdown_origin" if features.iter().any(|f| f == "discard_zeroes_cow") => {}
            "discard_passdown_origin" => {
                return Err("discard_passdown_origin feature depends on discard_zeroes_cow".into())
            }
            other => return Err(format!("Unsupported feature arguments: {other}")),
        }
    }
    Ok(())
}

fn valid_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "name is empty"
    } else if name.len() > 127 {
        "name is longer than 127 characters"
    } else if name.contains('/') {
        "name contains '/'"
    } else if name == "." || name == ".." || name == "control" {
        "name is reserved"
    } else {
        return Ok(());
    };
    Err(BackendError::InvalidState {
        name: name.to_string(),
        reason: reason.to_string(),
    })
}

impl Backend for Engine {
    fn kind(&self) -> BackendKind {
        BackendKind::Userspace
    }

    fn driver_version(&self) -> Result<[u32; 3]> {
        Ok(DRIVER_VERSION)
    }

    fn target_versions(&self) -> Result<Vec<TargetVersion>> {
        Ok(TARGETS
            .iter()
            .map(|(name, version)| TargetVersion {
                name: name.to_string(),
                version: *version,
            })
            .collect())
    }

    fn create(&self, name: &str, options: &CreateOptions) -> Result<DeviceInfo> {
        self.create_at(name, options, None)
    }

    fn create_numbered(
        &self,
        name: &str,
        options: &CreateOptions,
        major: Option<u32>,
        minor: u32,
    ) -> Result<DeviceInfo> {
        if let Some(major) = major.filter(|&m| m != self.inner.major) {
            return Err(BackendError::InvalidState {
                name: name.to_string(),
                reason: format!(
                    "major {major} is not the engine's; its devices have major {}",
                    self.inner.major
                ),
            });
        }
        self.create_at(name, options, Some(minor))
    }

    fn load(&self, name: &str, table: &[RawLine]) -> Result<()> {
        let device = self.device(name)?;
        let invalid = |reason: String| BackendError::InvalidTable {
            name: name.to_string(),
            reason,
        };
        let parsed: Vec<TableLine> = table
            .iter()
            .map(|raw| TableLine::from_raw(raw).map_err(|e| invalid(e.to_string())))
            .collect::<Result<_>>()?;
        check_layout(&parsed).map_err(invalid)?;
        for (index, line) in parsed.iter().enumerate() {
            crate::dm::check_line_numbers(index + 1, line).map_err(|e| invalid(e.to_string()))?;
        }
        let lines = parsed
            .iter()
            .map(|line| self.bind(line).map_err(invalid))
            .collect::<Result<Vec<_>>>()?;
        let table = Arc::new(Table::new(lines));
        let old = lock(&device.state).inactive.replace(table);
        drop(old);
        Ok(())
    }

    fn clear(&self, name: &str) -> Result<()> {
        let device = self.device(name)?;
        let old = lock(&device.state).inactive.take();
        drop(old);
        Ok(())
    }

    fn suspend(&self, name: &str, mode: SuspendMode) -> Result<()> {
        for warning in self.suspend_locking_fs(name, mode)? {
            crate::log::warning(warning);
        }
        Ok(())
    }

    fn resume(&self, name: &str) -> Result<DeviceInfo> {
        let device = self.device(name)?;
        let has_new = lock(&device.state).inactive.is_some();
        if has_new {
            // As the kernel: a new table is only swapped in with I/O held.
            self.suspend(name, SuspendMode::Flush)?;
        }
        let (live, old) = {
            let mut state = lock(&device.state);
            if !state.suspended {
                // info() takes the state lock itself.
                drop(state);
                return Ok(device.info());
            }
            let old = match state.inactive.take() {
                Some(new) => state.live.replace(new),
                None => None,
            };
            (state.live.clone(), old)
        };
        drop(old);
        if let Some(live) = live {
            live.resumed(&device);
        }
        let mut state = lock(&device.state);
        state.suspended = false;
        let frozen = std::mem::take(&mut state.frozen);
        device.cond.notify_all();
        drop(state);
        lockfs::thaw(frozen);
        Ok(device.info())
    }

    fn remove(&self, name: &str) -> Result<()> {
        let device = {
            let mut devices = lock(&self.inner.devices);
            let device = devices
                .get(name)
                .cloned()
                .ok_or_else(|| BackendError::NoSuchDevice {
                    name: name.to_string(),
                })?;
            if device.open_count() > 0 {
                // The kernel backend's words for EBUSY on remove.
                return Err(BackendError::DeviceBusy {
                    name: name.to_string(),
                    reason: "it is open or in use by another device".to_string(),
                });
            }
            devices.remove(name);
            links::remove(self.state_dir(), name, &device.uuid);
            device
        };
        let (live, inactive) = {
            let mut state = lock(&device.state);
            state.removed = true;
            device.cond.notify_all();
            lockfs::thaw(std::mem::take(&mut state.frozen));
            (state.live.take(), state.inactive.take())
        };
        drop(inactive);
        drop(live);
        Ok(())
    }

    fn rename(&self, name: &str, new_name: &str) -> Result<()> {
        valid_name(new_name)?;
        let mut devices = lock(&self.inner.devices);
        if devices.contains_key(new_name) {
            return Err(BackendError::AlreadyExists {
                name: new_name.to_string(),
            });
        }
        let device = devices
            .remove(name)
            .ok_or_else(|| BackendError::NoSuchDevice {
                name: name.to_string(),
            })?;
        *lock(&device.name) = new_name.to_string();
        links::remove(self.state_dir(), name, &device.uuid);
        links::add(self.state_dir(), new_name, &device.uuid);
        devices.insert(new_name.to_string(), device);
        Ok(())
    }

    fn list(&self) -> Result<Vec<DeviceSummary>> {
        Ok(lock(&self.inner.devices)
            .iter()
            .map(|(name, d)| DeviceSummary {
                name: name.clone(),
                major: d.major,
                minor: d.minor,
            })
            .collect())
    }

    fn info(&self, name: &str) -> Result<DeviceInfo> {
        Ok(self.device(name)?.info())
    }

    fn table(&self, name: &str, slot: TableSlot) -> Result<Vec<RawLine>> {
        let device = self.device(name)?;
        let state = lock(&device.state);
        let table = match slot {
            TableSlot::Live => &state.live,
            TableSlot::Inactive => &state.inactive,
        };
        Ok(table.as_ref().map(|t| t.raw()).unwrap_or_default())
    }

    fn status(&self, name: &str) -> Result<Vec<RawLine>> {
        let device = self.device(name)?;
        let live = lock(&device.state).live.clone();
        Ok(live.map(|t| t.status()).unwrap_or_default())
    }

    fn deps(&self, name: &str) -> Result<Vec<(u32, u32)>> {
        let device = self.device(name)?;
        let live = lock(&device.state).live.clone();
        Ok(live.map(|t| t.deps()).unwrap_or_default())
    }

    fn message(&self, name: &str, _sector: u64, _message: &str) -> Result<Option<String>> {
        let device = self.device(name)?;
        let target = lock(&device.state)
            .live
            .as_ref()
            .and_then(|t| t.lines.first().map(|l| l.target.target_type()));
        Err(BackendError::MessageRefused {
            name: name.to_string(),
            reason: match target {
                Some(target) => format!("target {target} does not accept messages"),
                None => "no live table".to_string(),
            },
        })
    }

    fn wait_event(
        &self,
        name: &str,
        event_nr: u32,
        timeout: Option<Duration>,
    ) -> Result<Option<DeviceInfo>> {
        let device = self.device(name)?;
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = lock(&device.state);
        loop {
            if state.removed {
                return Err(BackendError::NoSuchDevice {
                    name: name.to_string(),
                });
            }
            if state.event_nr > event_nr {
                drop(state);
                return Ok(Some(device.info()));
            }
            state = match deadline {
                None => device.cond.wait(state).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Ok(None);
                    }
                    device
                        .cond
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
    }

    fn node_path(&self, name: &str) -> PathBuf {
        self.inner.mapper_dir.join(name)
    }

    fn lv_path(&self, vg: &str, lv: &str) -> PathBuf {
        self.lv_link(vg, lv)
    }

    fn read_ahead(&self, _info: &DeviceInfo) -> Option<u32> {
        Some(READ_AHEAD_SECTORS)
    }

    fn mknodes(&self) -> Result<()> {
        // The FUSE directory is built from the device list on every lookup: nothing to repair.
        Ok(())
    }
}

/// A device opened by an export; counts in the open count until dropped.
struct Opened {
    device: Arc<Device>,
}

impl Drop for Opened {
    fn drop(&mut self) {
        self.device.opens.fetch_sub(1, Ordering::AcqRel);
    }
}

impl OpenDevice for Opened {
    fn size_bytes(&self) -> u64 {
        self.device.size_bytes()
    }
    fn read_only(&self) -> bool {
        self.device.read_only
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        self.device.read_at(buf, offset)
    }
    fn write_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.device.write_at(buf, offset)
    }
    fn flush(&self) -> io::Result<()> {
        self.device.flush()
    }
    fn discard(&self, offset: u64, len: u64) -> io::Result<()> {
        self.device.discard(offset, len)
    }
    fn allocation(&self, offset: u64, len: u64) -> io::Result<Vec<Extent>> {
        self.device.allocation(offset, len)
    }
}

impl DeviceSet for Engine {
    fn devices(&self) -> Vec<ExportInfo> {
        lock(&self.inner.devices)
            .iter()
            .filter(|(_, d)| lock(&d.state).live.is_some())
            .map(|(name, d)| ExportInfo {
                name: name.clone(),
                size_bytes: d.size_bytes(),
                read_only: d.read_only,
            })
            .collect()
    }

    fn open(&self, name: &str, writable: bool) -> io::Result<Arc<dyn OpenDevice>> {
        let device = lock(&self.inner.devices)
            .get(name)
            .cloned()
            .ok_or_else(|| errno(libc::ENOENT))?;
        if writable && device.read_only {
            return Err(errno(libc::EROFS));
        }
        device.opens.fetch_add(1, Ordering::AcqRel);
        Ok(Arc::new(Opened { device }))
    }
}

#[cfg(test)]
mod tests;
