//! How rlvm reads damaged, duplicated and ambiguous disks, each case
//! checked against real lvm2's reading of the same loop devices (issue 11):
//! where lvm2 refuses, rlvm refuses; where lvm2 reads, rlvm reads; a disk
//! judged damaged is never written (its first MiBs are compared). Needs root
//! and lvm2; skips loudly unless RLVM_REQUIRE_LVM2=1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rlvm::io::{BlockIo, FileDisk};
use rlvm::lvm2::label::Label;
use rlvm::lvm2::mda::MdaHeader;

use crate::support::{assert_exit, bin};

fn available() -> bool {
    crate::support::lvm2_available("lvm2_scan")
}

/// Image files, each behind a loop device; loops are detached on drop.
struct Disks {
    dir: tempfile::TempDir,
    images: Vec<PathBuf>,
    loops: Vec<String>,
}

impl Drop for Disks {
    fn drop(&mut self) {
        for device in &self.loops {
            let _ = Command::new("losetup").args(["-d", device]).status();
        }
    }
}

impl Disks {
    fn new(count: usize) -> Self {
        let mut disks = Disks {
            dir: tempfile::tempdir().unwrap(),
            images: Vec::new(),
            loops: Vec::new(),
        };
        for i in 0..count {
            let image = disks.dir.path().join(format!("pv{i}.img"));
            std::fs::File::create(&image)
                .unwrap()
                .set_len(64 << 20)
                .unwrap();
            disks.images.push(image.clone());
            disks.attach(&image);
        }
        disks
    }

