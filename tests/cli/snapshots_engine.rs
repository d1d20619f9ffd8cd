//! The seed's snapshot scenario done by rlvm's commands on the embedded
//! engine, checked by content through the mapper files: the snapshot keeps
//! the old bytes, the origin has the new, Data% follows the copied chunks, a
//! full COW invalidates only its snapshot, extend, merge and remove do what
//! they say, and the stack survives an rdmd restart. (The same scenario on
//! the real kernel, beside real lvm2, is tests/qemu/scenarios/30-*.)

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use serde_json::Value;

use crate::support::{assert_exit, StateDir};

const MIB: u64 = 1 << 20;

/// A VG `vg` on one image file, with `base` filled with a known pattern.
fn vg_with_base(state: &StateDir, base_size: &str, pattern_mib: u64) -> PathBuf {
    let pv = state.scratch().join("pv0.img");
    std::fs::File::create(&pv)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    state.ok("rpvcreate", &[pv.to_str().unwrap()]);
    state.ok("rvgcreate", &["vg", pv.to_str().unwrap()]);
    state.ok("rlvcreate", &["-L", base_size, "-n", "base", "vg"]);
    let base = state.mapper("vg-base");
    let mut bytes = vec![0u8; (pattern_mib * MIB) as usize];
    for (i, block) in bytes.chunks_mut(4096).enumerate() {
        block.fill((i % 251) as u8 + 1);
    }
    write_at(&base, &bytes, 0);
    base
}

fn write_at(path: &std::path::Path, data: &[u8], offset: u64) {
    let file = OpenOptions::new().write(true).open(path).unwrap();
    file.write_all_at(data, offset).unwrap();
    file.sync_data().unwrap();
}

fn read_at(path: &std::path::Path, len: u64, offset: u64) -> std::io::Result<Vec<u8>> {
    let file = OpenOptions::new().read(true).open(path)?;
    let mut buf = vec![0u8; len as usize];
    file.read_exact_at(&mut buf, offset)?;
    Ok(buf)
}

/// One LV's row of `rlvs -a --reportformat json`.
fn lv_row(state: &StateDir, lv: &str) -> Value {
    let out = state.ok("rlvs", &["-a", "--reportformat", "json", "vg"]);
    let report: Value = serde_json::from_str(&out).unwrap();
    report["report"][0]["lv"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["lv_name"] == lv)
        .unwrap_or_else(|| panic!("{lv} not in {out}"))
        .clone()
}

fn tables(state: &StateDir) -> String {
    state.ok("rdmsetup", &["table"])
}

