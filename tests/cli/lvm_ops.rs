//! The LVM commands as thin callers of the library's operations: lvm2's
//! exit statuses and messages, `-t` leaving the disk as it was, and a closed
//! stdout failing cleanly. Metadata-only (`-an`) where devices do not matter.

use std::path::PathBuf;
use std::process::Output;

use crate::support::{assert_exit, StateDir};

struct Vg {
    state: StateDir,
    pv: PathBuf,
}

/// VG `vg` (4 MiB extents) on a 200 MiB image file, the only candidate device.
fn vg() -> Vg {
    let state = StateDir::new();
    let pv = state.scratch().join("pv.img");
    std::fs::File::create(&pv)
        .unwrap()
        .set_len(200 << 20)
        .unwrap();
    let vg = Vg { state, pv };
    vg.ok("rpvcreate", &[vg.pv.to_str().unwrap()]);
    vg.ok("rvgcreate", &["vg", vg.pv.to_str().unwrap()]);
    vg
}

impl Vg {
    fn run(&self, program: &str, args: &[&str]) -> Output {
        self.state
            .command(program)
            .env("RLVM_DEVICES", &self.pv)
            .args(args)
            .output()
            .unwrap()
    }

    #[track_caller]
    fn ok(&self, program: &str, args: &[&str]) -> String {
        let out = self.run(program, args);
        assert_exit(&out, 0);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[track_caller]
    fn fails(&self, program: &str, args: &[&str], code: i32, message: &str) {
        let out = self.run(program, args);
        assert_exit(&out, code);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{program} {args:?}: {stderr}");
    }

    fn lvs(&self) -> String {
        self.ok("rlvs", &["--noheadings", "-o", "lv_name,lv_size", "vg"])
    }
}

#[test]
fn lvcreate_refuses_bad_command_lines_with_exit_3() {
    let vg = vg();
    vg.ok("rlvcreate", &["-an", "-L", "8M", "-n", "a", "vg"]);
    for (args, message) in [
        (vec!["-l", "0", "-n", "b"], "--extents may not be zero."),
        (
            vec!["-L", "4X", "-n", "b"],
            "Invalid argument for --size: 4X",
        ),
        (
            vec!["-L", "4M", "-l", "2", "-n", "b"],
            "Please specify either size or extents (not both).",
        ),
        (
            vec!["-L", "4M", "-n", "bad/name"],
            "Inconsistent volume group names given: \"bad\" and \"vg\"",
        ),
        (
            vec!["-L", "4M", "-n", "snapshot1"],
            "Names starting \"snapshot\" are reserved.",
        ),
    ] {
        let mut args = args;
        args.extend(["-an", "vg"]);
        vg.fails("rlvcreate", &args, 3, message);
    }
    vg.fails(
        "rlvcreate",
        &["-an", "-L", "4M", "-n", "a", "vg"],
        5,
        "Logical Volume \"a\" already exists in volume group \"vg\"",
    );
    // -V is --virtualsize (a sparse snapshot over a zero device), never --version.
    let out = vg.ok(
        "rlvcreate",
        &["-an", "-s", "-V", "1G", "-L", "20M", "-n", "sparse", "vg"],
    );
    assert_eq!(out, "  Logical volume \"sparse\" created.\n");
    let lvs = vg.ok("rlvs", &["--noheadings", "-o", "lv_name,origin_size", "vg"]);
    assert!(lvs.contains("sparse") && lvs.contains("1.00g"), "{lvs}");
    assert!(!lvs.contains("vorigin"), "{lvs}");
}

#[test]
fn lvcreate_sizes_round_as_lvm2() {
    let vg = vg();
    // 200 MiB less the 1 MiB data offset: 49 extents of 4 MiB.
    let out = vg.ok("rlvcreate", &["-an", "-L", "5M", "-n", "r", "vg"]);
    assert_eq!(
        out,
        "  Rounding up size to full physical extent 8.00 MiB\n  Logical volume \"r\" created.\n"
    );
    // 10% of 47 free extents rounds down to 4.
    vg.ok("rlvcreate", &["-an", "-l", "10%FREE", "-n", "f", "vg"]);
    let out = vg.ok("rlvcreate", &["-an", "-l", "90%VG", "-n", "g", "vg"]);
    assert!(
        out.starts_with("  Reducing 90%VG to remaining free space 172.00 MiB in VG.\n"),
        "{out}"
    );
    let lvs = vg.lvs();
    assert!(
        lvs.contains("f     16.00m") || lvs.contains("16.00m"),
        "{lvs}"
    );
    vg.ok("rlvremove", &["-y", "vg/g"]);
    let out = vg.ok("rlvextend", &["-l", "+100%FREE", "vg/f"]);
    assert!(out.contains("to 188.00 MiB (47 extents)"), "{out}");
}

#[test]
fn not_found_is_exit_5_with_lvm2s_message() {
    let vg = vg();
    for program in ["rlvchange", "rlvremove"] {
        let mut args = vec!["vg/nosuch"];
        if program == "rlvchange" {
            args.extend(["-an", "--driverloaded", "n"]);
        }
        vg.fails(
            program,
            &args,
            5,
            "Failed to find logical volume \"vg/nosuch\"",
        );
    }
    vg.fails(
        "rlvrename",
        &["vg", "nosuch", "x"],
        5,
        "Existing logical volume \"nosuch\" not found in volume group \"vg\"",
    );
}

#[test]
fn test_mode_leaves_the_disk_as_it_was() {
    let vg = vg();
    vg.ok("rlvcreate", &["-an", "-L", "8M", "-n", "a", "vg"]);
    let before = std::fs::read(&vg.pv).unwrap();
    for (program, args) in [
        ("rlvcreate", vec!["-t", "-L", "8M", "-n", "t", "vg"]),
        ("rlvrename", vec!["-t", "vg", "a", "b"]),
        ("rlvextend", vec!["-t", "-L", "+4M", "vg/a"]),
        ("rlvremove", vec!["-t", "-y", "vg/a"]),
        ("rvgremove", vec!["-t", "-f", "vg"]),
    ] {
        let out = vg.run(program, &args);
        assert_exit(&out, 0);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(
                "  TEST MODE: Metadata will NOT be updated and volumes will not be (de)activated."
            ),
            "{program}: {stderr}"
        );
    }
    assert!(
        std::fs::read(&vg.pv).unwrap() == before,
        "-t changed the PV"
    );
    assert!(!vg.state.daemon_running(), "-t started the engine");
}

