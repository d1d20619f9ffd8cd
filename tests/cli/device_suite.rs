//! The device-level scenario suite (tests/scenarios/device-suite.sh) on the
//! userspace engine, through real clients: once with the data going through
//! the mapper files, once through NBD (nbdcopy reads, qemu-io writes). The
//! same script runs on the real kernel under QEMU
//! (tests/qemu/scenarios/11-device-suite.sh) with the same expectations.
//! Plus a filesystem on the engine: mkfs.ext4 on an origin's mapper file, a
//! snapshot of it mounted read-only through a loop device while the origin
//! changes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{assert_exit, bin, StateDir};

/// CI runs with everything installed and as root; a local run may lack a tool.
fn required() -> bool {
    std::env::var("RLVM_REQUIRE_LVM2").as_deref() == Ok("1")
}

/// Whether `program` runs (`--version` exits 0).
fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn skip(test: &str, why: &str) {
    assert!(!required(), "{test}: {why} (RLVM_REQUIRE_LVM2=1)");
    eprintln!("##### SKIPPED {test}: {why} #####");
}

fn suite_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios/device-suite.sh")
}

/// A sparse image file of `size` bytes.
fn image(dir: &Path, name: &str, size: u64) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .and_then(|f| f.set_len(size))
        .unwrap_or_else(|e| panic!("creating {}: {e}", path.display()));
    path
}

/// Run the suite on the engine of a fresh state directory with `io` as its I/O path.
fn run_suite(io: &str) -> Output {
    let state = StateDir::new();
    let scratch = state.scratch();
    let base = image(scratch, "base.img", 10 << 20);
    let cow = image(scratch, "cow.img", 4 << 20);
    let cow2 = image(scratch, "cow2.img", 32 << 10);
    let path = format!(
        "{}:{}",
        bin("rdmsetup").parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("sh")
        .arg(suite_script())
        .env("PATH", path)
        .env("RLVM_DIR", state.path())
        .env("RLVM_BACKEND", "userspace")
        .env("RLVM_RDMD", bin("rdmd"))
        .env("RDMSETUP", bin("rdmsetup"))
        .env("RCOW", bin("rcow"))
        .env("BASE", &base)
        .env("COW", &cow)
        .env("COW2", &cow2)
        .env("IO", io)
        .env("WORK", scratch.join("work"))
        .output()
        .expect("running sh");
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("I/O through {io}"))
            && stdout.contains("== device-suite: all scenarios passed"),
        "{stdout}"
    );
    assert!(
        !state.path().join("mapper/vg-base").exists(),
        "the suite left devices behind"
    );
    output
}

#[test]
fn device_suite_through_the_mapper_files() {
    run_suite("node");
}

#[test]
fn device_suite_through_nbd() {
    for tool in ["nbdcopy", "qemu-io"] {
        if !have(tool) {
            return skip(
                "device_suite_through_nbd",
                &format!("{tool} is not installed"),
            );
        }
    }
    run_suite("nbd");
}

/// A loop device over a file, mounted; detached and unmounted on drop.
struct LoopMount {
    device: String,
    mountpoint: Option<PathBuf>,
}

impl LoopMount {
    /// Attach `file` read-only; `None` when no loop device can be had.
    fn attach_ro(file: &Path) -> Option<Self> {
        let out = Command::new("losetup")
            .args(["-f", "--show", "-r"])
            .arg(file)
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!("losetup: {}", String::from_utf8_lossy(&out.stderr));
            return None;
        }
        Some(Self {
            device: String::from_utf8_lossy(&out.stdout).trim().to_string(),
            mountpoint: None,
        })
    }

    fn mount_ro(&mut self, mountpoint: &Path) {
        std::fs::create_dir_all(mountpoint).unwrap();
        let out = Command::new("mount")
            .args(["-t", "ext4", "-o", "ro,noload", &self.device])
            .arg(mountpoint)
            .output()
            .unwrap();
        assert_exit(&out, 0);
        self.mountpoint = Some(mountpoint.to_path_buf());
    }

    fn unmount(&mut self) {
        if let Some(mountpoint) = self.mountpoint.take() {
            let out = Command::new("umount").arg(&mountpoint).output().unwrap();
            assert_exit(&out, 0);
        }
    }
}

impl Drop for LoopMount {
    fn drop(&mut self) {
        if let Some(mountpoint) = self.mountpoint.take() {
            let _ = Command::new("umount").arg("-l").arg(mountpoint).status();
        }
        let _ = Command::new("losetup").args(["-d", &self.device]).status();
    }
}

