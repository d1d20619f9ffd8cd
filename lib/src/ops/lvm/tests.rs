//! The LVM operations on the userspace engine, in-process, over a VG on an
//! image file: device names and UUIDs, content, and the record after each
//! failure.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::*;
use crate::backend::userspace::export::{DeviceSet, OpenDevice};
use crate::backend::userspace::Engine;
use crate::backend::{
    BackendKind, CreateOptions, DeviceInfo, DeviceSummary, SuspendMode, TargetVersion,
};
use crate::dm::RawLine;
use crate::log::{capture, Message};
use crate::ops::volumes::{pv_create, vg_create, PvCreateOptions};

const MIB: u64 = 1 << 20;
/// 1 MiB extents keep the images small.
const EXTENT: u64 = 2048;

static NEXT_VG: AtomicUsize = AtomicUsize::new(0);

/// A VG on one image file and an engine to activate it on.
struct Bed {
    _dir: tempfile::TempDir,
    pv: PathBuf,
    vg: String,
    engine: Engine,
}

impl Bed {
    fn new(size_mib: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let pv = dir.path().join("pv.img");
        std::fs::File::create(&pv)
            .unwrap()
            .set_len(size_mib * MIB)
            .unwrap();
        pv_create(&pv, &PvCreateOptions::default()).unwrap();
        let vg = format!(
            "opstest{}x{}",
            std::process::id(),
            NEXT_VG.fetch_add(1, Ordering::Relaxed)
        );
        vg_create(
            &vg,
            std::slice::from_ref(&pv),
            EXTENT,
            &[],
            std::slice::from_ref(&pv),
        )
        .unwrap();
        let engine = Engine::new(&dir.path().join("mapper"));
        Self {
            _dir: dir,
            pv,
            vg,
            engine,
        }
    }

    fn candidates(&self) -> Vec<PathBuf> {
        vec![self.pv.clone()]
    }

    fn session_on<'b>(&self, backend: &'b dyn Backend) -> Session<'b> {
        Session::open(&self.vg, &self.candidates(), Some(backend), false).unwrap()
    }

    fn session(&self) -> Session<'_> {
        self.session_on(&self.engine)
    }

    fn test_session(&self) -> Session<'_> {
        Session::open(&self.vg, &self.candidates(), Some(&self.engine), true).unwrap()
    }

    fn dm(&self, lv: &str) -> String {
        dm_name(&self.vg, lv, DmLayer::Top).unwrap()
    }

    fn create(&self, name: &str, mib: u64) {
        self.session()
            .create_linear(&LinearRequest {
                name: Some(name.into()),
                size: SizeRequest::Bytes(mib * MIB),
                activate: true,
                prepare: Prepare::default(),
                read_only: false,
            })
            .unwrap();
    }

    fn snapshot(&self, origin: &str, name: &str, mib: u64) -> Result<String> {
        self.session().create_snapshot(&SnapshotRequest {
            origin: origin.into(),
            name: Some(name.into()),
            size: SizeRequest::Bytes(mib * MIB),
            chunk_sectors: DEFAULT_CHUNK,
            read_only: false,
        })
    }

    fn device(&self, lv: &str, writable: bool) -> Arc<dyn OpenDevice> {
        DeviceSet::open(&self.engine, &self.dm(lv), writable).unwrap()
    }

    fn write(&self, lv: &str, offset: u64, data: &[u8]) {
        let dev = self.device(lv, true);
        dev.write_at(data, offset).unwrap();
        dev.flush().unwrap();
    }

    fn read(&self, lv: &str, offset: u64, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        self.device(lv, false).read_at(&mut buf, offset).unwrap();
        buf
    }

    /// Live devices as (name, uuid), sorted.
    fn devices(&self) -> Vec<(String, String)> {
        let mut out: Vec<_> = self
            .engine
            .list()
            .unwrap()
            .into_iter()
            .map(|d| {
                let uuid = self.engine.info(&d.name).unwrap().uuid;
                (d.name, uuid)
            })
            .collect();
        out.sort();
        out
    }

    fn vg(&self) -> Vg {
        OpenVg::open_read(&self.vg, &self.candidates()).unwrap().vg
    }

    fn uuid(&self, lv: &str, layer: DmLayer) -> String {
        let vg = self.vg();
        dm_uuid(&vg.id, &vg.lv(lv).unwrap().id, layer)
    }

    fn top_target(&self, lv: &str) -> String {
        self.engine
            .table(&self.dm(lv), TableSlot::Live)
            .unwrap()
            .first()
            .map(|l| l.target_type.clone())
            .unwrap_or_default()
    }

    fn checksum(&self) -> Vec<u8> {
        std::fs::read(&self.pv).unwrap()
    }

    fn wait_merge(&self, origin: &str) -> Option<String> {
        self.session()
            .finish_merge(origin, Duration::from_millis(20), |_| {})
            .unwrap()
    }
}

fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(7) ^ seed).collect()
}

#[test]
fn rename_renames_every_layer_and_remove_finds_them_by_uuid() {
    let bed = Bed::new(64);
    bed.create("org", 8);
    bed.snapshot("org", "snap", 4).unwrap();
    bed.session().rename("org", "org2").unwrap();
    let want = vec![
        (bed.dm("org2"), bed.uuid("org2", DmLayer::Top)),
        (
            dm_name(&bed.vg, "org2", DmLayer::Real).unwrap(),
            bed.uuid("org2", DmLayer::Real),
        ),
        (bed.dm("snap"), bed.uuid("snap", DmLayer::Top)),
        (
            dm_name(&bed.vg, "snap", DmLayer::Cow).unwrap(),
            bed.uuid("snap", DmLayer::Cow),
        ),
    ];
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(bed.devices(), want_sorted);
    bed.session().rename("snap", "snap2").unwrap();
    assert!(bed
        .devices()
        .iter()
        .any(|(n, _)| n == &dm_name(&bed.vg, "snap2", DmLayer::Cow).unwrap()));
    bed.session().remove("snap2", true, &mut |_| true).unwrap();
    assert_eq!(bed.devices(), vec![want[0].clone()]);
    bed.session().remove("org2", true, &mut |_| true).unwrap();
    assert!(bed.devices().is_empty());
}

#[test]
fn a_failed_device_rename_takes_the_record_back() {
    let bed = Bed::new(64);
    bed.create("org", 8);
    bed.snapshot("org", "snap", 4).unwrap();
    let faulty = Faulty::new(&bed.engine, "rename", "-real");
    let error = bed.session_on(&faulty).rename("org", "org2").unwrap_err();
    assert!(matches!(error, LvmError::Reverted { .. }), "{error:?}");
    assert!(bed.vg().lv("org").is_some() && bed.vg().lv("org2").is_none());
    let names: Vec<String> = bed.devices().into_iter().map(|d| d.0).collect();
    assert!(names.contains(&bed.dm("org")), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("org2")), "{names:?}");
    assert!(!bed.engine.info(&bed.dm("org")).unwrap().suspended);
    // The VG activates again: no name or UUID is left taken.
    bed.session().deactivate("org").unwrap();
    bed.session().activate("org").unwrap();
}

#[test]
fn a_failed_activation_after_the_commit_takes_the_record_back() {
    let bed = Bed::new(64);
    let faulty = Faulty::new(&bed.engine, "resume", "");
    let seqno = bed.vg().seqno;
    let error = bed
        .session_on(&faulty)
        .create_linear(&LinearRequest {
            name: Some("x".into()),
            size: SizeRequest::Extents(4),
            activate: true,
            prepare: Prepare::default(),
            read_only: false,
        })
        .unwrap_err();
    assert!(matches!(error, LvmError::Reverted { .. }), "{error:?}");
    let vg = bed.vg();
    assert!(vg.lv("x").is_none());
    assert_eq!(vg.seqno, seqno + 2);
    assert!(bed.devices().is_empty());

    bed.create("o", 4);
    let faulty = Faulty::new(&bed.engine, "resume", "");
    let error = bed.session_on(&faulty).extend("o", 2).unwrap_err();
    assert!(matches!(error, LvmError::Reverted { .. }), "{error:?}");
    assert_eq!(lv_extents(bed.vg().lv("o").unwrap()), 4);
}

