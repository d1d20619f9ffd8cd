//! A striped LV through the whole stack on the engine: created by the
//! operation, written through its device, found on the PVs where dm-stripe
//! puts each chunk; then a snapshot of it keeps the old data.

use std::path::PathBuf;

use super::*;
use crate::backend::userspace::export::DeviceSet;
use crate::backend::userspace::Engine;
use crate::names::{dm_name, DmLayer};
use crate::ops::lvm::{LinearRequest, Prepare, Session, SizeRequest, SnapshotRequest};
use crate::ops::volumes::{pv_create, vg_create, PvCreateOptions};

const MIB: u64 = 1 << 20;

#[test]
fn a_striped_lv_writes_each_chunk_where_dm_stripe_puts_it() {
    let dir = tempfile::tempdir().unwrap();
    let pvs: Vec<PathBuf> = (0..2)
        .map(|i| {
            let path = dir.path().join(format!("pv{i}.img"));
            std::fs::File::create(&path)
                .unwrap()
                .set_len(24 * MIB)
                .unwrap();
            pv_create(&path, &PvCreateOptions::default()).unwrap();
            path
        })
        .collect();
    let vg = format!("stripetest{}", std::process::id());
    vg_create(&vg, &pvs, 2048, &[], &pvs).unwrap();
    let engine = Engine::new(&dir.path().join("mapper"));
    let mut session = Session::open(&vg, &pvs, Some(&engine), false).unwrap();
    let placement = Placement {
        stripes: Some(2),
        stripe_size: Some(16),
        ..Placement::default()
    };
    session
        .create_placed(
            &LinearRequest {
                name: Some("st".into()),
                size: SizeRequest::Bytes(4 * MIB),
                activate: true,
                prepare: Prepare::default(),
                read_only: false,
            },
            &placement,
            &crate::ops::lvm::LvAttributes::default(),
        )
        .unwrap();
    let record = session.vg().clone();
    let lv = record.lv("st").unwrap();
    let SegmentKind::Striped {
        stripes,
        stripe_size,
    } = &lv.segments[0].kind
    else {
        panic!("not striped: {lv:?}");
    };
    assert_eq!((stripes.len(), *stripe_size), (2, Some(16)));
    let node = dm_name(&vg, "st", DmLayer::Top).unwrap();
    let device = DeviceSet::open(&engine, &node, true).unwrap();
    let data: Vec<u8> = (0..4 * MIB).map(|i| (i % 253) as u8).collect();
    device.write_at(&data, 0).unwrap();
    device.flush().unwrap();
    let chunk = 16 * 512;
    let images: Vec<Vec<u8>> = stripes
        .iter()
        .map(|(key, _)| {
            let index = record.pvs.iter().position(|p| &p.key == key).unwrap();
            std::fs::read(&pvs[index]).unwrap()
        })
        .collect();
    for k in (0..4 * MIB / chunk).step_by(37) {
        let (stripe, row) = ((k % 2) as usize, k / 2);
        let pv = record.pv(&stripes[stripe].0).unwrap();
        let at = (pv.pe_start + stripes[stripe].1 * record.extent_size) * 512 + row * chunk;
        assert_eq!(
            &images[stripe][at as usize..(at + chunk) as usize],
            &data[(k * chunk) as usize..((k + 1) * chunk) as usize],
            "chunk {k} on stripe {stripe} row {row}"
        );
    }
    session
        .create_snapshot(&SnapshotRequest {
            origin: "st".into(),
            name: Some("sn".into()),
            size: SizeRequest::Bytes(4 * MIB),
            chunk_sectors: crate::ops::lvm::DEFAULT_CHUNK,
            read_only: false,
        })
        .unwrap();
    let origin = DeviceSet::open(&engine, &node, true).unwrap();
    origin.write_at(&vec![0xee; 64 * 1024], 8192).unwrap();
    origin.flush().unwrap();
    let snap = DeviceSet::open(&engine, &dm_name(&vg, "sn", DmLayer::Top).unwrap(), false).unwrap();
    let mut old = vec![0u8; 128 * 1024];
    snap.read_at(&mut old, 0).unwrap();
    assert_eq!(
        old,
        data[..128 * 1024],
        "the snapshot keeps the striped origin's old data"
    );
}
