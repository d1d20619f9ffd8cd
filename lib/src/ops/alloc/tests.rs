//! Layouts real lvm2 (2.03) made for the same requests on the same free
//! space (`lvs -o +seg_pe_ranges --segments`), replayed through the allocator.

use super::*;
use crate::lvm2::model::{Lv, Pv};

fn vg(pvs: usize) -> Vg {
    Vg {
        name: "avg".into(),
        id: "vgid".into(),
        seqno: 1,
        status: vec!["READ".into(), "WRITE".into()],
        extent_size: 8192,
        pvs: (0..pvs)
            .map(|i| Pv {
                key: format!("pv{i}"),
                id: format!("id{i}"),
                device: format!("/dev/loop{i}"),
                status: vec!["ALLOCATABLE".into()],
                dev_size: 65536,
                pe_start: 2048,
                pe_count: 7,
                extra: vec![],
            })
            .collect(),
        lvs: vec![],
        extra: vec![],
        header: vec![],
    }
}

fn striped(stripes: usize, extents: u64) -> Request {
    Request {
        extents,
        stripes,
        stripe_size: (stripes > 1).then_some(128),
        policy: Policy::Normal,
        pvs: None,
    }
}

/// Create or extend `name` by `request`; the LV's segments as lvm2's
/// `seg_pe_ranges` would list them (`pv0:0-1 pv1:0-1` per segment).
fn apply(vg: &mut Vg, name: &str, request: &Request) -> Result<Vec<String>, AllocError> {
    let segments = allocate(vg, name, request)?;
    match vg.lvs.iter_mut().find(|l| l.name == name) {
        Some(lv) => {
            lv.segments.extend(segments);
            lv.segments = merge_segments(std::mem::take(&mut lv.segments));
        }
        None => vg.lvs.push(Lv {
            name: name.into(),
            id: name.into(),
            status: vec![],
            creation_time: None,
            creation_host: None,
            segments: merge_segments(segments),
            extra: vec![],
        }),
    }
    Ok(ranges(vg, name))
}

fn ranges(vg: &Vg, name: &str) -> Vec<String> {
    vg.lv(name)
        .unwrap()
        .segments
        .iter()
        .map(|seg| {
            let SegmentKind::Striped { stripes, .. } = &seg.kind else {
                panic!("not striped")
            };
            let per = seg.extent_count / stripes.len() as u64;
            stripes
                .iter()
                .map(|(pv, pe)| format!("{pv}:{pe}-{}", pe + per - 1))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn linear_takes_the_largest_area_first_when_none_fits() {
    let mut vg = vg(2);
    apply(&mut vg, "base", &Request::linear(2)).unwrap();
    apply(&mut vg, "span", &Request::linear(2)).unwrap();
    // span's second segment on pv1, the COW after it on pv0: dvg's layout.
    vg.lvs[1].segments.push(Segment {
        start_extent: 2,
        extent_count: 2,
        kind: SegmentKind::Striped {
            stripe_size: None,
            stripes: vec![("pv1".into(), 0)],
        },
        extra: vec![],
    });
    apply(&mut vg, "cow", &Request::linear(1)).unwrap();
    assert_eq!(ranges(&vg, "cow"), ["pv0:4-4"]);
    let mut one = vg.clone();
    assert_eq!(
        apply(&mut one, "new", &Request::linear(1)).unwrap(),
        ["pv0:5-5"]
    );
    let mut seven = vg.clone();
    assert_eq!(
        apply(&mut seven, "new", &Request::linear(7)).unwrap(),
        ["pv1:2-6", "pv0:5-6"]
    );
    let mut grown = vg.clone();
    assert_eq!(
        apply(&mut grown, "span", &Request::linear(1)).unwrap(),
        ["pv0:2-3", "pv1:0-2"]
    );
}

#[test]
fn stripes_go_to_the_biggest_areas_and_split_as_lvm2_splits() {
    let mut vg = vg(4);
    assert_eq!(
        apply(&mut vg, "s1", &striped(2, 2)).unwrap(),
        ["pv0:0-0 pv1:0-0"]
    );
    assert_eq!(
        apply(&mut vg, "s2", &striped(3, 3)).unwrap(),
        ["pv0:1-1 pv1:1-1 pv2:0-0"]
    );
    assert_eq!(
        apply(&mut vg, "s6", &striped(2, 4)).unwrap(),
        ["pv0:2-3 pv1:2-3"]
    );
    assert_eq!(
        apply(&mut vg, "s7", &Request::linear(4)).unwrap(),
        ["pv2:1-4"]
    );
    assert_eq!(
        apply(&mut vg, "s5", &striped(2, 4)).unwrap(),
        ["pv0:4-5 pv1:4-5"]
    );
    assert_eq!(
        apply(&mut vg.clone(), "s9", &striped(2, 10)),
        Err(AllocError::Unsuitable {
            contiguous: "",
            lv: "s9".into(),
            more: 2
        })
    );
    assert_eq!(
        apply(&mut vg, "s9", &striped(2, 6)).unwrap(),
        ["pv3:0-1 pv2:5-6", "pv0:6-6 pv1:6-6"]
    );
    let mut ranged = Request::linear(2);
    ranged.pvs = Some(vec![PvChoice {
        key: "pv3".into(),
        ranges: vec![(2, 1), (6, 1)],
    }]);
    assert_eq!(
        apply(&mut vg, "x3", &ranged).unwrap(),
        ["pv3:2-2", "pv3:6-6"]
    );
    let mut full = Request::linear(1);
    full.pvs = Some(vec![PvChoice {
        key: "pv0".into(),
        ranges: vec![],
    }]);
    assert_eq!(
        apply(&mut vg, "x1", &full),
        Err(AllocError::NoSpace { needed: 1, free: 0 })
    );
}

#[test]
fn extensions_continue_each_stripe_then_cling_to_its_pvs() {
    let mut vg = vg(3);
    apply(&mut vg, "s1", &striped(2, 2)).unwrap();
    apply(&mut vg, "lin", &Request::linear(1)).unwrap();
    assert_eq!(
        apply(&mut vg, "s1", &striped(2, 2)).unwrap(),
        ["pv0:0-0 pv1:0-0", "pv0:2-2 pv1:1-1"]
    );
    assert_eq!(
        apply(&mut vg, "s1", &striped(2, 2)).unwrap(),
        ["pv0:0-0 pv1:0-0", "pv0:2-3 pv1:1-2"]
    );
    assert_eq!(
        apply(&mut vg, "s1", &Request::linear(2)).unwrap()[2],
        "pv0:4-5"
    );
    assert_eq!(
        apply(&mut vg, "s1", &striped(3, 3)).unwrap()[3],
        "pv0:6-6 pv1:3-3 pv2:0-0"
    );
}
