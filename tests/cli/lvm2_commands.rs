//! rlvm's LVM commands against real lvm2 on the same loop device: lvm2
//! reads what rlvm's commands wrote (vgck clean, lvs/vgs JSON equal to
//! rlvs/rvgs JSON field for field) and rlvm reads what lvm2 wrote. Needs root
//! and lvm2; skips loudly unless RLVM_REQUIRE_LVM2=1 (tests/run-all.sh).

use std::process::{Command, Output};

use crate::support::{assert_exit, bin, StateDir};

fn available() -> bool {
    crate::support::lvm2_available("lvm2_commands")
}

struct Setup {
    dir: tempfile::TempDir,
    devices: Vec<String>,
    /// The VGs a test makes, removed on drop (unique per test: tests run at once).
    vgs: Vec<&'static str>,
}

impl Drop for Setup {
    fn drop(&mut self) {
        for vg in &self.vgs {
            let _ = Command::new("lvm")
                .args(["vgremove", "-f", "--driverloaded", "n", vg])
                .env("LVM_SUPPRESS_FD_WARNINGS", "1")
                .output();
        }
        for device in &self.devices {
            let _ = Command::new("losetup").args(["-d", device]).status();
        }
    }
}

/// `count` loop devices of 96 MiB over image files, for VGs `vgs`.
fn setup(count: usize, vgs: &[&'static str]) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mut setup = Setup {
        dir,
        devices: Vec::new(),
        vgs: vgs.to_vec(),
    };
    for i in 0..count {
        let image = setup.dir.path().join(format!("pv{i}.img"));
        std::fs::File::create(&image)
            .unwrap()
            .set_len(96 << 20)
            .unwrap();
        let out = Command::new("losetup")
            .args(["-f", "--show", image.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "losetup: {out:?}");
        setup
            .devices
            .push(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    setup
}

fn rlvm(setup: &Setup, program: &str, args: &[&str]) -> Output {
    Command::new(bin(program))
        .args(args)
        .env("RLVM_DIR", setup.dir.path().join("state"))
        .env("RLVM_DEVICES", setup.devices.join(":"))
        // The kernel's device-mapper or none, as lvm2 with --driverloaded n
        // sees none: never the userspace engine, whose state lvm2 cannot see.
        .env("RLVM_BACKEND", "kernel")
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
    same_report_of(setup, rlvm_program, lvm_command, fields, &["rlvmc"]);
}

/// As [`same_report`], for the VGs or PVs `names`.
fn same_report_of(
    setup: &Setup,
    rlvm_program: &str,
    lvm_command: &str,
    fields: &str,
    names: &[&str],
) {
    let common = ["--reportformat", "json", "-o", fields];
    let ours = rlvm(setup, rlvm_program, &[&common[..], names].concat());
    assert_exit(&ours, 0);
    let theirs = lvm(&[&[lvm_command, "--driverloaded", "n"], &common[..], names].concat());
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&theirs.stdout),
        "{rlvm_program} vs {lvm_command} {names:?}"
    );
}

#[test]
fn lvm2_and_rlvm_commands_agree_on_one_vg() {
    if !available() {
        return;
    }
    let setup = setup(1, &["rlvmc"]);
    let dev = setup.devices[0].clone();
    assert_exit(&rlvm(&setup, "rpvcreate", &[&dev]), 0);
    // A second pvcreate makes the orphan PV again, as lvm2 does without -f.
    let again = rlvm(&setup, "rpvcreate", &[&dev]);
    assert_exit(&again, 0);
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

const VG_FIELDS: &str = "vg_name,vg_uuid,pv_count,lv_count,snap_count,vg_attr,vg_size,vg_free,vg_extent_size,vg_extent_count,vg_free_count,vg_seqno";
const PV_FIELDS: &str = "pv_name,vg_name,pv_fmt,pv_attr,pv_size,pv_free,pv_used,pv_uuid,dev_size,pe_start,pv_pe_count,pv_pe_alloc_count,pv_mda_count";
// No segment field (devices, segtype): those switch both to one row per segment.
const LV_FIELDS: &str = "lv_name,vg_name,lv_attr,lv_size,lv_uuid,seg_count";

/// The devices of `lv` as lvm2 and rlvs list them (one line per segment)
/// must be the same list.
fn same_devices(setup: &Setup, lv: &str) -> String {
    let theirs = lvm(&[
        "lvs",
        "--driverloaded",
        "n",
        "--noheadings",
        "-o",
        "devices",
        lv,
    ]);
    let theirs: Vec<String> = String::from_utf8_lossy(&theirs.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let ours = rlvm(setup, "rlvs", &["--noheadings", "-o", "devices", lv]);
    assert_exit(&ours, 0);
    // One line per segment in both, as lvs prints them.
    let ours = String::from_utf8_lossy(&ours.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(",");
    assert_eq!(ours, theirs.join(","), "devices of {lv}");
    ours
}

/// rvgextend of a VG lvm2 made and of one rlvm made, and lvm2's vgextend of
/// rlvm's: after each, vgck is clean and vgs/pvs/lvs equal rvgs/rpvs/rlvs; an
/// LV allocated across old and new PVs reads the same in both; rpvscan
/// prints what pvscan prints.
#[test]
fn vgextend_by_rlvm_and_lvm2_agree() {
    if !available() {
        return;
    }
    let setup = setup(5, &["rlvmxa", "rlvmxb"]);
    let d: Vec<&str> = setup.devices.iter().map(String::as_str).collect();
    let stdout = |out: &Output| String::from_utf8_lossy(&out.stdout).into_owned();

    // A VG made by lvm2, extended by rlvm over a bare device (initialised first).
    lvm(&["vgcreate", "-q", "--driverloaded", "n", "rlvmxa", d[0]]);
    let out = rlvm(&setup, "rvgextend", &["rlvmxa", d[1]]);
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out),
        format!(
            "  Physical volume \"{}\" successfully created.\n  Volume group \"rlvmxa\" successfully extended\n",
            d[1]
        )
    );
    lvm(&["vgck", "--driverloaded", "n", "rlvmxa"]);
    same_report_of(&setup, "rvgs", "vgs", VG_FIELDS, &["rlvmxa"]);
    same_report_of(&setup, "rpvs", "pvs", PV_FIELDS, &d[..2]);
    // 30 extents: more than either PV holds (23), so the LV spans both.
    assert_exit(
        &rlvm(
            &setup,
            "rlvcreate",
            &["-an", "-l", "30", "-n", "span", "rlvmxa"],
        ),
        0,
    );
    lvm(&["vgck", "--driverloaded", "n", "rlvmxa"]);
    same_report_of(&setup, "rlvs", "lvs", LV_FIELDS, &["rlvmxa"]);
    same_report_of(&setup, "rpvs", "pvs", PV_FIELDS, &d[..2]);
    let devices = same_devices(&setup, "rlvmxa/span");
    assert!(
        devices.contains(&format!("{}(0)", d[0])) && devices.contains(&format!("{}(0)", d[1])),
        "span is not on both PVs: {devices}"
    );

    // A VG made by rlvm, extended by rlvm with a PV lvm2 initialised (used as it is).
    assert_exit(&rlvm(&setup, "rpvcreate", &[d[2]]), 0);
    assert_exit(&rlvm(&setup, "rvgcreate", &["rlvmxb", d[2]]), 0);
    lvm(&["pvcreate", "-q", "--driverloaded", "n", d[3]]);
    let uuid = stdout(&lvm(&[
        "pvs",
        "--driverloaded",
        "n",
        "--noheadings",
        "-o",
        "pv_uuid",
        d[3],
    ]));
    let out = rlvm(&setup, "rvgextend", &["rlvmxb", d[3]]);
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out),
        "  Volume group \"rlvmxb\" successfully extended\n"
    );
    lvm(&["vgck", "--driverloaded", "n", "rlvmxb"]);
    same_report_of(&setup, "rvgs", "vgs", VG_FIELDS, &["rlvmxb"]);
    same_report_of(&setup, "rpvs", "pvs", PV_FIELDS, &d[2..4]);
    let after = stdout(&rlvm(
        &setup,
        "rpvs",
        &["--noheadings", "-o", "pv_uuid", d[3]],
    ));
    assert_eq!(
        after.trim(),
        uuid.trim(),
        "the orphan PV was re-initialised"
    );

    // lvm2 extends rlvm's VG; rlvm reads it, and allocates across all three PVs.
    lvm(&["vgextend", "-q", "--driverloaded", "n", "rlvmxb", d[4]]);
    same_report_of(&setup, "rvgs", "vgs", VG_FIELDS, &["rlvmxb"]);
    same_report_of(&setup, "rpvs", "pvs", PV_FIELDS, &d[2..]);
    assert_exit(
        &rlvm(
            &setup,
            "rlvcreate",
            &["-an", "-l", "60", "-n", "span", "rlvmxb"],
        ),
        0,
    );
    lvm(&["vgck", "--driverloaded", "n", "rlvmxb"]);
    same_report_of(&setup, "rlvs", "lvs", LV_FIELDS, &["rlvmxb"]);
    same_report_of(&setup, "rvgs", "vgs", VG_FIELDS, &["rlvmxb"]);
    let devices = same_devices(&setup, "rlvmxb/span");
    assert_eq!(
        devices.matches(',').count(),
        2,
        "span is not on all three PVs: {devices}"
    );

    // rpvscan lists the same PVs as pvscan, in the same format, on the same devices.
    let ours = rlvm(&setup, "rpvscan", &[]);
    assert_exit(&ours, 0);
    let theirs = lvm(&[
        "pvscan",
        "--driverloaded",
        "n",
        "--devices",
        &setup.devices.join(","),
    ]);
    assert_eq!(stdout(&ours), stdout(&theirs));
    assert!(stdout(&ours).contains("  Total: 5 ["), "{}", stdout(&ours));
}