#[test]
fn the_seed_scenario_by_content() {
    let state = StateDir::new();
    let base = vg_with_base(&state, "1G", 8);
    let before = read_at(&base, 8 * MIB, 0).unwrap();
    state.ok(
        "rlvcreate",
        &["-L", "100M", "--snapshot", "-n", "snap", "vg/base"],
    );

    // The four devices, with lvm2's names, layers and table shapes.
    let t = tables(&state);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 4, "{t}");
    assert!(
        lines[0].starts_with("vg-base: 0 2097152 snapshot-origin "),
        "{t}"
    );
    assert!(
        lines[1].starts_with("vg-base-real: 0 2097152 linear "),
        "{t}"
    );
    assert!(
        lines[2].starts_with("vg-snap: 0 2097152 snapshot ") && lines[2].ends_with(" P 8"),
        "{t}"
    );
    assert!(lines[3].starts_with("vg-snap-cow: 0 204800 linear "), "{t}");
    let info = state.ok(
        "rdmsetup",
        &[
            "info",
            "-c",
            "--noheadings",
            "-o",
            "name,uuid",
            "--separator",
            ",",
        ],
    );
    for layer in ["vg-base-real,LVM-", "vg-snap-cow,LVM-"] {
        assert!(info.lines().any(|l| l.starts_with(layer)), "{info}");
    }
    assert!(
        info.lines()
            .any(|l| l.starts_with("vg-base-real,") && l.ends_with("-real")),
        "{info}"
    );
    assert!(
        info.lines()
            .any(|l| l.starts_with("vg-snap-cow,") && l.ends_with("-cow")),
        "{info}"
    );
    assert_eq!(lv_row(&state, "snap")["data_percent"], "0.00");
    assert_eq!(lv_row(&state, "snap")["lv_attr"], "swi-a-s---");
    assert_eq!(lv_row(&state, "base")["lv_attr"], "owi-a-s---");
    assert_eq!(lv_row(&state, "snap")["origin"], "base");

    // 2 MiB into the origin: 512 chunks copied out, old bytes kept.
    let new = vec![0xa5u8; (2 * MIB) as usize];
    write_at(&base, &new, 3 * MIB);
    let snap = state.mapper("vg-snap");
    assert_eq!(
        read_at(&snap, 8 * MIB, 0).unwrap(),
        before,
        "snapshot keeps the old content"
    );
    let origin_now = read_at(&base, 8 * MIB, 0).unwrap();
    assert_eq!(
        &origin_now[(3 * MIB) as usize..(5 * MIB) as usize],
        &new[..]
    );
    assert_eq!(
        &origin_now[..(3 * MIB) as usize],
        &before[..(3 * MIB) as usize]
    );
    // 512 records fill areas 0 and 1: the next area (chunk 515) is skipped, metadata is 4 chunks.
    let status = state.ok("rdmsetup", &["status", "vg-snap"]);
    assert_eq!(status.trim(), "0 2097152 snapshot 4128/204800 32");
    assert_eq!(lv_row(&state, "snap")["data_percent"], "2.02");
    // More chunks copied, Data% grows; rewriting copied chunks adds nothing.
    write_at(&base, &new, 0);
    assert_eq!(lv_row(&state, "snap")["data_percent"], "4.02");
    write_at(&base, &new, 0);
    assert_eq!(lv_row(&state, "snap")["data_percent"], "4.02");
    assert_eq!(read_at(&snap, 8 * MIB, 0).unwrap(), before);

    // Grow the COW while live: used at once.
    state.ok("rlvextend", &["-L", "+100M", "vg/snap"]);
    assert_eq!(lv_row(&state, "snap")["lv_size"], "200.00m");
    assert_eq!(lv_row(&state, "snap")["data_percent"], "2.01");
    let out = state.run("rlvextend", &["-L", "50M", "vg/snap"]);
    assert_ne!(
        out.status.code(),
        Some(0),
        "shrinking a COW must be refused"
    );
    assert_eq!(lv_row(&state, "snap")["lv_size"], "200.00m");

    // Survives rdmd going away: deactivate, stop the daemon, activate.
    state.ok("rvgchange", &["-an", "vg"]);
    state.ok("rdmd", &["--stop"]);
    assert!(!state.daemon_running());
    state.ok("rvgchange", &["-ay", "vg"]);
    assert_eq!(
        read_at(&snap, 8 * MIB, 0).unwrap(),
        before,
        "persistent COW came back"
    );
    assert_eq!(
        read_at(&base, 8 * MIB, 0).unwrap()[..(2 * MIB) as usize],
        new[..]
    );

    // Merge: the origin rolls back to the snapshot; the snapshot goes.
    let out = state.ok("rlvconvert", &["--merge", "-i", "0.1", "vg/snap"]);
    assert!(
        out.contains("Merge of snapshot into logical volume vg/base has finished."),
        "{out}"
    );
    assert_eq!(
        read_at(&base, 8 * MIB, 0).unwrap(),
        before,
        "origin rolled back"
    );
    let t = tables(&state);
    assert_eq!(t.lines().count(), 1, "{t}");
    assert!(t.starts_with("vg-base: 0 2097152 linear "), "{t}");
    assert_eq!(lv_row(&state, "base")["lv_attr"], "-wi-a-----");
}

#[test]
fn a_full_cow_invalidates_only_its_snapshot() {
    let state = StateDir::new();
    let base = vg_with_base(&state, "64M", 16);
    let before = read_at(&base, 16 * MIB, 0).unwrap();
    state.ok("rlvcreate", &["-L", "4M", "-s", "-n", "small", "vg/base"]);
    state.ok("rlvcreate", &["-L", "32M", "-s", "-n", "big", "vg/base"]);
    write_at(&base, &vec![0x5a; (8 * MIB) as usize], 0);
    let small = lv_row(&state, "small");
    assert_eq!(small["lv_attr"], "swi-I-s---", "{small}");
    assert_eq!(small["data_percent"], "100.00");
    assert_eq!(
        state.ok("rdmsetup", &["status", "vg-small"]).trim(),
        "0 131072 snapshot Invalid"
    );
    assert!(
        read_at(&state.mapper("vg-small"), 4096, 0).is_err(),
        "an invalid snapshot's I/O fails"
    );
    assert_eq!(
        read_at(&state.mapper("vg-big"), 16 * MIB, 0).unwrap(),
        before
    );
    assert_eq!(
        read_at(&base, 8 * MIB, 0).unwrap(),
        vec![0x5a; (8 * MIB) as usize]
    );
    let out = state.run("rlvconvert", &["--merge", "vg/small"]);
    assert_exit(&out, 5);
    // rlvremove takes the invalid one away; the rest stays as it was.
    state.ok("rlvremove", &["-f", "vg/small"]);
    let t = tables(&state);
    assert!(!t.contains("vg-small"), "{t}");
    assert!(t.contains("vg-big:") && t.contains("vg-base-real:"), "{t}");
    // The last snapshot going returns the origin to its own mapping.
    state.ok("rlvremove", &["-f", "vg/big"]);
    let t = tables(&state);
    assert_eq!(t.lines().count(), 1, "{t}");
    assert!(t.starts_with("vg-base: 0 131072 linear "), "{t}");
    assert_eq!(
        read_at(&base, 8 * MIB, 0).unwrap(),
        vec![0x5a; (8 * MIB) as usize]
    );
}

