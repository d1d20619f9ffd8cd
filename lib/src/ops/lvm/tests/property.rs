//! Random sequences of the whole operation set on the engine. After each
//! step: the live devices are exactly the stacks the metadata says are
//! active (under the names their UUIDs call for), no two stacks map
//! overlapping PV space, and every active snapshot reads its origin as it
//! was when the snapshot was taken.

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;

use super::*;
use crate::ops::lvm::wipe::LvRegion;

/// How much of each LV the content check reads.
const SPAN: usize = 64 * 1024;

#[derive(Debug, Clone)]
enum Step {
    Create(u8, u8),
    Snapshot(u8, u8),
    Rename(u8, u8),
    Extend(u8),
    Remove(u8),
    Merge(u8),
    Deactivate(u8),
    Activate(u8),
    Write(u8, u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (any::<u8>(), 1u8..4).prop_map(|(n, s)| Step::Create(n, s)),
        (any::<u8>(), any::<u8>()).prop_map(|(o, n)| Step::Snapshot(o, n)),
        (any::<u8>(), any::<u8>()).prop_map(|(o, n)| Step::Rename(o, n)),
        any::<u8>().prop_map(Step::Extend),
        any::<u8>().prop_map(Step::Remove),
        any::<u8>().prop_map(Step::Merge),
        any::<u8>().prop_map(Step::Deactivate),
        any::<u8>().prop_map(Step::Activate),
        (any::<u8>(), any::<u8>()).prop_map(|(l, s)| Step::Write(l, s)),
    ]
}

/// The LVs a step can name: visible LVs (origins, plain LVs, snapshots).
fn pick(vg: &Vg, index: u8) -> Option<String> {
    let names: Vec<String> = vg
        .lvs
        .iter()
        .filter(|lv| {
            !lv.segments
                .iter()
                .any(|s| matches!(s.kind, SegmentKind::Snapshot { .. }))
        })
        .map(|lv| lv.name.clone())
        .collect();
    if names.is_empty() {
        return None;
    }
    Some(names[index as usize % names.len()].clone())
}

fn origin_content(bed: &Bed, name: &str) -> Vec<u8> {
    let open = OpenVg::open_read(&bed.vg, &bed.candidates()).unwrap();
    let lv = open.vg.lv(name).unwrap().clone();
    let region = LvRegion::of(&open, &lv).unwrap();
    let mut buf = vec![0u8; SPAN.min(region.size() as usize)];
    region.read(0, &mut buf).unwrap();
    buf
}

fn apply(bed: &Bed, step: &Step, taken: &mut HashMap<String, Vec<u8>>) {
    let vg = bed.vg();
    let lv_id = |name: &str| vg.lv(name).map(|l| l.id.clone());
    match step {
        Step::Create(n, size) => {
            let _ = bed.session().create_linear(&LinearRequest {
                name: Some(format!("lv{}", n % 6)),
                size: SizeRequest::Extents(u64::from(*size)),
                activate: true,
                prepare: Prepare::default(),
                read_only: false,
            });
        }
        Step::Snapshot(o, n) => {
            let Some(origin) = pick(&vg, *o) else { return };
            let content = origin_content(bed, &origin);
            let created = bed.session().create_snapshot(&SnapshotRequest {
                origin,
                name: Some(format!("sn{}", n % 6)),
                size: SizeRequest::Extents(1),
                chunk_sectors: DEFAULT_CHUNK,
                read_only: false,
            });
            if let Ok(name) = created {
                taken.insert(bed.vg().lv(&name).unwrap().id.clone(), content);
            }
        }
        Step::Rename(o, n) => {
            let Some(old) = pick(&vg, *o) else { return };
            let _ = bed.session().rename(&old, &format!("rn{}", n % 6));
        }
        Step::Extend(o) => {
            let Some(name) = pick(&vg, *o) else { return };
            let _ = bed.session().extend(&name, 1);
        }
        Step::Remove(o) => {
            let Some(name) = pick(&vg, *o) else { return };
            let _ = bed.session().remove(&name, true, &mut |_| true);
        }
        Step::Merge(o) => {
            let Some(snap) = pick(&vg, *o) else { return };
            let Some((origin, ..)) = snapshot_of(&vg, &snap) else {
                return;
            };
            let id = lv_id(&snap).unwrap();
            let started = bed.session().merge(&snap);
            if let Ok(MergeStart::Started | MergeStart::Running) = started {
                assert_eq!(bed.wait_merge(&origin).as_deref(), Some(snap.as_str()));
                let want = taken.remove(&id).unwrap();
                let now = origin_content(bed, &origin);
                assert_eq!(
                    now[..want.len().min(now.len())],
                    want[..want.len().min(now.len())]
                );
            }
        }
        Step::Deactivate(o) => {
            let Some(name) = pick(&vg, *o) else { return };
            let _ = bed.session().deactivate(&name);
        }
        Step::Activate(o) => {
            let Some(name) = pick(&vg, *o) else { return };
            let stack = snapshot_of(&vg, &name).map_or(name.clone(), |s| s.0);
            let merging = bed.session().activate(&name);
            if let Ok(true) = merging {
                let snap = crate::ops::snapshots::merging_snapshot(&vg, &stack).unwrap();
                let id = lv_id(&snap).unwrap();
                assert_eq!(bed.wait_merge(&stack).as_deref(), Some(snap.as_str()));
                let want = taken.remove(&id).unwrap();
                let now = origin_content(bed, &stack);
                assert_eq!(
                    now[..want.len().min(now.len())],
                    want[..want.len().min(now.len())]
                );
            }
        }
        Step::Write(o, seed) => {
            let Some(name) = pick(&vg, *o) else { return };
            if snapshot_of(&vg, &name).is_some() || bed.engine.info(&bed.dm(&name)).is_err() {
                return;
            }
            if bed.top_target(&name) == "snapshot-merge" {
                return;
            }
            bed.write(&name, 4096 * u64::from(seed % 8), &pattern(*seed, 8192));
        }
    }
    // Ignore merged snapshots whose records are gone.
    let vg = bed.vg();
    taken.retain(|id, _| vg.lvs.iter().any(|l| &l.id == id));
}

