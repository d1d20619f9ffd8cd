//! What the differential suite cannot see with lvm2's `--driverloaded n`:
//! the displays and reports of active volumes, on the embedded engine. An
//! active snapshot with copied chunks shows lvm2's "LV Status",
//! "Allocated to snapshot" (equal to `rlvs`'s Data%), "active destination
//! for" and "source of ... [active]"; lvscan says ACTIVE.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;

use crate::support::StateDir;

#[test]
fn displays_of_an_active_snapshot() {
    let state = StateDir::new();
    let pv = state.scratch().join("pv0.img");
    std::fs::File::create(&pv)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    let pv = pv.to_str().unwrap();
    state.ok("rpvcreate", &[pv]);
    state.ok("rvgcreate", &["vg", pv]);
    state.ok("rlvcreate", &["-L", "8M", "-n", "base", "vg"]);
    state.ok("rlvcreate", &["-L", "4M", "-s", "-n", "snap", "vg/base"]);
    // 256 KiB through the origin: 64 chunks of 4 KiB copied to the COW.
    let origin = OpenOptions::new()
        .write(true)
        .open(state.mapper("vg-base"))
        .unwrap();
    origin.write_all_at(&vec![0x5a; 256 << 10], 0).unwrap();
    origin.sync_data().unwrap();
    drop(origin);

    let percent = state.ok("rlvs", &["--noheadings", "-o", "data_percent", "vg/snap"]);
    let percent = percent.trim();
    let value: f64 = percent
        .parse()
        .unwrap_or_else(|_| panic!("Data% {percent:?}"));
    assert!(value > 6.0 && value < 7.5, "Data% {percent}");

    let snap = state.ok("rlvdisplay", &["vg/snap"]);
    for line in [
        "  LV snapshot status     active destination for base\n",
        "  LV Status              available\n",
        "  # open                 0\n",
        "  LV Size                8.00 MiB\n",
        "  Current LE             2\n",
        "  COW-table size         4.00 MiB\n",
        "  COW-table LE           1\n",
        &format!("  Allocated to snapshot  {percent}%\n"),
        "  Snapshot chunk size    4.00 KiB\n",
    ] {
        assert!(snap.contains(line), "{line:?} not in:\n{snap}");
    }
    assert!(snap.contains("  Block device           "), "{snap}");
    let base = state.ok("rlvdisplay", &["vg/base"]);
    assert!(
        base.contains(
            "  LV snapshot status     source of\n                         snap [active]\n"
        ),
        "{base}"
    );
    let scan = state.ok("rlvscan", &[]);
    // On the engine an LV's path is its $RLVM_DIR/VG/LV link, which exists
    // (lvm2's /dev/VG/LV does not here).
    let link = |lv: &str| state.path().join("vg").join(lv);
    assert!(link("snap").exists() && link("base").exists());
    assert!(
        scan.contains(&format!(
            "  ACTIVE   Snapshot '{}' [4.00 MiB] inherit\n",
            link("snap").display()
        )) && scan.contains(&format!(
            "  ACTIVE   Original '{}' [8.00 MiB] inherit\n",
            link("base").display()
        )),
        "{scan}"
    );
    let fields = state.ok(
        "rlvs",
        &[
            "--noheadings",
            "--separator",
            ":",
            "-o",
            "lv_name,lv_active,lv_permissions,lv_live_table,lv_snapshot_invalid",
            "vg",
        ],
    );
    // SnapInvalid is lvm2's "unknown" for anything but an active snapshot
    // (the origin included), as real lvm2 prints it in 33-diff-active.
    assert_eq!(
        fields,
        "  base:active:writeable:live table present:unknown\n  snap:active:writeable:live table present:\n"
    );
    let colon = state.ok("rlvdisplay", &["-c", "vg/snap"]);
    assert!(
        colon.starts_with(&format!(
            "  {}:vg:3:1:-1:0:8192:1:-1:0:-1:",
            link("snap").display()
        )),
        "{colon}"
    );
}
