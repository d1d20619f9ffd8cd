//! Arbitrary metadata text through the VG model and its validation: never a
//! panic; a VG that validates has free space within its size, allocates
//! without overflow, and reads back from its own text to the same verdict.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rlvm::lvm2::model::Vg;
use rlvm::lvm2::validate::{segment_pv_areas, unknown_segment_types, validate};
use rlvm::ops::volumes::{allocate, free_extents, free_runs, new_lv};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(vg) = Vg::parse(input) else {
        return;
    };
    let verdict = validate(&vg);
    let _ = unknown_segment_types(&vg);
    for seg in vg.lvs.iter().flat_map(|lv| &lv.segments) {
        let _ = segment_pv_areas(&vg, seg);
    }
    let again = Vg::parse(&vg.to_text()).expect("emitted VG parses");
    assert_eq!(validate(&again), verdict);
    if verdict.is_ok() {
        let total: u64 = vg.pvs.iter().map(|pv| pv.pe_count).sum();
        let free = free_extents(&vg);
        assert!(free <= total, "free {free} of {total}");
        for (key, first, count) in free_runs(&vg) {
            let pv = vg.pv(&key).expect("a run on a listed PV");
            assert!(first + count <= pv.pe_count);
        }
        // lvm2 allocates only on ALLOCATABLE PVs (`pvchange -x n` clears it).
        let allocatable: u64 = free_runs(&vg)
            .iter()
            .filter(|(key, _, _)| {
                vg.pv(key)
                    .is_some_and(|pv| pv.status.iter().any(|s| s == "ALLOCATABLE"))
            })
            .map(|run| run.2)
            .sum();
        if allocatable > 0 && vg.lv("fuzz_new").is_none() {
            let want = allocatable.min(1 + data.len() as u64);
            let segments = allocate(&vg, want, 0).expect("free space allocates");
            let mut lv = new_lv("fuzz_new", segments, true, true).unwrap();
            lv.id = "fuzzzz-fuzz-fuzz-fuzz-fuzz-fuzz-fuzzzz".into();
            if vg.lvs.iter().all(|l| l.id != lv.id) {
                let mut grown = vg.clone();
                grown.lvs.push(lv);
                // What rlvm allocates in a valid VG keeps it valid.
                validate(&grown).expect("an allocation keeps the VG valid");
            }
        }
    }
});