fn check(bed: &Bed, taken: &HashMap<String, Vec<u8>>) {
    let vg = bed.vg();
    // 1. Live devices == the stacks the metadata says are active, by name and UUID.
    let live: BTreeSet<(String, String)> = bed.devices().into_iter().collect();
    let mut want = BTreeSet::new();
    let mut stack_of_device: HashMap<String, String> = HashMap::new();
    let session = bed.session();
    for stack in session.stacks() {
        let top = dm_name(&vg.name, &stack, DmLayer::Top).unwrap();
        if !live.iter().any(|(n, _)| n == &top) {
            continue;
        }
        let id = &vg.lv(&stack).unwrap().id;
        let mut add = |lv: &str, lv_id: &str, layer| {
            let name = dm_name(&vg.name, lv, layer).unwrap();
            stack_of_device.insert(name.clone(), stack.clone());
            want.insert((name, dm_uuid(&vg.id, lv_id, layer)));
        };
        add(&stack, id, DmLayer::Top);
        let snapshots = snapshots_of(&vg, &stack);
        if !snapshots.is_empty() {
            add(&stack, id, DmLayer::Real);
        }
        for snap in snapshots {
            let snap_id = vg.lv(&snap).unwrap().id.clone();
            add(&snap, &snap_id, DmLayer::Top);
            add(&snap, &snap_id, DmLayer::Cow);
        }
    }
    drop(session);
    assert_eq!(live, want, "live devices differ from the metadata");
    // 2. No two stacks map overlapping PV space.
    let mut ranges: Vec<(String, String, u64, u64)> = Vec::new();
    for (name, _) in &live {
        for line in bed.engine.table(name, TableSlot::Live).unwrap() {
            if line.target_type != "linear" {
                continue;
            }
            let mut params = line.params.split_whitespace();
            let device = params.next().unwrap_or_default().to_string();
            let offset: u64 = params.next().unwrap_or("0").parse().unwrap();
            ranges.push((
                stack_of_device[name].clone(),
                device,
                offset,
                offset + line.length,
            ));
        }
    }
    for (i, a) in ranges.iter().enumerate() {
        for b in &ranges[i + 1..] {
            let overlap = a.1 == b.1 && a.2 < b.3 && b.2 < a.3;
            assert!(!overlap || a.0 == b.0, "{a:?} overlaps {b:?}");
        }
    }
    // 3. Every active snapshot reads its origin as it was when taken.
    for (id, content) in taken {
        let Some(lv) = vg.lvs.iter().find(|l| &l.id == id) else {
            continue;
        };
        let name = dm_name(&vg.name, &lv.name, DmLayer::Top).unwrap();
        if !live.iter().any(|(n, _)| n == &name) {
            continue;
        }
        if snapshot_of(&vg, &lv.name).is_some_and(|s| s.3) {
            continue;
        }
        let Ok(status) = bed.engine.status(&name) else {
            continue;
        };
        if status.first().is_some_and(|l| l.params == "Invalid") {
            continue;
        }
        let now = bed.read(&lv.name, 0, content.len());
        assert_eq!(&now, content, "snapshot {} changed", lv.name);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_operation_sequences_keep_devices_and_metadata_in_step(
        steps in proptest::collection::vec(step(), 1..14)
    ) {
        let bed = Bed::new(48);
        let mut taken = HashMap::new();
        for step in &steps {
            apply(&bed, step, &mut taken);
            check(&bed, &taken);
        }
    }
}