fn drop_caches() {
    // Best effort: the data must come from the snapshot either way.
    let _ = std::fs::write("/proc/sys/vm/drop_caches", "3");
}

/// `debugfs -R "cat PATH" IMAGE`: a file's bytes read without mounting.
fn debugfs_cat(image: &Path, path: &str) -> Vec<u8> {
    let out = Command::new("debugfs")
        .args(["-R", &format!("cat {path}")])
        .arg(image)
        .output()
        .expect("running debugfs");
    assert_exit(&out, 0);
    out.stdout
}

fn mkfs_with(target: &Path, root: &Path) {
    let out = Command::new("mkfs.ext4")
        .args(["-F", "-q", "-b", "4096", "-d"])
        .arg(root)
        .arg(target)
        .output()
        .expect("running mkfs.ext4");
    assert_exit(&out, 0);
}

#[test]
fn a_mounted_snapshot_of_an_ext4_origin_keeps_its_files() {
    if !nix::unistd::geteuid().is_root() {
        return skip("ext4 snapshot", "needs root for losetup and mount");
    }
    if !have("mkfs.ext4") && !Path::new("/usr/sbin/mkfs.ext4").exists() {
        return skip("ext4 snapshot", "mkfs.ext4 is not installed");
    }
    let state = StateDir::new();
    let scratch = state.scratch();
    let pv = image(scratch, "pv.img", 256 << 20);
    let pv = pv.to_str().unwrap();
    state.ok("rpvcreate", &[pv]);
    state.ok("rvgcreate", &["vg", pv]);
    state.ok("rlvcreate", &["-L", "64M", "-n", "base", "vg"]);
    let origin = state.mapper("vg-base");

    // The origin's filesystem, files put in by mkfs.
    let first = scratch.join("first");
    std::fs::create_dir_all(first.join("dir")).unwrap();
    let payload: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 4096) as u8).collect();
    std::fs::write(first.join("dir/payload.bin"), &payload).unwrap();
    std::fs::write(first.join("hello.txt"), "before the snapshot\n").unwrap();
    mkfs_with(&origin, &first);

    state.ok("rlvcreate", &["-L", "32M", "-s", "-n", "snap", "vg/base"]);
    let snap = state.mapper("vg-snap");
    let Some(mut mounted) = LoopMount::attach_ro(&snap) else {
        return skip("ext4 snapshot", "losetup could not get a loop device");
    };
    let mountpoint = scratch.join("mnt");
    mounted.mount_ro(&mountpoint);
    let read = |name: &str| std::fs::read(mountpoint.join(name)).unwrap();
    assert_eq!(read("hello.txt"), b"before the snapshot\n");
    assert_eq!(read("dir/payload.bin"), payload);

    // Change the origin under the mounted snapshot: a new filesystem over it.
    let second = scratch.join("second");
    std::fs::create_dir_all(&second).unwrap();
    std::fs::write(second.join("hello.txt"), "after the snapshot\n").unwrap();
    mkfs_with(&origin, &second);
    assert_eq!(debugfs_cat(&origin, "/hello.txt"), b"after the snapshot\n");
    assert!(debugfs_cat(&origin, "/dir/payload.bin").is_empty());

    drop_caches();
    assert_eq!(read("hello.txt"), b"before the snapshot\n");
    assert_eq!(read("dir/payload.bin"), payload);
    mounted.unmount();
    let out = Command::new("e2fsck")
        .args(["-f", "-n"])
        .arg(&mounted.device)
        .output()
        .expect("running e2fsck");
    assert_exit(&out, 0);
    drop(mounted);

    // NBD serves the same snapshot the mapper file shows.
    if have("nbdcopy") {
        let copy = scratch.join("snap-nbd.img");
        let out = Command::new("nbdcopy")
            .arg(state.nbd_uri("vg-snap"))
            .arg(&copy)
            .output()
            .expect("running nbdcopy");
        assert_exit(&out, 0);
        assert!(
            std::fs::read(&copy).unwrap() == std::fs::read(&snap).unwrap(),
            "vg-snap through NBD differs from its mapper file"
        );
    } else {
        skip("ext4 snapshot through NBD", "nbdcopy is not installed");
    }

    let status = state.ok("rdmsetup", &["status", "vg-snap"]);
    assert!(
        !status.contains("Invalid"),
        "snapshot invalidated: {status}"
    );
    state.ok("rlvremove", &["-f", "vg/snap"]);
    state.ok("rlvremove", &["-f", "vg/base"]);
}
