//! rlvm's LVM commands against real lvm2 on the same loop device: lvm2
//! reads what rlvm's commands wrote (vgck clean, lvs/vgs JSON equal to
//! rlvs/rvgs JSON field for field) and rlvm reads what lvm2 wrote. Needs root
//! and lvm2; skips loudly unless RLVM_REQUIRE_LVM2=1 (tests/run-all.sh).

use std::process::{Command, Output};

use crate::support::{assert_exit, bin};

fn available() -> bool {
    let root = nix::unistd::geteuid().is_root();
    let lvm = Command::new("lvm")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if root && lvm {
        return true;
    }
    assert!(
        std::env::var("RLVM_REQUIRE_LVM2").as_deref() != Ok("1"),
        "RLVM_REQUIRE_LVM2=1 but root={root} lvm2={lvm}"
    );
    eprintln!("##### SKIPPED lvm2_commands: needs root and lvm2 #####");
    false
}

struct Setup {
    dir: tempfile::TempDir,
    device: String,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = Command::new("lvm")
            .args(["vgremove", "-f", "--driverloaded", "n", "rlvmc"])
            .env("LVM_SUPPRESS_FD_WARNINGS", "1")
            .output();
        let _ = Command::new("losetup").args(["-d", &self.device]).status();
    }
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("pv.img");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(96 << 20)
        .unwrap();
    let out = Command::new("losetup")
        .args(["-f", "--show", image.to_str().unwrap()])
        .output()
        .unwrap();
    let device = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Setup { dir, device }
}

fn rlvm(setup: &Setup, program: &str, args: &[&str]) -> Output {
    Command::new(bin(program))
        .args(args)
        .env("RLVM_DIR", setup.dir.path().join("state"))
        .env("RLVM_DEVICES", &setup.device)
        .env_remove("RLVM_BACKEND")
        .output()
        .unwrap()
}

fn lvm(args: &[&str]) -> Output {
    let out = Command::new("lvm")
        .args(args)
        .env("LVM_SUPPRESS_FD_WARNINGS", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "lvm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// rlvm's report and lvm2's, both JSON with the same fields, must be equal.
fn same_report(setup: &Setup, rlvm_program: &str, lvm_command: &str, fields: &str) {
    let common = ["--reportformat", "json", "-o", fields];
    let ours = rlvm(setup, rlvm_program, &[&common[..], &["rlvmc"]].concat());
    assert_exit(&ours, 0);
    let theirs = lvm(&[
        &[lvm_command, "--driverloaded", "n"],
        &common[..],
        &["rlvmc"],
    ]
    .concat());
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&theirs.stdout),
        "{rlvm_program} vs {lvm_command}"
    );
}