#[test]
fn a_failed_snapshot_build_takes_the_record_back() {
    let bed = Bed::new(64);
    bed.create("o", 4);
    let faulty = Faulty::new(&bed.engine, "create", "-cow");
    let error = bed
        .session_on(&faulty)
        .create_snapshot(&SnapshotRequest {
            origin: "o".into(),
            name: Some("s".into()),
            size: SizeRequest::Extents(2),
            chunk_sectors: DEFAULT_CHUNK,
            read_only: false,
        })
        .unwrap_err();
    assert!(matches!(error, LvmError::Reverted { .. }), "{error:?}");
    assert!(bed.vg().lv("s").is_none());
    assert_eq!(bed.top_target("o"), "linear");
}

#[test]
fn a_deferred_merge_starts_only_where_the_origin_is_not_open() {
    let bed = Bed::new(64);
    bed.create("o", 4);
    bed.write("o", 0, &pattern(1, 8192));
    bed.snapshot("o", "s", 4).unwrap();
    bed.write("o", 0, &pattern(2, 8192));
    let held = bed.device("o", false);
    assert_eq!(bed.session().merge("s").unwrap(), MergeStart::DelayedOpen);
    let (merging, messages) = capture(|| bed.session().activate("o").unwrap());
    assert!(!merging);
    assert_eq!(
        messages,
        vec![Message::Print(
            "Delaying merge since origin is open.".into()
        )]
    );
    assert_eq!(bed.top_target("o"), "snapshot-origin");
    drop(held);
    assert!(bed.session().activate("o").unwrap());
    assert_eq!(bed.wait_merge("o").as_deref(), Some("s"));
    assert_eq!(bed.read("o", 0, 8192), pattern(1, 8192));
    assert!(bed.vg().lv("s").is_none());
}

#[test]
fn a_second_merge_into_one_origin_is_refused() {
    let bed = Bed::new(64);
    bed.create("o", 4);
    bed.snapshot("o", "sa", 4).unwrap();
    bed.snapshot("o", "sb", 4).unwrap();
    bed.session().deactivate("o").unwrap();
    assert_eq!(bed.session().merge("sa").unwrap(), MergeStart::Deferred);
    let error = bed.session().merge("sb").unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "Cannot merge snapshot \"{0}/sb\" into the origin \"{0}/o\" with merging snapshot \"{0}/sa\".",
            bed.vg
        )
    );
    // A snapshot whose merge is pending is not removed, even with -f.
    let error = bed.session().remove("sa", true, &mut |_| true).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Can't remove merging snapshot logical volume \"sa\"."
    );
}

#[test]
fn merging_one_of_two_snapshots_keeps_the_other_one_whole() {
    let bed = Bed::new(64);
    bed.create("o", 4);
    bed.write("o", 0, &pattern(1, 16384));
    bed.snapshot("o", "s1", 4).unwrap();
    bed.write("o", 0, &pattern(2, 16384));
    bed.snapshot("o", "s2", 4).unwrap();
    assert_eq!(bed.session().merge("s1").unwrap(), MergeStart::Started);
    assert_eq!(bed.wait_merge("o").as_deref(), Some("s1"));
    assert_eq!(bed.top_target("o"), "snapshot-origin");
    assert_eq!(bed.read("o", 0, 16384), pattern(1, 16384));
    // s2 was taken when the origin held pattern 2, and still shows it after more writes.
    assert_eq!(bed.read("s2", 0, 16384), pattern(2, 16384));
    bed.write("o", 0, &pattern(3, 16384));
    assert_eq!(bed.read("s2", 0, 16384), pattern(2, 16384));
    assert_eq!(bed.read("o", 0, 16384), pattern(3, 16384));
}