/// An image file's bytes, to show a refused command wrote nothing.
fn bytes(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

/// rvgextend and `rpvscan --add` on image files (no lvm2 needed): a file
/// labelled in another state directory is registered and added; PVs of
/// other VGs, unknown VGs and foreign signatures are refused with one line
/// and exit 5, writing nothing.
#[test]
fn rvgextend_and_rpvscan_add_image_files() {
    let state = StateDir::new();
    let elsewhere = StateDir::new();
    let image = |dir: &StateDir, name: &str| {
        let path = dir.scratch().join(name);
        std::fs::File::create(&path)
            .unwrap()
            .set_len(64 << 20)
            .unwrap();
        path.to_str().unwrap().to_string()
    };
    let one_line_error = |out: &Output, names: &[&str]| {
        assert_exit(out, 5);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // One refusal, in lvm2's lines (at most its three for a PV of a VG).
        assert!((1..=3).contains(&stderr.lines().count()), "{stderr}");
        for name in names {
            assert!(stderr.contains(name), "{name} not in: {stderr}");
        }
    };
    let seqno = || {
        state
            .ok("rvgs", &["--noheadings", "-o", "vg_seqno", "rlvmimg"])
            .trim()
            .to_string()
    };

    let first = image(&state, "first.img");
    state.ok("rpvcreate", &[&first]);
    state.ok("rvgcreate", &["rlvmimg", &first]);
    // Labelled in another state directory: this one does not know it yet.
    let second = image(&elsewhere, "second.img");
    elsewhere.ok("rpvcreate", &[&second]);
    let uuid = elsewhere.ok("rpvs", &["--noheadings", "-o", "pv_uuid", &second]);
    assert!(!state.ok("rpvscan", &[]).contains(&second));

    // Only the lines of these files are checked: the host's block devices are scanned too.
    let line_of = |listed: &str, path: &str| {
        listed
            .lines()
            .find(|l| l.starts_with(&format!("  PV {path} ")))
            .unwrap_or_else(|| panic!("no line for {path} in:\n{listed}"))
            .to_string()
    };
    let listed = state.ok("rpvscan", &["--add", &second]);
    let line = line_of(&listed, &second);
    assert!(
        line.ends_with(" lvm2 [64.00 MiB]") && !line.contains(" VG "),
        "{line}"
    );
    let line = line_of(&listed, &first);
    assert!(
        line.contains(" VG rlvmimg ") && line.ends_with(" lvm2 [60.00 MiB / 60.00 MiB free]"),
        "{line}"
    );
    assert!(
        listed.lines().last().unwrap().starts_with("  Total: "),
        "{listed}"
    );
    let out = state.ok("rvgextend", &["rlvmimg", &second]);
    assert_eq!(out, "  Volume group \"rlvmimg\" successfully extended\n");
    assert_eq!(
        state
            .ok("rpvs", &["--noheadings", "-o", "pv_uuid,vg_name", &second])
            .split_whitespace()
            .collect::<Vec<_>>(),
        [uuid.trim(), "rlvmimg"]
    );
    assert_eq!(
        state
            .ok(
                "rvgs",
                &["--noheadings", "-o", "pv_count,vg_extent_count", "rlvmimg"]
            )
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["2", "30"]
    );
    // 20 extents do not fit on one PV (15 each): the LV spans both files.
    state.ok("rlvcreate", &["-an", "-l", "20", "-n", "span", "rlvmimg"]);
    let devices = state.ok("rlvs", &["--noheadings", "-o", "devices", "rlvmimg/span"]);
    assert_eq!(
        devices.split_whitespace().collect::<Vec<_>>().join(","),
        format!("{first}(0),{second}(0)"),
        "span is not on both files"
    );
    let listed = state.ok("rpvscan", &[]);
    let line = line_of(&listed, &second);
    assert!(
        line.contains(" VG rlvmimg ") && line.ends_with(" lvm2 [60.00 MiB / 40.00 MiB free]"),
        "{line}"
    );
    let line = line_of(&listed, &first);
    assert!(line.ends_with(" lvm2 [60.00 MiB / 0    free]"), "{line}");

    // --add refuses a file with no label, and registers nothing.
    let blank = image(&state, "blank.img");
    one_line_error(
        &state.run("rpvscan", &["--add", &blank]),
        &[&blank, "no LVM2 label"],
    );
    assert!(!state.ok("rpvscan", &[]).contains(&blank));

    let before = seqno();
    // A PV of another VG (made in the other state directory).
    let taken = image(&elsewhere, "taken.img");
    elsewhere.ok("rpvcreate", &[&taken]);
    elsewhere.ok("rvgcreate", &["rlvmother", &taken]);
    let taken_bytes = bytes(std::path::Path::new(&taken));
    one_line_error(
        &state.run("rvgextend", &["rlvmimg", &taken]),
        &[&taken, "rlvmother"],
    );
    assert!(bytes(std::path::Path::new(&taken)) == taken_bytes);
    // A PV of this very VG.
    one_line_error(
        &state.run("rvgextend", &["rlvmimg", &second]),
        &[&second, "rlvmimg"],
    );
    // No such VG: the bare file is not initialised either.
    one_line_error(
        &state.run("rvgextend", &["rlvmnovg", &blank]),
        &["rlvmnovg", "not found"],
    );
    assert!(bytes(std::path::Path::new(&blank)).iter().all(|&b| b == 0));
    // A filesystem signature, refused without -f.
    let ext4 = image(&state, "ext4.img");
    let mkfs = Command::new("mkfs.ext4")
        .args(["-q", "-F", &ext4])
        .output()
        .expect("mkfs.ext4 (e2fsprogs)");
    assert!(mkfs.status.success(), "{mkfs:?}");
    let ext4_bytes = bytes(std::path::Path::new(&ext4));
    one_line_error(
        &state.run("rvgextend", &["rlvmimg", &blank, &ext4]),
        &[&ext4, "ext2/ext3/ext4"],
    );
    assert!(bytes(std::path::Path::new(&ext4)) == ext4_bytes);
    // Nothing was initialised before the refusal of the second PV either.
    assert!(bytes(std::path::Path::new(&blank)).iter().all(|&b| b == 0));
    // A bad command line is lvm2's status 3.
    assert_exit(&state.run("rvgextend", &["rlvmimg"]), 3);
    assert_eq!(seqno(), before, "a refused rvgextend committed metadata");

    // With -f the signature is overwritten and the file joins the VG.
    let out = state.ok("rvgextend", &["-f", "rlvmimg", &ext4]);
    assert_eq!(
        out,
        format!(
            "  Physical volume \"{ext4}\" successfully created.\n  Volume group \"rlvmimg\" successfully extended\n"
        )
    );
    assert_eq!(seqno(), (before.parse::<u64>().unwrap() + 1).to_string());
    let listed = state.ok("rpvscan", &[]);
    let line = line_of(&listed, &ext4);
    assert!(
        line.contains(" VG rlvmimg ") && line.ends_with(" lvm2 [60.00 MiB / 60.00 MiB free]"),
        "{line}"
    );
}

#[test]
fn rlvs_orders_rows_as_lvs_does() {
    if !available() {
        return;
    }
    let setup = setup(1, &["rlvmsort"]);
    let dev = setup.devices[0].clone();
    assert_exit(&rlvm(&setup, "rpvcreate", &[&dev]), 0);
    assert_exit(&rlvm(&setup, "rvgcreate", &["rlvmsort", &dev]), 0);
    // Created out of name order, so metadata order differs from lvm2's sort.
    for name in ["zeta", "lv2", "lv10", "alpha", "lv1"] {
        assert_exit(
            &rlvm(
                &setup,
                "rlvcreate",
                &["-an", "-L", "4M", "-n", name, "rlvmsort"],
            ),
            0,
        );
    }
    assert_exit(
        &rlvm(
            &setup,
            "rlvcreate",
            &["-an", "-s", "-L", "4M", "-n", "beta", "rlvmsort/zeta"],
        ),
        0,
    );
    same_report_of(&setup, "rlvs", "lvs", "lv_name,origin", &["rlvmsort"]);
    let ours = rlvm(
        &setup,
        "rlvs",
        &["-a", "--noheadings", "-o", "lv_name", "rlvmsort"],
    );
    let theirs = lvm(&[
        "lvs",
        "--driverloaded",
        "n",
        "-a",
        "--noheadings",
        "-o",
        "lv_name",
        "rlvmsort",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&theirs.stdout)
    );
}