#[test]
fn a_merge_delayed_by_an_open_origin_runs_at_the_next_activation() {
    let state = StateDir::new();
    let base = vg_with_base(&state, "32M", 4);
    state.ok("rlvcreate", &["-L", "8M", "-s", "-n", "snap", "vg/base"]);
    let saved = read_at(&state.mapper("vg-snap"), 4 * MIB, 0).unwrap();
    write_at(&base, &vec![0x11; (4 * MIB) as usize], 0);
    let holder = OpenOptions::new().read(true).open(&base).unwrap();
    let out = state.ok("rlvconvert", &["--merge", "vg/snap"]);
    assert!(
        out.contains("Delaying merge since origin is open."),
        "{out}"
    );
    assert!(
        out.contains("will occur on next activation of vg/base"),
        "{out}"
    );
    drop(holder);
    assert_eq!(
        lv_row(&state, "[snap]")["lv_attr"]
            .as_str()
            .unwrap()
            .chars()
            .next(),
        Some('S'),
        "a merging snapshot is hidden and S"
    );
    state.ok("rlvchange", &["-an", "vg/base"]);
    let out = state.ok("rlvchange", &["-ay", "vg/base"]);
    assert!(
        out.contains("Merge of snapshot into logical volume vg/base has finished."),
        "{out}"
    );
    assert_eq!(read_at(&base, 4 * MIB, 0).unwrap(), saved);
    assert!(!tables(&state).contains("vg-snap"));
}

#[test]
fn a_snapshot_under_write_load_is_one_instant() {
    let state = StateDir::new();
    let base = vg_with_base(&state, "16M", 0);
    // A writer stamps chunks 0..1024 in order with a generation number, over and over.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let path = base.clone();
    // Generations finished, so the snapshot is taken and the writer stopped
    // by progress, not after fixed sleeps a busy machine can outlast.
    let finished = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let progress = finished.clone();
    let writer = std::thread::spawn(move || {
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        let mut generation = 1u32;
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            for chunk in 0..1024u64 {
                let mut block = [0u8; 4096];
                block[..4].copy_from_slice(&generation.to_le_bytes());
                file.write_all_at(&block, chunk * 4096).unwrap();
            }
            progress.store(generation, std::sync::atomic::Ordering::Relaxed);
            generation += 1;
        }
        generation
    });
    let wait_for = |generation: u32| {
        while finished.load(std::sync::atomic::Ordering::Relaxed) < generation {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    };
    wait_for(1);
    state.ok("rlvcreate", &["-L", "8M", "-s", "-n", "snap", "vg/base"]);
    let after = finished.load(std::sync::atomic::Ordering::Relaxed);
    wait_for(after + 1);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let generations = writer.join().unwrap();
    assert!(generations > 2, "the load did not run across the snapshot");
    let snap = read_at(&state.mapper("vg-snap"), 4 * MIB, 0).unwrap();
    let stamps: Vec<u32> = snap
        .chunks(4096)
        .map(|c| u32::from_le_bytes(c[..4].try_into().unwrap()))
        .collect();
    let first = stamps[0];
    let k = stamps
        .iter()
        .position(|&s| s != first)
        .unwrap_or(stamps.len());
    assert!(
        first > 0 && stamps[k..].iter().all(|&s| s + 1 == first),
        "the snapshot mixes instants around chunk {k}: {:?}",
        &stamps[k.saturating_sub(2)..(k + 3).min(stamps.len())]
    );
}