#[test]
fn a_snapshot_of_an_inactive_origin_starts_with_an_empty_cow() {
    let bed = Bed::new(64);
    bed.create("o", 4);
    bed.write("o", 0, &pattern(1, 4 * MIB as usize));
    bed.snapshot("o", "s1", 2).unwrap();
    bed.write("o", 0, &pattern(2, 4 * MIB as usize));
    bed.session().remove("s1", true, &mut |_| true).unwrap();
    bed.session().deactivate("o").unwrap();
    bed.snapshot("o", "s2", 2).unwrap();
    bed.session().activate("o").unwrap();
    assert_eq!(bed.read("s2", 0, 8192), pattern(2, 8192));
    let status: SnapshotStatus = bed.engine.status(&bed.dm("s2")).unwrap()[0]
        .params
        .parse()
        .unwrap();
    let SnapshotStatus::Usage {
        allocated_sectors,
        metadata_sectors,
        ..
    } = status
    else {
        panic!("{status:?}");
    };
    assert_eq!(allocated_sectors, metadata_sectors);
}

#[test]
fn a_new_lv_is_wiped_and_zeroed_as_lvm2_does() {
    let bed = Bed::new(64);
    bed.create("old", 4);
    bed.write("old", 0, b"SnAp");
    bed.write("old", 4096, b"data past the first 4 KiB");
    bed.session().remove("old", true, &mut |_| true).unwrap();
    let (name, messages) = capture(|| {
        bed.session()
            .create_linear(&LinearRequest {
                name: Some("new".into()),
                size: SizeRequest::Extents(4),
                activate: true,
                prepare: Prepare::default(),
                read_only: false,
            })
            .unwrap()
    });
    assert_eq!(name, "new");
    assert_eq!(
        messages,
        vec![
            Message::Print(format!(
                "Wiping DM_snapshot_cow signature on /dev/{}/new.",
                bed.vg
            )),
            Message::Print("Logical volume \"new\" created.".into()),
        ]
    );
    assert_eq!(bed.read("new", 0, 4096), vec![0u8; 4096]);
    let ((), messages) = capture(|| {
        bed.session()
            .create_linear(&LinearRequest {
                name: Some("raw".into()),
                size: SizeRequest::Extents(1),
                activate: false,
                prepare: Prepare {
                    zero: false,
                    wipe: false,
                },
                read_only: false,
            })
            .map(|_| ())
            .unwrap()
    });
    assert_eq!(
        messages[0],
        Message::Warning(format!("Logical volume {}/raw not zeroed.", bed.vg))
    );
}

#[test]
fn lvm2_messages_for_missing_and_existing_lvs() {
    let bed = Bed::new(64);
    bed.create("a", 1);
    let vg = &bed.vg;
    let missing = bed.session().deactivate("nosuch").unwrap_err();
    assert_eq!(
        missing.to_string(),
        format!("Failed to find logical volume \"{vg}/nosuch\"")
    );
    assert!(!missing.is_usage());
    assert!(bed.session().activate("nosuch").is_err());
    assert!(bed.session().remove("nosuch", true, &mut |_| true).is_err());
    let request = |name: &str, size| LinearRequest {
        name: Some(name.into()),
        size,
        activate: false,
        prepare: Prepare::default(),
        read_only: false,
    };
    let exists = bed
        .session()
        .create_linear(&request("a", SizeRequest::Extents(1)))
        .unwrap_err();
    assert_eq!(
        exists.to_string(),
        format!("Logical Volume \"a\" already exists in volume group \"{vg}\"")
    );
    for (name, size, message) in [
        (
            "b",
            SizeRequest::Extents(0),
            "--extents may not be zero.".to_string(),
        ),
        (
            "snapshot1",
            SizeRequest::Extents(1),
            "Names starting \"snapshot\" are reserved. Please choose a different LV name."
                .to_string(),
        ),
        (
            "bad/name",
            SizeRequest::Extents(1),
            format!("Inconsistent volume group names given: \"bad\" and \"{vg}\""),
        ),
    ] {
        let error = bed
            .session()
            .create_linear(&request(name, size))
            .unwrap_err();
        assert!(error.is_usage(), "{error:?}");
        assert_eq!(error.to_string(), message);
    }
}

