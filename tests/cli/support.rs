//! Helpers shared by the command-line tests.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Path of a program: `rlvm` itself, or a symlink to it named as the
/// program, as installed (the links are made once per test run, from
/// `rlvm --list-programs`, in cargo's temporary directory for tests).
pub fn bin(name: &str) -> PathBuf {
    static LINKS: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let rlvm = PathBuf::from(env!("CARGO_BIN_EXE_rlvm"));
    if name == "rlvm" {
        return rlvm;
    }
    LINKS.get_or_init(|| make_links(&rlvm)).join(name)
}

/// A directory of `PROGRAM -> rlvm` links. Each link is made under a
/// temporary name and renamed into place, so concurrent test processes
/// never see a missing or half-made link.
fn make_links(rlvm: &std::path::Path) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bin");
    std::fs::create_dir_all(&dir).expect("links directory");
    let list = Command::new(rlvm)
        .arg("--list-programs")
        .output()
        .expect("rlvm --list-programs");
    assert!(list.status.success(), "rlvm --list-programs failed");
    for name in String::from_utf8_lossy(&list.stdout).lines() {
        let link = dir.join(name);
        if std::fs::read_link(&link).ok().as_deref() == Some(rlvm) {
            continue;
        }
        let temporary = dir.join(format!(".{name}.{}", std::process::id()));
        let _ = std::fs::remove_file(&temporary);
        std::os::unix::fs::symlink(rlvm, &temporary).expect("symlink");
        std::fs::rename(&temporary, &link).expect("link into place");
    }
    dir
}

/// Run `program` with `args`, returning its output.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(bin(program))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"))
}

/// Assert that `output` exited with `code`, showing stderr when it did not.
#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "exit status\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A private rlvm state directory for one test, on the userspace engine.
/// The `rdmd` a command may have started for it is stopped on drop, so no
/// test leaves a daemon or a FUSE mount behind.
pub struct StateDir {
    root: tempfile::TempDir,
}

impl StateDir {
    /// A new, empty state directory (inside a new temporary directory).
    pub fn new() -> Self {
        Self {
            root: tempfile::tempdir().expect("temporary directory"),
        }
    }

    /// The temporary directory around the state directory, for image files.
    pub fn scratch(&self) -> &std::path::Path {
        self.root.path()
    }

    /// `RLVM_DIR`.
    pub fn path(&self) -> PathBuf {
        self.root.path().join("state")
    }

    /// The file a device appears as (`$RLVM_DIR/mapper/NAME`).
    pub fn mapper(&self, name: &str) -> PathBuf {
        self.path().join("mapper").join(name)
    }

    /// The NBD URI of a device.
    #[allow(dead_code)] // for tests that reach devices over NBD; none in this tree yet
    pub fn nbd_uri(&self, name: &str) -> String {
        format!(
            "nbd+unix:///{name}?socket={}",
            self.path().join("nbd.sock").display()
        )
    }

    /// `program` set up for this directory and the userspace backend.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(bin(program));
        command
            .env("RLVM_DIR", self.path())
            .env("RLVM_BACKEND", "userspace")
            .env("RLVM_RDMD", bin("rdmd"));
        command
    }

    /// Run `program` with `args` for this directory.
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        self.command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running {program}: {e}"))
    }

    /// Run `program`, asserting success; returns stdout.
    #[track_caller]
    pub fn ok(&self, program: &str, args: &[&str]) -> String {
        let out = self.run(program, args);
        assert_exit(&out, 0);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Whether an rdmd runs for this directory.
    pub fn daemon_running(&self) -> bool {
        std::os::unix::net::UnixStream::connect(self.path().join("rdmd.sock")).is_ok()
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = Command::new(bin("rdmd"))
            .arg("--stop")
            .arg("--force")
            .arg("--dir")
            .arg(self.path())
            .output();
    }
}

/// xorshift64*: test data and orders reproducible from a printed seed, no dependency.
#[derive(Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// `len` random bytes (`len` a multiple of 8).
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len / 8)
            .flat_map(|_| self.next().to_le_bytes())
            .collect()
    }

    /// `0..n` in a random order.
    pub fn permutation(&mut self, n: u64) -> Vec<u64> {
        let mut order: Vec<u64> = (0..n).collect();
        for i in (1..order.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        order
    }
}

/// Whether real lvm2 can be driven here (root and an `lvm` binary); a
/// missing peer fails under `RLVM_REQUIRE_LVM2=1` (CI) and skips loudly otherwise.
pub fn lvm2_available(suite: &str) -> bool {
    let root = nix::unistd::geteuid().is_root();
    let lvm = Command::new("lvm")
        .arg("version")
        .env("LVM_SUPPRESS_FD_WARNINGS", "1")
        .output()
        .is_ok_and(|o| o.status.success());
    if root && lvm {
        return true;
    }
    assert!(
        std::env::var("RLVM_REQUIRE_LVM2").as_deref() != Ok("1"),
        "RLVM_REQUIRE_LVM2=1 but root={root} lvm2={lvm}"
    );
    eprintln!("##### SKIPPED {suite}: needs root and lvm2 #####");
    false
}
