//! The device-mapper operations behind one trait. Two implementations: the
//! kernel's (dm ioctls) and the userspace engine (`rdmd` over image files).
//! Everything above this module (rdmsetup, the LVM operations, the monitor)
//! sees only [`Backend`]; ordering policy (suspend/load/resume) and rollback
//! live above it, once, for both.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::dm::RawLine;

pub mod kernel;
mod select;
pub mod userspace;

pub use select::open_backend;

/// Which implementation a [`Backend`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendKind {
    /// The kernel's device-mapper through `/dev/mapper/control`.
    Kernel,
    /// rlvm's userspace engine, `rdmd`.
    Userspace,
}

impl BackendKind {
    /// Name as `RLVM_BACKEND` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Kernel => "kernel",
            BackendKind::Userspace => "userspace",
        }
    }
}

/// What `info` reports of a device (dmsetup's `info` fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// dm name.
    pub name: String,
    /// dm UUID, empty when none was set.
    pub uuid: String,
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
    /// How many openers hold the device.
    pub open_count: i32,
    /// Event counter (raised on invalidation and table events).
    pub event_nr: u32,
    /// I/O is held.
    pub suspended: bool,
    /// Writes are refused.
    pub read_only: bool,
    /// A live table is loaded.
    pub live_table: bool,
    /// An inactive table waits for resume.
    pub inactive_table: bool,
    /// Lines in the live table.
    pub target_count: u32,
}

/// One entry of `list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSummary {
    /// dm name.
    pub name: String,
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
}

/// A target type and its version, as `dmsetup targets` prints them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetVersion {
    /// Target type name.
    pub name: String,
    /// Major, minor, patch.
    pub version: [u32; 3],
}

/// Which of a device's two tables to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TableSlot {
    /// The table in use.
    Live,
    /// The table loaded but not yet resumed.
    Inactive,
}

/// How to suspend a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SuspendMode {
    /// Wait for in-flight I/O and flush it, freezing the filesystem on the
    /// device first (the kernel's lockfs; the default).
    Flush,
    /// As `Flush`, without freezing the filesystem (`--nolockfs`).
    FlushNoLockfs,
    /// Hold I/O without flushing queued writes (`--noflush`).
    NoFlush,
}

/// Options for a new device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateOptions {
    /// dm UUID; `None` for none.
    pub uuid: Option<String>,
    /// Create read-only.
    pub read_only: bool,
}

/// Why a dm operation failed. Kernel errnos are translated here, at the
/// boundary, into variants that name the device.
#[derive(Debug, Error)]
pub enum BackendError {
    /// No device of that name.
    #[error("{name}: no such device")]
    NoSuchDevice {
        /// Device name.
        name: String,
    },
    /// A device of that name or UUID already exists.
    #[error("{name}: device or UUID already exists")]
    AlreadyExists {
        /// Device name.
        name: String,
    },
    /// The device is open (remove) or otherwise busy.
    #[error("{name}: device is busy{}", if .reason.is_empty() { String::new() } else { format!(" ({})", .reason) })]
    DeviceBusy {
        /// Device name.
        name: String,
        /// What holds it, when known.
        reason: String,
    },
    /// The table was refused by the target constructor.
    #[error("{name}: table refused: {reason}")]
    InvalidTable {
        /// Device name.
        name: String,
        /// The constructor's reason.
        reason: String,
    },
    /// The operation needs an inactive table, a live table or similar state.
    #[error("{name}: {reason}")]
    InvalidState {
        /// Device name.
        name: String,
        /// What is missing.
        reason: String,
    },
    /// The target does not accept messages, or refused this one.
    #[error("{name}: message refused: {reason}")]
    MessageRefused {
        /// Device name.
        name: String,
        /// Why.
        reason: String,
    },
    /// Not allowed (not root, or another user's engine).
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The backend cannot be used on this machine.
    #[error("{backend} backend unavailable: {reason}")]
    Unavailable {
        /// Which backend.
        backend: &'static str,
        /// Why.
        reason: String,
    },
    /// Talking to the userspace engine failed.
    #[error("userspace engine: {0}")]
    Protocol(String),
    /// Any other failure, with what was being done.
    #[error("{context}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: io::Error,
    },
}

/// Convenience alias.
pub type Result<T, E = BackendError> = std::result::Result<T, E>;

