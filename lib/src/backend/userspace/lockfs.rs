//! The kernel's lockfs on the engine: a suspend freezes the filesystems
//! mounted on loop devices over the device's mapper file (FIFREEZE), and the
//! resume thaws them (FITHAW), so a snapshot of a mounted filesystem is
//! consistent without a manual `fsfreeze`.
//!
//! The kernel freezes the filesystem on the dm device itself; the engine's
//! device reaches a filesystem only through a loop device over its FUSE file,
//! found from sysfs (`/sys/block/loopN/loop/backing_file`) and mountinfo.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// `FIFREEZE`, `_IOWR('X', 119, int)`.
const FIFREEZE: libc::c_ulong = 0xC004_5877;
/// `FITHAW`, `_IOWR('X', 120, int)`.
const FITHAW: libc::c_ulong = 0xC004_5878;

/// Filesystems this suspend froze, thawed by [`thaw`] at resume.
#[derive(Debug, Default)]
pub(crate) struct Frozen {
    mounts: Vec<File>,
}

impl Frozen {
    /// Whether nothing was frozen.
    pub(crate) fn is_empty(&self) -> bool {
        self.mounts.is_empty()
    }
}

/// The loop devices (`major:minor`) whose backing file is `file`.
fn loops_over(sys_block: &Path, file: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(sys_block) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        let Ok(backing) = std::fs::read_to_string(dir.join("loop/backing_file")) else {
            continue;
        };
        if Path::new(backing.trim_end_matches('\n')) != file {
            continue;
        }
        if let Ok(devno) = std::fs::read_to_string(dir.join("dev")) {
            found.push(devno.trim().to_string());
        }
    }
    found
}

/// mountinfo's octal escapes (`\040` for a space) undone.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let digits = std::str::from_utf8(&bytes[i + 1..i + 4]).unwrap_or("");
            if let Ok(code) = u8::from_str_radix(digits, 8) {
                out.push(code);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Mount points of the filesystems on device `devno` (`major:minor`), from mountinfo text.
fn mounts_of(mountinfo: &str, devno: &str) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let dev = fields.nth(2)?;
            let root = fields.next()?;
            let point = fields.next()?;
            // A bind mount of a subtree is the same superblock: freeze it once, by its root.
            (dev == devno && root == "/").then(|| PathBuf::from(unescape(point)))
        })
        .collect()
}

/// The mapper file's path as the kernel records a loop device's backing file.
pub(crate) fn canonical_file(mapper_dir: &Path, name: &str) -> PathBuf {
    let dir = mapper_dir
        .parent()
        .and_then(|state| std::fs::canonicalize(state).ok())
        .zip(mapper_dir.file_name())
        .map_or_else(
            || mapper_dir.to_path_buf(),
            |(state, leaf)| state.join(leaf),
        );
    dir.join(name)
}

/// Freeze every filesystem mounted on a loop device over `file`. What could
/// not be frozen is returned as one line each, for the caller to show.
pub(crate) fn freeze(file: &Path) -> (Frozen, Vec<String>) {
    let mut frozen = Frozen::default();
    let mut problems = Vec::new();
    let loops = loops_over(Path::new("/sys/block"), file);
    if loops.is_empty() {
        return (frozen, problems);
    }
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for devno in loops {
        for point in mounts_of(&mountinfo, &devno) {
            match freeze_one(&point) {
                Ok(Some(dir)) => frozen.mounts.push(dir),
                // Frozen already (fsfreeze by hand): consistent, and not ours to thaw.
                Ok(None) => {}
                Err(e) => problems.push(format!(
                    "cannot freeze the filesystem at {} (on loop device {devno}): {e}",
                    point.display()
                )),
            }
        }
    }
    (frozen, problems)
}

fn freeze_one(point: &Path) -> io::Result<Option<File>> {
    let dir = File::open(point)?;
    // SAFETY: FIFREEZE on a descriptor we own; the argument is unused.
    if unsafe { libc::ioctl(dir.as_raw_fd(), FIFREEZE as _, 0) } == 0 {
        return Ok(Some(dir));
    }
    let e = io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EBUSY) {
        return Ok(None);
    }
    Err(e)
}

/// Thaw what [`freeze`] froze.
pub(crate) fn thaw(frozen: Frozen) {
    for dir in frozen.mounts {
        // SAFETY: FITHAW on a descriptor we own. A failure leaves the
        // filesystem frozen, which `fsfreeze -u` undoes; nothing to add here.
        unsafe { libc::ioctl(dir.as_raw_fd(), FITHAW as _, 0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_are_found_by_device_number_and_unescaped() {
        let info = "22 1 0:21 / /proc rw - proc proc rw\n\
                    90 29 7:3 / /mnt/with\\040space rw,relatime - ext4 /dev/loop3 rw\n\
                    91 29 7:3 /sub /srv/bind rw - ext4 /dev/loop3 rw\n\
                    92 29 7:30 / /mnt/other rw - xfs /dev/loop30 rw\n";
        assert_eq!(
            mounts_of(info, "7:3"),
            vec![PathBuf::from("/mnt/with space")]
        );
        assert!(mounts_of(info, "7:4").is_empty());
    }

    #[test]
    fn loops_are_found_by_backing_file() {
        let sys = tempfile::tempdir().unwrap();
        for (n, backing) in [(0, "/s/mapper/vg-base\n"), (1, "/s/mapper/vg-snap\n")] {
            let dir = sys.path().join(format!("loop{n}"));
            std::fs::create_dir_all(dir.join("loop")).unwrap();
            std::fs::write(dir.join("loop/backing_file"), backing).unwrap();
            std::fs::write(dir.join("dev"), format!("7:{n}\n")).unwrap();
        }
        std::fs::create_dir_all(sys.path().join("sda")).unwrap();
        assert_eq!(
            loops_over(sys.path(), Path::new("/s/mapper/vg-snap")),
            vec!["7:1".to_string()]
        );
    }
}