#[test]
fn size_arithmetic_follows_lvm2() {
    // 64 MiB less the 1 MiB data offset: 63 extents of 1 MiB.
    let bed = Bed::new(64);
    let vg = bed.vg();
    assert_eq!(vg.pvs[0].pe_count, 63);
    let (extents, messages) =
        capture(|| extents_for(&vg, SizeRequest::Bytes(MIB + 512), None).unwrap());
    assert_eq!(extents, 2);
    assert_eq!(
        messages,
        vec![Message::Print(
            "Rounding up size to full physical extent 2.00 MiB".into()
        )]
    );
    // 10% of 63 free extents rounds down to 6.
    assert_eq!(
        extents_for(&vg, SizeRequest::Percent(10, PercentOf::Free), None).unwrap(),
        6
    );
    bed.create("a", 40);
    let vg = bed.vg();
    let (extents, messages) =
        capture(|| extents_for(&vg, SizeRequest::Percent(50, PercentOf::Vg), None).unwrap());
    assert_eq!(extents, 23);
    assert_eq!(
        messages,
        vec![Message::Print(
            "Reducing 50%VG to remaining free space 23.00 MiB in VG.".into()
        )]
    );
    // 100%ORIGIN holds the whole origin and the exception store's metadata.
    let origin = extents_for(
        &vg,
        SizeRequest::Percent(100, PercentOf::Origin),
        Some((8, 8)),
    )
    .unwrap();
    assert_eq!(
        origin,
        crate::ops::snapshots::cow_max_sectors(8 * EXTENT, 8).div_ceil(EXTENT)
    );
    assert!(origin > 8);
}

#[test]
fn removing_an_active_lv_asks_and_an_open_one_is_refused() {
    let bed = Bed::new(64);
    bed.create("a", 1);
    let mut asked = Vec::new();
    let error = bed
        .session()
        .remove("a", false, &mut |q| {
            asked.push(q.to_string());
            false
        })
        .unwrap_err();
    assert_eq!(
        asked,
        vec![format!(
            "Do you really want to remove active logical volume {}/a? [y/n]: ",
            bed.vg
        )]
    );
    assert_eq!(
        error.to_string(),
        format!("Logical volume {}/a not removed.", bed.vg)
    );
    let held = bed.device("a", false);
    let error = bed.session().remove("a", true, &mut |_| true).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("Logical volume {}/a in use.", bed.vg)
    );
    drop(held);
    bed.session().remove("a", false, &mut |_| true).unwrap();
    assert!(bed.vg().lv("a").is_none());
    assert!(bed.devices().is_empty());
}

#[test]
fn removing_a_vg_takes_down_origin_and_snapshot() {
    let bed = Bed::new(64);
    bed.create("o", 4);
    bed.snapshot("o", "s", 2).unwrap();
    bed.create("plain", 1);
    assert_eq!(bed.devices().len(), 5);
    bed.session().remove_vg().unwrap();
    assert!(bed.devices().is_empty());
    assert!(OpenVg::open_read(&bed.vg, &bed.candidates()).is_err());
}

#[test]
fn test_mode_writes_nothing_and_touches_no_device() {
    let bed = Bed::new(32);
    bed.create("o", 2);
    bed.snapshot("o", "s", 1).unwrap();
    bed.session().deactivate("o").unwrap();
    let disk = bed.checksum();
    let devices = bed.devices();
    let mut session = bed.test_session();
    session
        .create_linear(&LinearRequest {
            name: Some("t".into()),
            size: SizeRequest::Extents(2),
            activate: true,
            prepare: Prepare::default(),
            read_only: false,
        })
        .unwrap();
    // Later steps of one command see the test change.
    assert!(session.vg().lv("t").is_some());
    session.rename("t", "t2").unwrap();
    session.activate("o").unwrap();
    session.merge("s").unwrap();
    session.remove("t2", true, &mut |_| true).unwrap();
    session.extend("o", 1).unwrap();
    drop(session);
    bed.test_session().remove_vg().unwrap();
    assert!(bed.checksum() == disk, "the PV changed in test mode");
    assert_eq!(bed.devices(), devices);
}

#[test]
fn an_error_names_its_cause_once() {
    let error = LvmError::Volume(VolumeError::Device {
        path: "/dev/x".into(),
        source: std::io::Error::from_raw_os_error(1),
    });
    let text = chain(&error);
    assert_eq!(text.matches("Operation not permitted").count(), 1, "{text}");
    let backend = BackendError::Io {
        context: "zeroing".into(),
        source: std::io::Error::from_raw_os_error(1),
    };
    let ops = OpsError::Step {
        step: "vg-x: load".into(),
        source: backend,
    };
    let text = chain(&ops);
    assert_eq!(text.matches("Operation not permitted").count(), 1, "{text}");
    assert_eq!(text.matches("zeroing").count(), 1, "{text}");
}

