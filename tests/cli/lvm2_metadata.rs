//! rlvm's metadata-changing commands and lvm2's metadata archive/backup,
//! against real lvm2 on loop devices (`--driverloaded n`): the same command
//! sequence on twin VGs gives the same stdout and exit statuses, lvm2 reads
//! the result, the backup files are lvm2's layout, and a VG whose metadata
//! was destroyed comes back from the archive. Needs root and lvm2; skips
//! loudly unless RLVM_REQUIRE_LVM2=1 (tests/run-all.sh).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{assert_exit, bin};

fn available() -> bool {
    crate::support::lvm2_available("lvm2_metadata")
}

/// Loop devices over image files, private state and backup directories.
struct Bed {
    dir: tempfile::TempDir,
    devices: Vec<String>,
    vgs: Vec<String>,
}

impl Drop for Bed {
    fn drop(&mut self) {
        for vg in &self.vgs {
            let _ = self.lvm_output(&["vgremove", "-ff", vg]);
        }
        for device in &self.devices {
            let _ = Command::new("losetup").args(["-d", device]).status();
        }
    }
}

impl Bed {
    fn new(count: usize, vgs: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut bed = Bed {
            dir,
            devices: Vec::new(),
            vgs: vgs.iter().map(|s| s.to_string()).collect(),
        };
        for i in 0..count {
            let image = bed.dir.path().join(format!("pv{i}.img"));
            std::fs::File::create(&image)
                .unwrap()
                .set_len(64 << 20)
                .unwrap();
            let out = Command::new("losetup")
                .args(["-f", "--show", image.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(out.status.success(), "losetup: {out:?}");
            bed.devices
                .push(String::from_utf8_lossy(&out.stdout).trim().to_string());
        }
        bed
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn rlvm(&self, program: &str, args: &[&str]) -> Output {
        Command::new(bin(program))
            .args(args)
            .env("RLVM_DIR", self.state())
            .env("RLVM_DEVICES", self.devices.join(":"))
            .env("RLVM_BACKEND", "kernel")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    /// `program` seeing only `devices` (the others are "missing").
    fn rlvm_on(&self, devices: &[&str], program: &str, args: &[&str]) -> Output {
        Command::new(bin(program))
            .args(args)
            .env("RLVM_DIR", self.state())
            .env("RLVM_DEVICES", devices.join(":"))
            .env("RLVM_BACKEND", "kernel")
            .output()
            .unwrap()
    }

    fn ok(&self, program: &str, args: &[&str]) -> String {
        let out = self.rlvm(program, args);
        assert_exit(&out, 0);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// lvm2's own archive and backup go under the test's directory, and it
    /// sees only this test's devices.
    fn lvm_output(&self, args: &[&str]) -> Output {
        let config = format!(
            "backup/archive_dir=\"{}\" backup/backup_dir=\"{}\"",
            self.dir.path().join("lvm2-archive").display(),
            self.dir.path().join("lvm2-backup").display()
        );
        let devices = self.devices.join(",");
        Command::new("lvm")
            .args(&args[..1])
            .args([
                "--driverloaded",
                "n",
                "--devices",
                &devices,
                "--config",
                &config,
            ])
            .args(&args[1..])
            .env("LVM_SUPPRESS_FD_WARNINGS", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    }

    fn lvm(&self, args: &[&str]) -> String {
        let out = self.lvm_output(args);
        assert!(
            out.status.success(),
            "lvm {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn archives(&self, vg: &str) -> Vec<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(self.state().join("archive"))
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        found.retain(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{vg}_"))
        });
        found.sort();
        found
    }
}

fn header_value(path: &Path, key: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key} = ")))
        .unwrap_or_default()
        .to_string()
}

/// The same metadata commands on twin VGs, one through rlvm and one through
/// lvm2: identical stdout (names and devices normalised) and exit statuses,
/// and lvm2 reports the same state of both afterwards.
#[test]
fn metadata_commands_match_lvm2() {
    if !available() {
        return;
    }
    let bed = Bed::new(4, &["rlvmmr", "rlvmml"]);
    let (r0, r1, l0, l1) = (
        bed.devices[0].as_str(),
        bed.devices[1].as_str(),
        bed.devices[2].as_str(),
        bed.devices[3].as_str(),
    );
    bed.ok("rpvcreate", &[r0, r1]);
    bed.ok("rvgcreate", &["rlvmmr", r0, r1]);
    bed.ok("rlvcreate", &["-an", "-L", "8M", "-n", "lv", "rlvmmr"]);
    bed.lvm(&["pvcreate", l0, l1]);
    bed.lvm(&["vgcreate", "rlvmml", l0, l1]);
    bed.lvm(&["lvcreate", "-an", "-Zn", "-L", "8M", "-n", "lv", "rlvmml"]);

    // (command, args with V for the VG and P0/P1 for its PVs, lvm2's exit status)
    let steps: &[(&str, &[&str], i32)] = &[
        ("vgchange", &["--addtag", "foo", "--addtag", "@bar", "V"], 0),
        ("vgchange", &["--deltag", "bar", "V"], 0),
        ("vgchange", &["--deltag", "nosuch", "V"], 0),
        ("vgchange", &["-x", "n", "V"], 0),
        ("vgchange", &["-x", "n", "V"], 5),
        ("vgchange", &["--resizeable", "y", "V"], 0),
        ("vgchange", &["-l", "5", "V"], 0),
        ("vgchange", &["-p", "1", "V"], 5),
        ("vgchange", &["-p", "3", "V"], 0),
        ("vgchange", &["--addtag", "bad tag", "V"], 3),
        ("pvchange", &["-x", "n", "P0"], 0),
        ("pvchange", &["-x", "n", "P0"], 0),
        ("pvchange", &["-x", "y", "--addtag", "pt", "P0"], 0),
        ("pvchange", &["-u", "P1"], 0),
        ("lvchange", &["-p", "r", "V/lv"], 0),
        ("lvchange", &["-p", "r", "V/lv"], 5),
        ("lvchange", &["-p", "rw", "--addtag", "lt", "V/lv"], 0),
        (
            "lvchange",
            &["--addtag", "lt2", "--deltag", "lt", "V/lv"],
            0,
        ),
        ("vgreduce", &["V", "P0"], 5),
        ("vgreduce", &["V", "P1"], 0),
        ("vgreduce", &["V", "P1"], 5),
        ("vgreduce", &["V"], 3),
        ("vgextend", &["V", "P1"], 0),
        ("vgreduce", &["--removemissing", "V"], 0),
        ("vgreduce", &["-a", "V"], 5),
        ("vgextend", &["V", "P1"], 0),
        (
            "pvresize",
            &["-y", "--setphysicalvolumesize", "40M", "P1"],
            0,
        ),
        ("pvresize", &["P0"], 0),
        ("vgrename", &["V", "V"], 5),
        ("vgrename", &["V", "Vx"], 0),
        ("vgrename", &["Vx", "V"], 0),
    ];
    let uuid_of = |device: &str| bed.lvm(&["pvs", "--noheadings", "-o", "pv_uuid", device]);
    let uuid_before = uuid_of(r1);
    let mut identical = 0;
    for (command, args, status) in steps {
        let fill = |vg: &str, p0: &str, p1: &str| -> Vec<String> {
            args.iter()
                .map(|a| match *a {
                    "V" => vg.to_string(),
                    "Vx" => format!("{vg}x"),
                    "V/lv" => format!("{vg}/lv"),
                    "P0" => p0.to_string(),
                    "P1" => p1.to_string(),
                    other => other.to_string(),
                })
                .collect()
        };
        let ours_args = fill("rlvmmr", r0, r1);
        let theirs_args = fill("rlvmml", l0, l1);
        let ours = bed.rlvm(
            &format!("r{command}"),
            &ours_args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let theirs = bed.lvm_output(
            &[
                &[*command][..],
                &theirs_args.iter().map(String::as_str).collect::<Vec<_>>(),
            ]
            .concat(),
        );
        let normal = |out: &Output, vg: &str, p0: &str, p1: &str| {
            String::from_utf8_lossy(&out.stdout)
                .replace(vg, "V")
                .replace(p0, "P0")
                .replace(p1, "P1")
        };
        assert_eq!(
            theirs.status.code(),
            Some(*status),
            "lvm2 {command} {theirs_args:?}: {}",
            String::from_utf8_lossy(&theirs.stderr)
        );
        assert_eq!(
            ours.status.code(),
            Some(*status),
            "r{command} {ours_args:?}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        if *status != 3 {
            assert_eq!(
                normal(&ours, "rlvmmr", r0, r1),
                normal(&theirs, "rlvmml", l0, l1),
                "stdout of {command} {args:?}"
            );
        }
        identical += 1;
    }
    eprintln!("{identical} of {} invocations identical", steps.len());

    // lvm2 reads rlvm's VG as clean and reports the same state for both.
    bed.lvm(&["vgck", "rlvmmr"]);
    assert_ne!(uuid_of(r1), uuid_before, "pvchange -u kept the UUID");
    let report = |command: &str, fields: &str, names: &[&str]| {
        bed.lvm(&[&[command, "--noheadings", "-o", fields][..], names].concat())
    };
    let vg_fields = "vg_tags,vg_attr,max_lv,max_pv,pv_count,vg_extent_count";
    assert_eq!(
        report("vgs", vg_fields, &["rlvmmr"]),
        report("vgs", vg_fields, &["rlvmml"])
    );
    let lv_fields = "lv_name,lv_attr,lv_tags,lv_size";
    assert_eq!(
        report("lvs", lv_fields, &["rlvmmr"]),
        report("lvs", lv_fields, &["rlvmml"])
    );
    let pv_fields = "pv_attr,pv_tags,pv_size,pv_pe_count,dev_size";
    for (ours, theirs) in [(r0, l0), (r1, l1)] {
        assert_eq!(
            report("pvs", pv_fields, &[ours]),
            report("pvs", pv_fields, &[theirs])
        );
    }
    assert!(report("vgs", "vg_tags", &["rlvmmr"]).contains("foo"));
    assert!(report("pvs", "pv_tags", &[r0]).contains("pt"));
}

/// The archive before and the backup after every change, in lvm2's file
/// layout; `-A n` and `backup/archive=0` as lvm2 has them; and a VG whose
/// metadata areas were overwritten is restored from the archive, after
/// which lvm2's vgck and lvs agree.
#[test]
fn archive_restores_a_damaged_vg() {
    if !available() {
        return;
    }
    let bed = Bed::new(2, &["rlvmma"]);
    let (d0, d1) = (bed.devices[0].as_str(), bed.devices[1].as_str());
    bed.ok("rpvcreate", &[d0, d1]);
    bed.ok("rvgcreate", &["rlvmma", d0, d1]);
    let backup = bed.state().join("backup/rlvmma");
    assert!(backup.exists(), "no backup after rvgcreate");
    assert!(
        bed.archives("rlvmma").is_empty(),
        "vgcreate archives nothing"
    );
    bed.ok("rlvcreate", &["-an", "-L", "12M", "-n", "keep", "rlvmma"]);
    bed.ok("rvgchange", &["--addtag", "web", "rlvmma"]);
    let archives = bed.archives("rlvmma");
    assert_eq!(archives.len(), 2, "{archives:?}");
    let name = archives[1]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert!(
        name.starts_with("rlvmma_00001-") && name.ends_with(".vg"),
        "{name}"
    );
    assert_eq!(
        header_value(&archives[0], "description"),
        "\"Created *before* executing 'rlvcreate -an -L 12M -n keep rlvmma'\""
    );
    assert_eq!(
        header_value(&backup, "description"),
        "\"Created *after* executing 'rvgchange --addtag web rlvmma'\""
    );

    // rlvm's backup file is lvm2's, byte for byte, but for the lines that
    // name the writer, the command and the time.
    let ours = bed.dir.path().join("ours.vg");
    let theirs = bed.dir.path().join("theirs.vg");
    bed.ok("rvgcfgbackup", &["-f", ours.to_str().unwrap(), "rlvmma"]);
    bed.lvm(&["vgcfgbackup", "-f", theirs.to_str().unwrap(), "rlvmma"]);
    let strip = |path: &Path| -> String {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|l| {
                !l.starts_with("# Generated by LVM2")
                    && !l.starts_with("description = ")
                    && !l.starts_with("creation_time = ")
            })
            .map(|l| format!("{l}\n"))
            .collect()
    };
    assert_eq!(strip(&ours), strip(&theirs));
    // Each reads the other's file.
    let listed = bed.lvm(&["vgcfgrestore", "--list", "-f", ours.to_str().unwrap()]);
    assert!(listed.contains("VG name:    \trlvmma"), "{listed}");
    bed.ok("rvgcfgrestore", &["--list", "-f", theirs.to_str().unwrap()]);

    // -A n: neither archive nor backup, and lvm2's warning.
    let before = std::fs::read(&backup).unwrap();
    let out = bed.rlvm("rvgchange", &["-An", "--addtag", "x1", "rlvmma"]);
    assert_exit(&out, 0);
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("  WARNING: This metadata update is NOT backed up."));
    assert_eq!(bed.archives("rlvmma").len(), 2);
    assert_eq!(std::fs::read(&backup).unwrap(), before);
    // backup/archive=0: the backup only.
    bed.ok(
        "rvgchange",
        &["--config", "backup/archive=0", "--addtag", "x2", "rlvmma"],
    );
    assert_eq!(bed.archives("rlvmma").len(), 2);
    assert_ne!(std::fs::read(&backup).unwrap(), before);

    // The admin's mistake: the LV removed, then both metadata areas overwritten.
    bed.ok("rlvremove", &["-f", "rlvmma/keep"]);
    let with_keep = bed.archives("rlvmma").last().unwrap().clone();
    for device in [d0, d1] {
        let out = Command::new("dd")
            .args([
                "if=/dev/zero",
                &format!("of={device}"),
                "bs=4096",
                "seek=1",
                "count=200",
                "conv=notrunc",
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    assert_exit(&bed.rlvm("rvgs", &["rlvmma"]), 5);
    let restored = bed.ok(
        "rvgcfgrestore",
        &["-f", with_keep.to_str().unwrap(), "rlvmma"],
    );
    assert_eq!(restored, "  Restored volume group rlvmma.\n");
    bed.lvm(&["vgck", "rlvmma"]);
    let lvs = bed.lvm(&["lvs", "--noheadings", "-o", "lv_name,lv_size", "rlvmma"]);
    assert_eq!(
        lvs.split_whitespace().collect::<Vec<_>>(),
        ["keep", "12.00m"]
    );
    let rlvs = bed.ok("rlvs", &["--noheadings", "-o", "lv_name,lv_size", "rlvmma"]);
    assert_eq!(lvs, rlvs);

    // lvm2 restores rlvm's archive (the VG before keep existed), rlvm reads it.
    bed.lvm(&[
        "vgcfgrestore",
        "-f",
        archives[0].to_str().unwrap(),
        "rlvmma",
    ]);
    let rlvs = bed.ok("rlvs", &["--noheadings", "-o", "lv_name", "rlvmma"]);
    assert_eq!(rlvs.trim(), "");
    // And rlvm restores lvm2's file; its default file is the backup.
    bed.ok("rvgcfgrestore", &["-f", theirs.to_str().unwrap(), "rlvmma"]);
    bed.lvm(&["vgck", "rlvmma"]);
    assert!(bed.lvm(&["lvs", "rlvmma"]).contains("keep"));
    let wrong = bed.rlvm(
        "rvgcfgrestore",
        &["-f", theirs.to_str().unwrap(), "othervg"],
    );
    assert_exit(&wrong, 5);
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("does not contain volume group 'othervg'")
    );
    let listed = bed.ok("rvgcfgrestore", &["--list", "rlvmma"]);
    assert!(listed.starts_with("   \n  File:\t\t"), "{listed}");
    assert!(listed.contains(
        "  Description:\tCreated *before* executing 'rlvcreate -an -L 12M -n keep rlvmma'\n"
    ));
}

/// `pvcreate --metadatacopies 0|2` lay PVs out as lvm2 does (no area; a
/// second area ending the device), and VGs over them hold lvm2's extents.
#[test]
fn metadata_copies_match_lvm2() {
    if !available() {
        return;
    }
    let bed = Bed::new(4, &["rlvmmcr", "rlvmmcl"]);
    let d = &bed.devices;
    bed.ok("rpvcreate", &["--metadatacopies", "0", &d[0]]);
    bed.ok("rpvcreate", &["--pvmetadatacopies", "2", &d[1]]);
    bed.lvm(&["pvcreate", "--metadatacopies", "0", &d[2]]);
    bed.lvm(&["pvcreate", "--pvmetadatacopies", "2", &d[3]]);
    let layout = |device: &str| -> String {
        // pvck reads the device named, whatever --devices says.
        let out = Command::new("lvm")
            .args(["pvck", "--dump", "headers", device])
            .env("LVM_SUPPRESS_FD_WARNINGS", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "pvck {device}: {out:?}");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("disk_locn") || l.contains(".start ") || l.contains(".size "))
            .map(|l| format!("{l}\n"))
            .collect()
    };
    assert_eq!(layout(&d[0]), layout(&d[2]));
    assert_eq!(layout(&d[1]), layout(&d[3]));
    assert!(
        layout(&d[1]).contains("mda_header_2.start "),
        "{}",
        layout(&d[1])
    );
    let bad = bed.rlvm("rpvcreate", &["--metadatacopies", "3", &d[0]]);
    assert_exit(&bad, 3);
    // An orphan PV resized: lvm2 reads the label's new device size.
    let resize = |dev: &str| bed.rlvm("rpvresize", &["-y", "--setphysicalvolumesize", "40M", dev]);
    assert_exit(&resize(&d[0]), 0);
    let size = |dev: &str| bed.lvm(&["pvs", "--noheadings", "-o", "pv_size", dev]);
    assert_eq!(size(&d[0]).trim(), "40.00m");
    bed.ok("rpvresize", &[&d[0]]);
    assert_eq!(size(&d[0]).trim(), "64.00m");
    // Not below the second metadata area at the end.
    assert_exit(&resize(&d[1]), 5);
    assert_eq!(size(&d[1]).trim(), "64.00m");

    bed.ok("rvgcreate", &["rlvmmcr", &d[0], &d[1]]);
    bed.lvm(&["vgcreate", "rlvmmcl", &d[2], &d[3]]);
    bed.lvm(&["vgck", "rlvmmcr"]);
    let fields = "pv_pe_count,pv_mda_count,pe_start";
    for (ours, theirs) in [(&d[0], &d[2]), (&d[1], &d[3])] {
        assert_eq!(
            bed.lvm(&["pvs", "--noheadings", "-o", fields, ours]),
            bed.lvm(&["pvs", "--noheadings", "-o", fields, theirs])
        );
    }
    // The PV without an area is found through the VG that lists it.
    bed.ok("rlvcreate", &["-an", "-l", "20", "-n", "lv", "rlvmmcr"]);
    let devices = bed.lvm(&["lvs", "--noheadings", "-o", "devices", "rlvmmcr/lv"]);
    assert!(devices.contains(d[0].as_str()), "{devices}");
    let rows = bed.ok("rpvs", &["--noheadings", "-o", "pv_name,vg_name"]);
    assert_eq!(
        rows.lines().filter(|l| l.contains(d[0].as_str())).count(),
        1,
        "{rows}"
    );
}

/// On the engine: `rlvchange -p r` makes an active LV's device read-only
/// (writes refused, the bytes kept) and `-p rw` writable again; `rvgrename`
/// renames the active devices with the VG.
#[test]
fn permission_and_rename_reach_active_devices() {
    use crate::support::StateDir;
    use std::os::unix::fs::FileExt;
    let state = StateDir::new();
    let pv = state.scratch().join("pv0.img");
    std::fs::File::create(&pv)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    state.ok("rpvcreate", &[pv.to_str().unwrap()]);
    state.ok("rvgcreate", &["permvg", pv.to_str().unwrap()]);
    state.ok("rlvcreate", &["-L", "8M", "-n", "lv", "permvg"]);
    let write = |name: &str, byte: u8| {
        std::fs::OpenOptions::new()
            .write(true)
            .open(state.mapper(name))
            .and_then(|f| f.write_all_at(&[byte; 4096], 0).and_then(|()| f.sync_all()))
    };
    let first_byte = |name: &str| std::fs::read(state.mapper(name)).unwrap()[0];
    write("permvg-lv", 7).unwrap();
    assert_eq!(
        state.ok("rlvchange", &["-p", "r", "permvg/lv"]),
        "  Logical volume permvg/lv changed.\n"
    );
    let info = state.ok("rdmsetup", &["info", "permvg-lv"]);
    assert!(info.contains("READ-ONLY"), "{info}");
    assert!(
        write("permvg-lv", 9).is_err(),
        "a read-only LV took a write"
    );
    assert_eq!(first_byte("permvg-lv"), 7);
    state.ok("rlvchange", &["-p", "rw", "permvg/lv"]);
    write("permvg-lv", 9).unwrap();
    assert_eq!(first_byte("permvg-lv"), 9);

    state.ok("rvgrename", &["permvg", "permvg2"]);
    let devices = state.ok("rdmsetup", &["ls"]);
    assert!(devices.contains("permvg2-lv"), "{devices}");
    assert!(!devices.contains("permvg-lv\t"), "{devices}");
    assert_eq!(first_byte("permvg2-lv"), 9);
}

/// `vgreduce --removemissing`: an empty missing PV goes; an LV on a missing
/// PV is refused without `--force` and dropped with it; lvm2 reads the VG
/// written to the PVs that are left as consistent.
#[test]
fn removemissing_matches_lvm2() {
    if !available() {
        return;
    }
    let bed = Bed::new(4, &["rlvmrm1", "rlvmrm2"]);
    let d: Vec<&str> = bed.devices.iter().map(String::as_str).collect();
    bed.ok("rpvcreate", &d);
    bed.ok("rvgcreate", &["rlvmrm1", d[0], d[1]]);
    bed.ok("rlvcreate", &["-an", "-l", "5", "-n", "keep", "rlvmrm1"]);
    bed.ok("rvgcreate", &["rlvmrm2", d[2], d[3]]);
    // small on d[2]; span over the rest of d[2] and onto d[3].
    bed.ok("rlvcreate", &["-an", "-l", "2", "-n", "small", "rlvmrm2"]);
    bed.ok("rlvcreate", &["-an", "-l", "20", "-n", "span", "rlvmrm2"]);

    // d[1] is gone: it held nothing.
    let out = bed.rlvm_on(&[d[0]], "rvgreduce", &["--removemissing", "rlvmrm1"]);
    assert_exit(&out, 0);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "  Wrote out consistent volume group rlvmrm1.\n"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("  WARNING: Couldn't find device with uuid ")
    );
    let again = bed.rlvm_on(&[d[0]], "rvgreduce", &["--removemissing", "rlvmrm1"]);
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        "  Volume group \"rlvmrm1\" is already consistent.\n"
    );
    let lvm_on = |devices: &str, args: &[&str]| {
        let out = Command::new("lvm")
            .args(&args[..1])
            .args(["--driverloaded", "n", "--devices", devices])
            .args(&args[1..])
            .env("LVM_SUPPRESS_FD_WARNINGS", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "lvm {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    lvm_on(d[0], &["vgck", "rlvmrm1"]);
    assert_eq!(
        lvm_on(
            d[0],
            &["vgs", "--noheadings", "-o", "pv_count,lv_count", "rlvmrm1"]
        )
        .split_whitespace()
        .collect::<Vec<_>>(),
        ["1", "1"]
    );

    // d[3] is gone under span: refused (the empty missing PVs would go: none here).
    let out = bed.rlvm_on(&[d[2]], "rvgreduce", &["--removemissing", "rlvmrm2"]);
    assert_exit(&out, 5);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Partial LV span needs to be repaired or removed."),
        "{stderr}"
    );
    assert!(
        stderr.contains("There are still partial LVs in VG rlvmrm2."),
        "{stderr}"
    );
    let out = bed.rlvm_on(
        &[d[2]],
        "rvgreduce",
        &["--removemissing", "--force", "rlvmrm2"],
    );
    assert_exit(&out, 0);
    lvm_on(d[2], &["vgck", "rlvmrm2"]);
    let lvs = lvm_on(d[2], &["lvs", "--noheadings", "-o", "lv_name", "rlvmrm2"]);
    assert_eq!(
        lvs.split_whitespace().collect::<Vec<_>>(),
        ["small"],
        "{lvs}"
    );
}