#[test]
fn lvm2_and_rlvm_commands_agree_on_one_vg() {
    if !available() {
        return;
    }
    let setup = setup();
    let dev = setup.device.clone();
    assert_exit(&rlvm(&setup, "rpvcreate", &[&dev]), 0);
    // A second pvcreate is refused: the device carries a label now, and stays unchanged.
    let before = std::fs::read(&dev).unwrap()[..8192].to_vec();
    let again = rlvm(&setup, "rpvcreate", &[&dev]);
    assert_exit(&again, 5);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("LVM2_member"),
        "{again:?}"
    );
    assert_eq!(std::fs::read(&dev).unwrap()[..8192], before[..]);
    lvm(&["pvck", &dev]);

    assert_exit(&rlvm(&setup, "rvgcreate", &["rlvmc", &dev]), 0);
    assert_exit(
        &rlvm(
            &setup,
            "rlvcreate",
            &["-an", "-L", "12M", "-n", "base", "rlvmc"],
        ),
        0,
    );
    assert_exit(
        &rlvm(
            &setup,
            "rlvcreate",
            &["-an", "-l", "25%FREE", "-n", "data", "rlvmc"],
        ),
        0,
    );
    lvm(&["vgck", "--driverloaded", "n", "rlvmc"]);
    let lv_fields = "lv_name,vg_name,lv_attr,lv_size,origin,data_percent,lv_uuid,seg_count,devices";
    let vg_fields = "vg_name,vg_uuid,pv_count,lv_count,snap_count,vg_attr,vg_size,vg_free,vg_extent_size,vg_extent_count,vg_free_count,vg_seqno";
    same_report(&setup, "rlvs", "lvs", lv_fields);
    same_report(&setup, "rvgs", "vgs", vg_fields);

    // lvm2 changes the VG; rlvm still agrees.
    lvm(&[
        "lvcreate",
        "-q",
        "-an",
        "-Zn",
        "--driverloaded",
        "n",
        "-L",
        "8M",
        "-n",
        "fromlvm2",
        "rlvmc",
    ]);
    lvm(&[
        "lvrename",
        "-q",
        "--driverloaded",
        "n",
        "rlvmc",
        "data",
        "data2",
    ]);
    same_report(&setup, "rlvs", "lvs", lv_fields);
    same_report(&setup, "rvgs", "vgs", vg_fields);

    // rlvm renames and removes what lvm2 made; lvm2 agrees.
    assert_exit(
        &rlvm(&setup, "rlvrename", &["rlvmc/fromlvm2", "renamed"]),
        0,
    );
    assert_exit(&rlvm(&setup, "rlvremove", &["rlvmc/base"]), 0);
    lvm(&["vgck", "--driverloaded", "n", "rlvmc"]);
    same_report(&setup, "rlvs", "lvs", lv_fields);
    same_report(&setup, "rvgs", "vgs", vg_fields);

    // A VG with LVs is not removed without --force; then it is, and lvm2 sees an orphan PV.
    assert_exit(&rlvm(&setup, "rvgremove", &["rlvmc"]), 5);
    assert_exit(&rlvm(&setup, "rvgremove", &["-f", "rlvmc"]), 0);
    let pvs = lvm(&[
        "pvs",
        "--driverloaded",
        "n",
        "--noheadings",
        "-o",
        "vg_name",
        &dev,
    ]);
    assert_eq!(String::from_utf8_lossy(&pvs.stdout).trim(), "");
    assert_exit(&rlvm(&setup, "rpvremove", &[&dev]), 0);
    let listed = lvm(&[
        "pvs",
        "--driverloaded",
        "n",
        "--noheadings",
        "-o",
        "pv_name",
    ]);
    assert!(
        !String::from_utf8_lossy(&listed.stdout).contains(&dev),
        "lvm2 still sees a PV on {dev}"
    );
}

/// Many rlvcreate at once on one VG: the VG lock serialises them, so no
/// update is lost (without it, read-modify-write races drop LVs).
#[test]
fn concurrent_commands_lose_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("pv.img");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(256 << 20)
        .unwrap();
    let run = |program: &str, args: &[&str]| {
        Command::new(bin(program))
            .args(args)
            .env("RLVM_DIR", dir.path().join("state"))
            .env("RLVM_LOCK_DIR", dir.path().join("locks"))
            .env("RLVM_DEVICES", &image)
            .output()
            .unwrap()
    };
    assert_exit(&run("rpvcreate", &[image.to_str().unwrap()]), 0);
    assert_exit(&run("rvgcreate", &["race", image.to_str().unwrap()]), 0);
    let children: Vec<_> = (0..12)
        .map(|i| {
            Command::new(bin("rlvcreate"))
                .args(["-an", "-L", "4M", "-n", &format!("lv{i}"), "race"])
                .env("RLVM_DIR", dir.path().join("state"))
                .env("RLVM_LOCK_DIR", dir.path().join("locks"))
                .env("RLVM_DEVICES", &image)
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let listed = run("rlvs", &["--noheadings", "-o", "lv_name", "race"]);
    assert_exit(&listed, 0);
    let names = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(names.lines().count(), 12, "{names}");
    let vgs = run("rvgs", &["--noheadings", "-o", "vg_seqno", "race"]);
    assert_eq!(String::from_utf8_lossy(&vgs.stdout).trim(), "13");
}