#[test]
fn autoextend_grows_a_cow_once_in_the_library() {
    let bed = Bed::new(64);
    bed.create("o", 8);
    bed.snapshot("o", "s", 4).unwrap();
    let grown = bed.session().autoextend("s", 50).unwrap();
    assert_eq!(grown, Autoextend::Grown { from: 4, to: 6 });
    let cow = dm_name(&bed.vg, "s", DmLayer::Cow).unwrap();
    let length: u64 = bed
        .engine
        .table(&cow, TableSlot::Live)
        .unwrap()
        .iter()
        .map(|l| l.length)
        .sum();
    assert_eq!(length, 6 * EXTENT);
    assert!(matches!(
        bed.session().autoextend("o", 50),
        Err(LvmError::Refused(_))
    ));
}

#[test]
fn a_cow_is_never_reduced_below_what_its_exceptions_use() {
    let bed = Bed::new(64);
    bed.create("o", 8);
    bed.snapshot("o", "s", 4).unwrap();
    bed.write("o", 0, &pattern(1, 2 * MIB as usize + 4096));
    let error = bed
        .session()
        .reduce("s", 1, true, &mut |_| true)
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("Cannot reduce snapshot {}/s to 1.00 MiB", bed.vg)),
        "{error}"
    );
    assert_eq!(lv_extents(bed.vg().lv("s").unwrap()), 4);
    bed.session().reduce("s", 3, true, &mut |_| true).unwrap();
    assert_eq!(lv_extents(bed.vg().lv("s").unwrap()), 3);
    // A linear LV is reduced only once confirmed.
    bed.create("l", 4);
    assert!(bed.session().reduce("l", 2, false, &mut |_| false).is_err());
    bed.session().reduce("l", 2, false, &mut |_| true).unwrap();
    assert_eq!(lv_extents(bed.vg().lv("l").unwrap()), 2);
    assert_eq!(bed.device("l", false).size_bytes(), 2 * MIB);
}

#[test]
fn a_sparse_snapshot_lives_over_a_zero_origin() {
    let bed = Bed::new(64);
    let name = bed
        .session()
        .create_sparse(&SparseRequest {
            name: Some("sparse".into()),
            virtual_bytes: 1 << 30,
            size: SizeRequest::Bytes(4 * MIB),
            chunk_sectors: DEFAULT_CHUNK,
            activate: true,
        })
        .unwrap();
    assert_eq!(name, "sparse");
    let vg = bed.vg();
    let vorigin = vg.lv("sparse_vorigin").unwrap();
    assert!(matches!(&vorigin.segments[0].kind, SegmentKind::Other(k) if k == "zero"));
    assert_eq!(lv_extents(vorigin), 1024);
    assert!(crate::ops::snapshots::lv_is_visible(&vg, "sparse"));
    assert!(!crate::ops::snapshots::lv_is_visible(&vg, "sparse_vorigin"));
    let dev = bed.device("sparse", true);
    assert_eq!(dev.size_bytes(), 1 << 30);
    drop(dev);
    assert_eq!(bed.read("sparse", 512 * MIB, 4096), vec![0u8; 4096]);
    bed.write("sparse", 512 * MIB, &pattern(5, 8192));
    assert_eq!(bed.read("sparse", 512 * MIB, 8192), pattern(5, 8192));
    assert!(matches!(
        bed.session().merge("sparse"),
        Err(LvmError::Refused(_))
    ));
    bed.session().deactivate("sparse").unwrap();
    bed.session().activate("sparse").unwrap();
    assert_eq!(bed.read("sparse", 512 * MIB, 8192), pattern(5, 8192));
    bed.session().remove("sparse", true, &mut |_| true).unwrap();
    assert!(bed.devices().is_empty());
    assert!(bed.vg().lvs.is_empty());
}

/// A backend over the engine whose first `op` call on a device whose name
/// contains `needle` fails (and every one after it, until the test ends).
struct Faulty<'e> {
    inner: &'e Engine,
    op: &'static str,
    needle: &'static str,
    armed: Mutex<bool>,
}

