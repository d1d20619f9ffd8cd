//! rlvm and real lvm2 on the same loop device: each reads what the other
//! wrote, turn after turn. Needs root, losetup and lvm2; skips loudly
//! otherwise unless RLVM_REQUIRE_LVM2=1 (tests/run-all.sh sets it).

use std::path::Path;
use std::process::Command;

use rlvm::io::FileDisk;
use rlvm::lvm2::model::{Lv, Segment, SegmentKind};
use rlvm::lvm2::store::{commit_vg, read_vg, PvDevice};
use serde_json::Value;

fn lvm(args: &[&str]) -> std::process::Output {
    let out = Command::new("lvm")
        .args(args)
        .env("LVM_SUPPRESS_FD_WARNINGS", "1")
        .output()
        .expect("running lvm");
    assert!(
        out.status.success(),
        "lvm {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn report(args: &[&str], kind: &str) -> Vec<Value> {
    let mut full = args.to_vec();
    full.extend([
        "--reportformat",
        "json",
        "--units",
        "b",
        "--nosuffix",
        "--driverloaded",
        "n",
    ]);
    let out = lvm(&full);
    let json: Value = serde_json::from_slice(&out.stdout).expect("lvm JSON");
    json["report"][0][kind]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The loop device and its VG, torn down however the test ends.
struct Loop {
    device: String,
    _image: tempfile::NamedTempFile,
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("lvm")
            .args(["vgremove", "-f", "--driverloaded", "n", "rlvmt"])
            .env("LVM_SUPPRESS_FD_WARNINGS", "1")
            .output();
        let _ = Command::new("losetup").args(["-d", &self.device]).status();
    }
}

fn available() -> bool {
    let root = nix::unistd::geteuid().is_root();
    let lvm = Command::new("lvm")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if root && lvm {
        return true;
    }
    if std::env::var("RLVM_REQUIRE_LVM2").as_deref() == Ok("1") {
        panic!("RLVM_REQUIRE_LVM2=1 but root={root} lvm2={lvm}");
    }
    eprintln!("##### SKIPPED lvm2_real: needs root and lvm2 (root={root}, lvm2={lvm}) #####");
    false
}

fn used_extents(lv: &Lv) -> Option<u64> {
    lv.segments
        .iter()
        .filter_map(|s| match &s.kind {
            SegmentKind::Striped { stripes, .. } => Some(stripes[0].1 + s.extent_count),
            _ => None,
        })
        .max()
}

#[test]
fn rlvm_and_lvm2_take_turns_on_one_vg() {
    if !available() {
        return;
    }
    let image = tempfile::NamedTempFile::new().unwrap();
    image.as_file().set_len(128 << 20).unwrap();
    let out = Command::new("losetup")
        .args(["-f", "--show", image.path().to_str().unwrap()])
        .output()
        .unwrap();
    let device = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let _guard = Loop {
        device: device.clone(),
        _image: image,
    };
    lvm(&["pvcreate", "-q", &device]);
    lvm(&["vgcreate", "-q", "rlvmt", &device]);
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
        "lvm2lv0",
        "rlvmt",
    ]);

    for turn in 0..5 {
        // rlvm reads what lvm2 wrote: the same VG and LVs as lvm2 reports.
        let disk = FileDisk::open(Path::new(&device)).unwrap();
        let mut pvs = vec![PvDevice::open(&disk).unwrap().expect("an LVM2 label")];
        let (mut vg, stale) = read_vg(&pvs).unwrap().expect("a VG");
        assert!(stale.is_empty(), "{stale:?}");
        let fields = "vg_name,vg_uuid,vg_seqno,vg_extent_size,vg_extent_count";
        let lvm2_vg = &report(&["vgs", "-o", fields, "rlvmt"], "vg")[0];
        assert_eq!(lvm2_vg["vg_uuid"], vg.id.as_str());
        assert_eq!(lvm2_vg["vg_seqno"], vg.seqno.to_string().as_str());
        assert_eq!(
            lvm2_vg["vg_extent_size"],
            (vg.extent_size * 512).to_string().as_str()
        );
        assert_eq!(
            lvm2_vg["vg_extent_count"],
            vg.pvs[0].pe_count.to_string().as_str()
        );
        let lvm2_lvs = report(&["lvs", "-o", "lv_name,lv_uuid,lv_size", "rlvmt"], "lv");
        assert_eq!(lvm2_lvs.len(), vg.lvs.len());
        for row in &lvm2_lvs {
            let lv = vg
                .lv(row["lv_name"].as_str().unwrap())
                .expect("rlvm sees every LV");
            assert_eq!(row["lv_uuid"], lv.id.as_str());
            let extents: u64 = lv.segments.iter().map(|s| s.extent_count).sum();
            assert_eq!(
                row["lv_size"],
                (extents * vg.extent_size * 512).to_string().as_str()
            );
        }

        // rlvm adds an LV after the last used extent; lvm2 sees it and vgck is clean.
        let next = vg.lvs.iter().filter_map(used_extents).max().unwrap_or(0);
        let name = format!("rlvmlv{turn}");
        vg.lvs.push(Lv {
            name: name.clone(),
            id: format!("rlvmT{turn}-AAAA-AAAA-AAAA-AAAA-AAAA-AAAAAA"),
            status: vec!["READ".into(), "WRITE".into(), "VISIBLE".into()],
            creation_time: Some(1_795_000_000),
            creation_host: Some("rlvm-test".into()),
            segments: vec![Segment {
                start_extent: 0,
                extent_count: 1,
                kind: SegmentKind::Striped {
                    stripe_size: None,
                    stripes: vec![("pv0".into(), next)],
                },
                extra: vec![],
            }],
            extra: vec![],
        });
        let seqno = vg.seqno;
        commit_vg(&mut pvs, &mut vg).unwrap();
        drop(pvs);
        lvm(&["vgck", "--driverloaded", "n", "rlvmt"]);
        let after = &report(&["vgs", "-o", "vg_seqno", "rlvmt"], "vg")[0];
        assert_eq!(after["vg_seqno"], (seqno + 1).to_string().as_str());
        let names: Vec<String> = report(&["lvs", "-o", "lv_name", "rlvmt"], "lv")
            .iter()
            .map(|r| r["lv_name"].as_str().unwrap().to_string())
            .collect();
        assert!(names.contains(&name), "lvm2 does not see {name}: {names:?}");

        // Then lvm2 changes the VG in its turn, including rlvm's LV.
        let next_name = format!("lvm2lv{}", turn + 1);
        lvm(&[
            "lvcreate",
            "-q",
            "-an",
            "-Zn",
            "--driverloaded",
            "n",
            "-L",
            "4M",
            "-n",
            &next_name,
            "rlvmt",
        ]);
        lvm(&[
            "lvrename",
            "-q",
            "--driverloaded",
            "n",
            "rlvmt",
            &name,
            &format!("{name}r"),
        ]);
    }
}