/// The device-mapper interface: one method per ioctl that rlvm uses.
pub trait Backend: Send + Sync {
    /// Which implementation this is.
    fn kind(&self) -> BackendKind;
    /// The driver's interface version (`dmsetup version`'s "Driver version").
    fn driver_version(&self) -> Result<[u32; 3]>;
    /// Registered targets and their versions.
    fn target_versions(&self) -> Result<Vec<TargetVersion>>;
    /// Create a device with no table.
    fn create(&self, name: &str, options: &CreateOptions) -> Result<DeviceInfo>;
    /// `create` with the device number chosen by the caller (`dmsetup -j -m`);
    /// `major` `None` means the backend's own. Backends that cannot refuse.
    fn create_numbered(
        &self,
        name: &str,
        _options: &CreateOptions,
        _major: Option<u32>,
        _minor: u32,
    ) -> Result<DeviceInfo> {
        Err(BackendError::InvalidState {
            name: name.to_string(),
            reason: format!(
                "the {} backend cannot create a device with a chosen number (--major/--minor)",
                self.kind().as_str()
            ),
        })
    }
    /// Load `table` as the device's inactive table (the constructors run now).
    fn load(&self, name: &str, table: &[RawLine]) -> Result<()>;
    /// Drop the inactive table.
    fn clear(&self, name: &str) -> Result<()>;
    /// Hold I/O on the device.
    fn suspend(&self, name: &str, mode: SuspendMode) -> Result<()>;
    /// Make the inactive table live (if any) and release I/O.
    fn resume(&self, name: &str) -> Result<DeviceInfo>;
    /// Remove a device that nobody holds open.
    fn remove(&self, name: &str) -> Result<()>;
    /// Rename a device.
    fn rename(&self, name: &str, new_name: &str) -> Result<()>;
    /// Every device, sorted by name.
    fn list(&self) -> Result<Vec<DeviceSummary>>;
    /// One device's state.
    fn info(&self, name: &str) -> Result<DeviceInfo>;
    /// A table, devices printed as `major:minor` (the engine prints image files by path).
    fn table(&self, name: &str, slot: TableSlot) -> Result<Vec<RawLine>>;
    /// The live table's status lines (params hold each target's status text).
    fn status(&self, name: &str) -> Result<Vec<RawLine>>;
    /// The devices the live table maps onto, as `(major, minor)`.
    fn deps(&self, name: &str) -> Result<Vec<(u32, u32)>>;
    /// Send a target message; returns the target's reply, if any.
    fn message(&self, name: &str, sector: u64, message: &str) -> Result<Option<String>>;
    /// Wait until the device's event counter exceeds `event_nr`, or `timeout`
    /// passes (`Ok(None)`); returns the device's info after the event.
    fn wait_event(
        &self,
        name: &str,
        event_nr: u32,
        timeout: Option<Duration>,
    ) -> Result<Option<DeviceInfo>>;
    /// Where ordinary programs open the device (`/dev/mapper/NAME`, or the engine's FUSE twin).
    fn node_path(&self, name: &str) -> PathBuf;
    /// Where `vg/lv` is for programs: `/dev/VG/LV` (udev's link) on the
    /// kernel, `$RLVM_DIR/VG/LV` on the engine (the engine's link). The
    /// report's `lv_path`.
    fn lv_path(&self, vg: &str, lv: &str) -> PathBuf {
        PathBuf::from("/dev").join(vg).join(lv)
    }
    /// The LV's device-mapper node: `/dev/mapper/VG-LV` on the kernel, the
    /// mapper file on the engine. The report's `lv_dm_path`.
    fn lv_dm_path(&self, vg: &str, lv: &str) -> PathBuf {
        let name = crate::names::dm_name(vg, lv, crate::names::DmLayer::Top)
            .unwrap_or_else(|_| format!("{}-{}", vg.replace('-', "--"), lv.replace('-', "--")));
        self.node_path(&name)
    }
    /// The device's read-ahead in sectors, learnt without opening its node
    /// (closing the node of a suspended device waits for its resume): the
    /// kernel's from sysfs by device number.
    fn read_ahead(&self, info: &DeviceInfo) -> Option<u32> {
        let sysfs = format!(
            "/sys/dev/block/{}:{}/bdi/read_ahead_kb",
            info.major, info.minor
        );
        let kb = std::fs::read_to_string(sysfs)
            .ok()?
            .trim()
            .parse::<u32>()
            .ok()?;
        kb.checked_mul(2)
    }
    /// Create missing and remove stale device nodes (`dmsetup mknodes`).
    fn mknodes(&self) -> Result<()>;
}

/// How the backend is chosen: `RLVM_BACKEND=kernel|userspace`, or automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    /// Kernel when `/dev/mapper/control` opens, else userspace.
    Auto,
    /// Exactly this backend; never falls back.
    Only(BackendKind),
}

impl BackendChoice {
    /// Read `RLVM_BACKEND`; an unknown value is an error naming it.
    pub fn from_env() -> Result<Self> {
        match std::env::var("RLVM_BACKEND") {
            Err(_) => Ok(BackendChoice::Auto),
            Ok(value) => match value.as_str() {
                "" | "auto" => Ok(BackendChoice::Auto),
                "kernel" => Ok(BackendChoice::Only(BackendKind::Kernel)),
                "userspace" => Ok(BackendChoice::Only(BackendKind::Userspace)),
                other => Err(BackendError::Unavailable {
                    backend: "requested",
                    reason: format!("RLVM_BACKEND=\"{other}\" is not kernel, userspace or auto"),
                }),
            },
        }
    }
}

/// Path of the kernel's device-mapper control node.
pub const DM_CONTROL: &str = "/dev/mapper/control";

/// Whether the kernel's device-mapper can be driven from here.
pub fn kernel_dm_available() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(DM_CONTROL)
        .is_ok()
}

/// rlvm's state directory: `RLVM_DIR`, else `/var/lib/rlvm` for root and
/// `$XDG_STATE_HOME/rlvm` (or `~/.local/state/rlvm`) for other users.
pub fn state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("RLVM_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if nix::unistd::geteuid().is_root() {
        return PathBuf::from("/var/lib/rlvm");
    }
    if let Some(state) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(state).join("rlvm");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    PathBuf::from(home).join(".local/state/rlvm")
}
