//! lvm2's file locks: `flock` on `V_<vg>` for a VG and `P_global` /
//! `P_orphans` for the global and orphan resources, in lvm2's locking
//! directory (`/run/lock/lvm` for root), so concurrent rlvm commands never
//! lose an update and rlvm and lvm2 do not race each other. An ordinary user
//! cannot write there (and works only on their own image files, which root's
//! lvm2 does not scan), so their locks live in their own state directory.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// What is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// lvm2's global lock (VG namespace, PV creation).
    Global,
    /// PVs that belong to no VG.
    Orphans,
    /// One VG.
    Vg(&'a str),
}

/// A held lock; released when dropped (or when the process exits).
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// `RLVM_LOCK_DIR`, else lvm2's locking directory for root, else `lock/`
/// in the user's state directory (`~/.local/state/rlvm/lock`).
pub fn lock_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("RLVM_LOCK_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if nix::unistd::geteuid().is_root() {
        PathBuf::from("/run/lock/lvm")
    } else {
        crate::backend::state_dir().join("lock")
    }
}

/// Take `resource`, exclusively or shared, waiting for other holders.
pub fn lock(resource: Resource<'_>, exclusive: bool) -> io::Result<Lock> {
    let dir = lock_dir();
    std::fs::create_dir_all(&dir)?;
    let name = match resource {
        Resource::Global => "P_global".to_string(),
        Resource::Orphans => "P_orphans".to_string(),
        Resource::Vg(vg) => format!("V_{vg}"),
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(name))?;
    let operation = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    loop {
        // SAFETY: flock on a descriptor we own; no memory is passed.
        if unsafe { libc::flock(file.as_raw_fd(), operation) } == 0 {
            return Ok(Lock { _file: file });
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}