    /// One more loop device over `image` (a second path to the same PV).
    fn attach(&mut self, image: &Path) -> String {
        let out = Command::new("losetup")
            .args(["-f", "--show", image.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "losetup: {out:?}");
        let device = String::from_utf8_lossy(&out.stdout).trim().to_string();
        self.loops.push(device.clone());
        device
    }

    /// lvm2 restricted to `devices`.
    fn lvm(&self, devices: &[&str], args: &[&str]) -> Output {
        let list = devices.join(",");
        let mut all = args.to_vec();
        all.extend(["--driverloaded", "n", "--devices", &list]);
        Command::new("lvm")
            .args(&all)
            .env("LVM_SUPPRESS_FD_WARNINGS", "1")
            .output()
            .unwrap()
    }

    fn lvm_ok(&self, devices: &[&str], args: &[&str]) -> Output {
        let out = self.lvm(devices, args);
        assert!(
            out.status.success(),
            "lvm {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// An rlvm program scanning exactly `devices`.
    fn rlvm(&self, devices: &[&str], program: &str, args: &[&str]) -> Output {
        self.rlvm_on("kernel", devices, program, args)
    }

    /// As [`Disks::rlvm`] on `backend` (the engine, for an activation that must be refused).
    fn rlvm_on(&self, backend: &str, devices: &[&str], program: &str, args: &[&str]) -> Output {
        Command::new(bin(program))
            .args(args)
            .env("RLVM_DIR", self.dir.path().join("state"))
            .env("RLVM_DEVICES", devices.join(":"))
            .env("RLVM_BACKEND", backend)
            .output()
            .unwrap()
    }

    /// The first 2 MiB of every device (labels, metadata, first extent).
    fn heads(&self) -> Vec<Vec<u8>> {
        self.loops
            .iter()
            .map(|d| {
                let disk = FileDisk::open_read_only(Path::new(d)).unwrap();
                let mut head = vec![0u8; 2 << 20];
                disk.read_exact_at(&mut head, 0).unwrap();
                head
            })
            .collect()
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A report's words line by line (lvm2 aligns --noheadings columns, rlvm need not).
fn words(out: &Output) -> Vec<Vec<String>> {
    stdout(out)
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

/// Rewrite the committed metadata text on every area of `device` with
/// `edit`, as a hand (or a bug) would: a new, correctly checksummed copy.
fn edit_metadata(device: &str, edit: &dyn Fn(&str) -> String) {
    let disk = FileDisk::open(Path::new(device)).unwrap();
    let label = Label::read(&disk).unwrap().expect("a label");
    for area in &label.metadata_areas {
        let header = MdaHeader::read(&disk, area.offset).unwrap();
        let text = header.read_committed(&disk).unwrap().expect("a text");
        let changed = edit(&text);
        assert_ne!(changed, text, "the edit changed nothing");
        header.commit_text(&disk, &changed).unwrap();
    }
}

/// A VG made by lvm2 on `devices` with LVs l0 and l1 (8 MiB each, on the first PV).
fn lvm2_vg(disks: &Disks, vg: &str, devices: &[&str]) {
    disks.lvm_ok(devices, &[&["vgcreate", vg][..], devices].concat());
    for lv in ["l0", "l1"] {
        disks.lvm_ok(devices, &["lvcreate", "-an", "-Zn", "-L8M", "-n", lv, vg]);
    }
}

fn vg_uuid(disks: &Disks, devices: &[&str], device: &str) -> String {
    let out = disks.lvm_ok(devices, &["pvs", "--noheadings", "-o", "vg_uuid", device]);
    stdout(&out).trim().to_string()
}

/// Item 1: two VGs named alike are refused by name (lvm2's words and exit
/// status), nothing is written, and each is reached by its UUID.
#[test]
fn same_name_vgs_are_refused_by_name_and_opened_by_uuid() {
    if !available() {
        return;
    }
    let disks = Disks::new(2);
    let (a, b) = (disks.loops[0].as_str(), disks.loops[1].as_str());
    disks.lvm_ok(&[a], &["vgcreate", "sc1vg", a]);
    disks.lvm_ok(&[b], &["vgcreate", "sc1vg", b]);
    let both = [a, b];
    let before = disks.heads();
    let theirs = disks.lvm(
        &both,
        &["lvcreate", "-an", "-Zn", "-L4M", "-n", "x", "sc1vg"],
    );
    let ours = disks.rlvm(&both, "rlvcreate", &["-an", "-L4M", "-n", "x", "sc1vg"]);
    assert_exit(&theirs, 5);
    assert_exit(&ours, 5);
    for line in [
        "Multiple VGs found with the same name: skipping sc1vg",
        "Use --select vg_uuid=<uuid> in place of the VG name.",
    ] {
        assert!(stderr(&theirs).contains(line), "lvm2: {}", stderr(&theirs));
        assert!(stderr(&ours).contains(line), "rlvm: {}", stderr(&ours));
    }
    assert!(stderr(&ours).contains("VG name sc1vg is used by VGs"));
    assert!(disks.heads() == before, "a refused command wrote");
    // Both are listed, by lvm2 and by rlvm.
    let uuids = |out: &Output| {
        let mut ids: Vec<String> = stdout(out).split_whitespace().map(String::from).collect();
        ids.sort();
        ids
    };
    let args = ["--noheadings", "-o", "vg_uuid"];
    let ours = disks.rlvm(&both, "rvgs", &args);
    assert_exit(&ours, 0);
    assert_eq!(
        uuids(&ours),
        uuids(&disks.lvm_ok(&both, &[&["vgs"][..], &args].concat()))
    );
    // By UUID, b's VG is changed and a's is not.
    let b_uuid = vg_uuid(&disks, &both, b);
    let out = disks.rlvm(&both, "rlvcreate", &["-an", "-L4M", "-n", "x", &b_uuid]);
    assert_exit(&out, 0);
    let lvs = disks.lvm_ok(&both, &["lvs", "--noheadings", "-o", "vg_uuid,lv_name"]);
    assert_eq!(
        stdout(&lvs).split_whitespace().collect::<Vec<_>>(),
        [b_uuid.as_str(), "x"]
    );
    assert!(disks.heads()[0] == before[0], "a's VG was written");
}

/// Item 2: a PV seen through two loop devices is read through one (the one
/// the metadata names, with lvm2's warnings), a change is refused as lvm2
/// refuses it, and without the twin every PV gets the commit.
#[test]
fn a_pv_seen_twice_is_used_once_and_every_pv_is_committed() {
    if !available() {
        return;
    }
    let mut disks = Disks::new(2);
    let (a, b) = (disks.loops[0].clone(), disks.loops[1].clone());
    lvm2_vg(&disks, "sc2vg", &[&a, &b]);
    let image = disks.images[0].clone();
    let twin = disks.attach(&image);
    // The twin first: a scan that paired by position would take it.
    let all = [twin.as_str(), a.as_str(), b.as_str()];
    let pv_uuid = {
        let out = disks.lvm_ok(&[&a, &b], &["pvs", "--noheadings", "-o", "pv_uuid", &a]);
        stdout(&out).trim().to_string()
    };
    let ours = disks.rlvm(
        &all,
        "rvgs",
        &["--noheadings", "-o", "vg_name,pv_count,lv_count"],
    );
    assert_exit(&ours, 0);
    let theirs = disks.lvm_ok(
        &all,
        &["vgs", "--noheadings", "-o", "vg_name,pv_count,lv_count"],
    );
    assert_eq!(words(&ours), words(&theirs));
    let not_using = format!("Not using device {twin} for PV {pv_uuid}.");
    let prefers = format!("PV {pv_uuid} prefers device {a} because device name matches previous.");
    for line in [&not_using, &prefers] {
        assert!(
            stderr(&theirs).contains(line.as_str()),
            "lvm2: {}",
            stderr(&theirs)
        );
        assert!(
            stderr(&ours).contains(line.as_str()),
            "rlvm: {}",
            stderr(&ours)
        );
    }
    let before = disks.heads();
    let theirs = disks.lvm(
        &all,
        &["lvcreate", "-an", "-Zn", "-L4M", "-n", "x", "sc2vg"],
    );
    let ours = disks.rlvm(&all, "rlvcreate", &["-an", "-L4M", "-n", "x", "sc2vg"]);
    assert_exit(&theirs, 5);
    assert_exit(&ours, 5);
    let refusal = "Cannot update volume group sc2vg with duplicate PV devices.";
    assert!(
        stderr(&theirs).contains(refusal),
        "lvm2: {}",
        stderr(&theirs)
    );
    assert!(stderr(&ours).contains(refusal), "rlvm: {}", stderr(&ours));
    assert!(disks.heads() == before, "a refused command wrote");
    // Without the twin, the PVs listed in reverse order: both are committed.
    let out = disks.rlvm(&[&b, &a], "rlvcreate", &["-an", "-L4M", "-n", "x", "sc2vg"]);
    assert_exit(&out, 0);
    let seqnos = disks.lvm_ok(&[&a, &b], &["pvs", "--noheadings", "-o", "vg_seqno"]);
    assert_eq!(
        stdout(&seqnos).split_whitespace().collect::<Vec<_>>(),
        ["4", "4"]
    );
    let check = disks.lvm_ok(&[&a, &b], &["vgck", "sc2vg"]);
    assert!(!stderr(&check).contains("mismatch"), "{}", stderr(&check));
}

/// Item 3: a device named twice to vgcreate is refused, by both.
#[test]
fn a_device_named_twice_is_refused() {
    if !available() {
        return;
    }
    let disks = Disks::new(1);
    let a = disks.loops[0].as_str();
    disks.lvm_ok(&[a], &["pvcreate", a]);
    let before = disks.heads();
    let theirs = disks.lvm(&[a], &["vgcreate", "sc3vg", a, a]);
    let ours = disks.rlvm(&[a], "rvgcreate", &["sc3vg", a, a]);
    assert_exit(&theirs, 5);
    assert_exit(&ours, 5);
    assert!(
        stderr(&ours).contains("already in volume group"),
        "{}",
        stderr(&ours)
    );
    assert!(disks.heads() == before, "a refused command wrote");
    // The same file by two spellings is one device too.
    let image = disks.images[0].to_str().unwrap().to_string();
    let other = format!("{}/./pv0.img", disks.dir.path().display());
    let out = disks.rlvm(&[&image], "rvgcreate", &["sc3vg", &image, &other]);
    assert_exit(&out, 5);
    assert!(disks.heads() == before, "a refused command wrote");
}

/// Item 4: a segment type lvm2 does not know: both warn in lvm2's words and
/// refuse a change; rlvm keeps its extents out of the free space.
#[test]
fn unknown_segment_types_are_left_alone() {
    if !available() {
        return;
    }
    let disks = Disks::new(1);
    let a = disks.loops[0].as_str();
    lvm2_vg(&disks, "sc4vg", &[a]);
    edit_metadata(a, &|t| {
        t.replacen("type = \"striped\"", "type = \"frob\"", 2)
            .replacen("type = \"frob\"", "type = \"striped\"", 1)
    });
    let before = disks.heads();
    let theirs = disks.lvm(
        &[a],
        &["lvcreate", "-an", "-Zn", "-L4M", "-n", "x", "sc4vg"],
    );
    let ours = disks.rlvm(&[a], "rlvcreate", &["-an", "-L4M", "-n", "x", "sc4vg"]);
    assert_exit(&theirs, 5);
    assert_exit(&ours, 5);
    for line in [
        "WARNING: Unrecognised segment type frob",
        "Cannot change VG sc4vg with unknown segments in it!",
    ] {
        assert!(stderr(&theirs).contains(line), "lvm2: {}", stderr(&theirs));
        assert!(stderr(&ours).contains(line), "rlvm: {}", stderr(&ours));
    }
    assert!(disks.heads() == before, "a refused command wrote");
    // Read by both: the same LVs.
    let args = ["--noheadings", "-o", "lv_name"];
    let ours = disks.rlvm(&[a], "rlvs", &args);
    assert_exit(&ours, 0);
    assert_eq!(
        words(&ours),
        words(&disks.lvm_ok(&[a], &[&["lvs"][..], &args].concat()))
    );
    // The frob LV's 2 extents are not free to rlvm (lvm2 counts them free,
    // then refuses every change): 15 - 2 - 2.
    let free = disks.rlvm(&[a], "rvgs", &["--noheadings", "-o", "vg_free_count"]);
    assert_eq!(stdout(&free).trim(), "11");
}

/// A change to a metadata text.
type Edit = Box<dyn Fn(&str) -> String>;

/// Items 5 and 8: metadata lvm2 rejects (overlapping LVs, a segment beyond
/// its PV, 2^62 extents, more extents than the device, a zero extent size,
/// two LVs of one name, a snapshot of nothing, a gap between segments): lvm2's
/// vgck fails and its lvcreate refuses; rlvm refuses every change and
/// activation, reports the VG as damaged and writes nothing.
#[test]
fn metadata_lvm2_rejects_is_refused() {
    if !available() {
        return;
    }
    let snapshot = "l1 {\nid = \"snapsh-otxx-xxxx-xxxx-xxxx-xxxx-xxxxxx\"\nstatus = [\"READ\"]\nsegment_count = 1\n\nsegment1 {\nstart_extent = 0\nextent_count = 2\n\ntype = \"snapshot\"\nchunk_size = 8\norigin = \"gone\"\ncow_store = \"l0\"\n}\n}\n\nl9 {";
    // Two cases lvm2 2.03 reads: a PV with more extents than its device
    // (lvcreate then allocates past the device's end; VFree exceeds the disk)
    // and a zero extent size (sizes shown as 0; its lvcreate dies of SIGFPE).
    // rlvm refuses both.
    let lvm2_reads = ["pe_count", "extent_size 0"];
    let cases: Vec<(&str, Edit)> = vec![
        (
            "overlap",
            Box::new(|t: &str| t.replacen("\"pv0\", 2", "\"pv0\", 1", 1)),
        ),
        (
            "beyond",
            Box::new(|t: &str| t.replacen("\"pv0\", 2", "\"pv0\", 14", 1)),
        ),
        (
            "2^62 extents",
            Box::new(|t: &str| {
                t.replacen("extent_count = 2", "extent_count = 4611686018427387904", 1)
            }),
        ),
        (
            "pe_count",
            Box::new(|t: &str| t.replacen("pe_count = 15", "pe_count = 100000", 1)),
        ),
        (
            "extent_size 0",
            Box::new(|t: &str| t.replacen("extent_size = 8192", "extent_size = 0", 1)),
        ),
        (
            "same name",
            Box::new(|t: &str| t.replacen("\nl1 {", "\nl0 {", 1)),
        ),
        (
            "snapshot",
            Box::new(move |t: &str| t.replacen("l1 {", snapshot, 1)),
        ),
        (
            "gap",
            Box::new(|t: &str| t.replacen("start_extent = 0", "start_extent = 1", 1)),
        ),
    ];
    for (what, edit) in cases {
        let disks = Disks::new(1);
        let a = disks.loops[0].as_str();
        lvm2_vg(&disks, "sc5vg", &[a]);
        edit_metadata(a, &*edit);
        let before = disks.heads();
        let check = disks.lvm(&[a], &["vgck", "sc5vg"]);
        let lvm2_accepts = lvm2_reads.contains(&what);
        assert_eq!(check.status.success(), lvm2_accepts, "{what}: lvm2 vgck");
        if !lvm2_accepts {
            let theirs = disks.lvm(
                &[a],
                &["lvcreate", "-an", "-Zn", "-L4M", "-n", "x", "sc5vg"],
            );
            assert_exit(&theirs, 5);
        }
        for (program, args) in [
            ("rlvcreate", &["-an", "-L4M", "-n", "x", "sc5vg"][..]),
            ("rvgchange", &["-ay", "sc5vg"][..]),
            ("rlvremove", &["-f", "sc5vg/l0"][..]),
        ] {
            let ours = disks.rlvm_on("userspace", &[a], program, args);
            assert_exit(&ours, 5);
            assert!(
                stderr(&ours).contains("volume group sc5vg is damaged"),
                "{what}: {program}: {}",
                stderr(&ours)
            );
        }
        let ours = disks.rlvm(&[a], "rvgs", &["--noheadings", "-o", "vg_name"]);
        assert!(
            !stdout(&ours).contains("sc5vg"),
            "{what}: {}",
            stdout(&ours)
        );
        assert!(stderr(&ours).contains("Cannot process volume group sc5vg"));
        // Its PV is neither free nor removable.
        let pvs = disks.rlvm(&[a], "rpvs", &["--noheadings", "-o", "pv_name"]);
        assert!(!stdout(&pvs).contains(a), "{what}: {}", stdout(&pvs));
        assert!(disks.heads() == before, "{what}: a refused command wrote");
    }
}

/// Item 6: a PV whose metadata cannot be read is not an orphan: rpvs does not
/// list it as free, rpvremove and rpvcreate refuse it without -ff (lvm2
/// reads no VG there either, and its pvs does not offer it as free).
#[test]
fn a_pv_with_unreadable_metadata_is_not_an_orphan() {
    if !available() {
        return;
    }
    let disks = Disks::new(1);
    let a = disks.loops[0].as_str();
    lvm2_vg(&disks, "sc6vg", &[a]);
    edit_metadata(a, &|t| t.replacen("seqno = 3", "seqno = x3", 1));
    let before = disks.heads();
    let theirs = disks.lvm(&[a], &["pvs", "--noheadings", "-o", "pv_name,vg_name"]);
    let ours = disks.rlvm(&[a], "rpvs", &["--noheadings", "-o", "pv_name,vg_name"]);
    assert_exit(&ours, 0);
    assert!(
        !stdout(&ours).contains(a),
        "rlvm lists it: {}",
        stdout(&ours)
    );
    assert!(
        stderr(&ours).contains("unusable metadata"),
        "{}",
        stderr(&ours)
    );
    // lvm2 does not list it as an orphan PV either.
    assert!(
        !stdout(&theirs)
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == [a]),
        "lvm2: {}",
        stdout(&theirs)
    );
    for (program, args) in [
        ("rpvremove", &[a][..]),
        ("rpvcreate", &[a][..]),
        ("rpvcreate", &["-f", a][..]),
    ] {
        let out = disks.rlvm(&[a], program, args);
        assert_exit(&out, 5);
        assert!(
            stderr(&out).contains("damaged metadata"),
            "{program}: {}",
            stderr(&out)
        );
    }
    assert!(disks.heads() == before, "a refused command wrote");
    let out = disks.rlvm(&[a], "rpvremove", &["-ff", a]);
    assert_exit(&out, 0);
}

/// Item 7: an 8 KiB PV whose area header claims 1 TiB of text: every
/// scanning command finishes with one warning, as lvm2's scan does.
#[test]
fn a_crafted_small_pv_cannot_make_the_scan_allocate() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("tiny.img");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(8192)
        .unwrap();
    {
        let disk = FileDisk::open(&image).unwrap();
        let label = Label {
            sector: 1,
            pv_uuid: "ABCDEFabcdef0123456789ABCDEFabcd".into(),
            device_size: 8192,
            data_areas: vec![rlvm::lvm2::label::DiskLocn {
                offset: 8192,
                size: 0,
            }],
            metadata_areas: vec![rlvm::lvm2::label::DiskLocn {
                offset: 4096,
                size: 4096,
            }],
            extension: None,
        };
        disk.write_all_at(&label.encode().unwrap(), 512).unwrap();
        let header = MdaHeader {
            start: 4096,
            size: 1 << 40,
            committed: Some(rlvm::lvm2::mda::RawLocn {
                offset: 512,
                size: (1 << 40) - 1024,
                checksum: 0,
                flags: 0,
            }),
            precommitted: None,
        };
        disk.write_all_at(&header.encode(), 4096).unwrap();
    }
    let tiny = image.to_str().unwrap();
    for program in ["rpvs", "rvgs", "rlvs"] {
        let out = Command::new(bin(program))
            .env("RLVM_DIR", dir.path().join("state"))
            .env("RLVM_DEVICES", tiny)
            .env("RLVM_BACKEND", "kernel")
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{program}: {err}");
        assert!(
            err.contains("does not fit the 8192-byte device"),
            "{program}: {err}"
        );
    }
    // lvm2 on the same bytes: it reads no VG and does not abort.
    let mut disks = Disks {
        dir,
        images: vec![image.clone()],
        loops: Vec::new(),
    };
    let device = disks.attach(&image);
    let theirs = disks.lvm(&[&device], &["pvs"]);
    assert!(theirs.status.code().is_some(), "lvm2 died: {theirs:?}");
    assert!(!stdout(&theirs).contains("tiny"), "{}", stdout(&theirs));
}

/// Item 8: one damaged metadata area header: the VG is read from its other
/// copy (another PV), by both, with the same report.
#[test]
fn one_bad_header_reads_the_other_copy() {
    if !available() {
        return;
    }
    let disks = Disks::new(2);
    let (a, b) = (disks.loops[0].as_str(), disks.loops[1].as_str());
    lvm2_vg(&disks, "sc8vg", &[a, b]);
    {
        let disk = FileDisk::open(Path::new(a)).unwrap();
        let mut sector = [0u8; 512];
        disk.read_exact_at(&mut sector, 4096).unwrap();
        sector[100] ^= 0xff;
        disk.write_all_at(&sector, 4096).unwrap();
        disk.flush().unwrap();
    }
    let fields = "vg_name,pv_count,lv_count,vg_size,vg_free";
    let ours = disks.rlvm(&[a, b], "rvgs", &["--noheadings", "-o", fields]);
    assert_exit(&ours, 0);
    let theirs = disks.lvm_ok(&[a, b], &["vgs", "--noheadings", "-o", fields]);
    assert_eq!(words(&ours), words(&theirs));
    assert!(
        stderr(&ours).contains(&format!("on {a} at 4096")),
        "{}",
        stderr(&ours)
    );
    let args = ["--noheadings", "-o", "lv_name,lv_size"];
    let ours = disks.rlvm(&[a, b], "rlvs", &args);
    assert_eq!(
        words(&ours),
        words(&disks.lvm_ok(&[a, b], &[&["lvs"][..], &args].concat()))
    );
}