#[test]
fn vgremove_with_lvs_removes_them_once_confirmed() {
    let vg = vg();
    vg.ok("rlvcreate", &["-an", "-L", "8M", "-n", "a", "vg"]);
    vg.ok("rlvcreate", &["-an", "-L", "8M", "-n", "b", "vg"]);
    // No terminal and no -y: lvm2's question is answered no.
    vg.fails("rvgremove", &["vg"], 5, "Volume group \"vg\" not removed");
    let out = vg.ok("rvgremove", &["-y", "vg"]);
    assert_eq!(
        out,
        "  Logical volume \"a\" successfully removed.\n  Logical volume \"b\" successfully removed.\n  Volume group \"vg\" successfully removed\n"
    );
}

#[test]
fn a_merge_interval_that_is_not_a_number_is_exit_3() {
    let vg = vg();
    vg.fails(
        "rlvconvert",
        &["--merge", "-i", "nan", "vg/s"],
        3,
        "Invalid argument for --interval: nan",
    );
}

#[test]
fn a_full_or_closed_stdout_never_panics() {
    let vg = vg();
    for (name, redirect, code) in [("full", ">/dev/full", 5), ("closed", ">&-", 0)] {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("exec \"$0\" -an -L 8M -n {name} vg {redirect}"))
            .arg(crate::support::bin("rlvcreate"))
            .env("RLVM_DIR", vg.state.path())
            .env("RLVM_DEVICES", &vg.pv)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        // The LV is made before the result line fails to print.
        assert_eq!(out.status.code(), Some(code), "{name}: {stderr}");
        assert!(vg.lvs().contains(name));
    }
}