impl<'e> Faulty<'e> {
    fn new(inner: &'e Engine, op: &'static str, needle: &'static str) -> Self {
        Self {
            inner,
            op,
            needle,
            armed: Mutex::new(true),
        }
    }

    fn check(&self, op: &str, name: &str) -> crate::backend::Result<()> {
        let mut armed = self.armed.lock().unwrap();
        if *armed && op == self.op && name.contains(self.needle) {
            *armed = false;
            return Err(BackendError::InvalidState {
                name: name.to_string(),
                reason: "injected failure".into(),
            });
        }
        Ok(())
    }
}

impl Backend for Faulty<'_> {
    fn kind(&self) -> BackendKind {
        self.inner.kind()
    }
    fn driver_version(&self) -> crate::backend::Result<[u32; 3]> {
        self.inner.driver_version()
    }
    fn target_versions(&self) -> crate::backend::Result<Vec<TargetVersion>> {
        self.inner.target_versions()
    }
    fn create(&self, name: &str, options: &CreateOptions) -> crate::backend::Result<DeviceInfo> {
        self.check("create", name)?;
        self.inner.create(name, options)
    }
    fn load(&self, name: &str, table: &[RawLine]) -> crate::backend::Result<()> {
        self.check("load", name)?;
        self.inner.load(name, table)
    }
    fn clear(&self, name: &str) -> crate::backend::Result<()> {
        self.inner.clear(name)
    }
    fn suspend(&self, name: &str, mode: SuspendMode) -> crate::backend::Result<()> {
        self.check("suspend", name)?;
        self.inner.suspend(name, mode)
    }
    fn resume(&self, name: &str) -> crate::backend::Result<DeviceInfo> {
        self.check("resume", name)?;
        self.inner.resume(name)
    }
    fn remove(&self, name: &str) -> crate::backend::Result<()> {
        self.check("remove", name)?;
        self.inner.remove(name)
    }
    fn rename(&self, name: &str, new_name: &str) -> crate::backend::Result<()> {
        self.check("rename", name)?;
        self.inner.rename(name, new_name)
    }
    fn list(&self) -> crate::backend::Result<Vec<DeviceSummary>> {
        self.inner.list()
    }
    fn info(&self, name: &str) -> crate::backend::Result<DeviceInfo> {
        self.inner.info(name)
    }
    fn table(&self, name: &str, slot: TableSlot) -> crate::backend::Result<Vec<RawLine>> {
        self.inner.table(name, slot)
    }
    fn status(&self, name: &str) -> crate::backend::Result<Vec<RawLine>> {
        self.inner.status(name)
    }
    fn deps(&self, name: &str) -> crate::backend::Result<Vec<(u32, u32)>> {
        self.inner.deps(name)
    }
    fn message(
        &self,
        name: &str,
        sector: u64,
        message: &str,
    ) -> crate::backend::Result<Option<String>> {
        self.inner.message(name, sector, message)
    }
    fn wait_event(
        &self,
        name: &str,
        event_nr: u32,
        timeout: Option<Duration>,
    ) -> crate::backend::Result<Option<DeviceInfo>> {
        self.inner.wait_event(name, event_nr, timeout)
    }
    fn node_path(&self, name: &str) -> PathBuf {
        self.inner.node_path(name)
    }
    fn mknodes(&self) -> crate::backend::Result<()> {
        self.inner.mknodes()
    }
}

mod lvm2_words;
mod property;

#[test]
fn vgchange_counts_each_active_snapshot_as_lvm2_does() {
    let bed = Bed::new(64);
    bed.create("o", 4);
    bed.create("plain", 4);
    bed.snapshot("o", "s1", 2).unwrap();
    bed.snapshot("o", "s2", 2).unwrap();
    // o, plain, s1 and s2: a snapshot's visible record has no device of
    // its own, its COW LV's `vg-s1` device stands for it.
    assert_eq!(bed.session().active_count().unwrap(), 4);
    bed.session().deactivate("o").unwrap();
    assert_eq!(bed.session().active_count().unwrap(), 1);
}
