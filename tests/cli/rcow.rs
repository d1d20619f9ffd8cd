//! `rcow` through the binary: create, dump, check and cat, and every refusal
//! (exit class, one-line error, device bytes untouched).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rlvm::cow::{Exception, ExceptionStore, PersistentStore};
use rlvm::io::{BlockIo, FileDisk};

use crate::support::{assert_exit, run};

fn file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[track_caller]
fn one_line_error(output: &std::process::Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.starts_with("rcow: "), "stderr: {stderr}");
    assert!(stderr.contains(expected), "stderr: {stderr}");
}

/// A 1 MiB store with exceptions for origin chunks `olds`, data chunk = byte `old as u8 + 1`.
fn store_with(dir: &Path, olds: &[u64]) -> PathBuf {
    let path = file(dir, "cow", &vec![0u8; 1 << 20]);
    let disk = Arc::new(FileDisk::open(&path).unwrap());
    let mut store = PersistentStore::create(disk.clone(), 8).unwrap();
    for &old_chunk in olds {
        let new_chunk = store.allocate().unwrap();
        disk.write_all_at(
            &[old_chunk as u8 + 1; 4096],
            store.chunk_offset(new_chunk).unwrap(),
        )
        .unwrap();
        store
            .commit(Exception {
                old_chunk,
                new_chunk,
            })
            .unwrap();
    }
    path
}

#[test]
fn create_then_dump_and_check() {
    let dir = tempfile::tempdir().unwrap();
    let cow = file(dir.path(), "cow", &vec![0u8; 8 << 20]);
    let out = run("rcow", &["create", s(&cow), "--chunk-size", "4k"]);
    assert_exit(&out, 0);
    let bytes = std::fs::read(&cow).unwrap();
    assert_eq!(
        &bytes[..16],
        &[0x53, 0x6e, 0x41, 0x70, 1, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0]
    );
    let out = run("rcow", &["dump", s(&cow)]);
    assert_exit(&out, 0);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("status: 16/16384 16\n"), "{text}");
    assert!(text.contains("exceptions: 0\n"), "{text}");
    let out = run("rcow", &["check", s(&cow)]);
    assert_exit(&out, 0);
    assert!(out.stderr.is_empty());
}

#[test]
fn create_64k_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let cow = file(dir.path(), "cow", &vec![0u8; 4 << 20]);
    assert_exit(&run("rcow", &["create", s(&cow), "-c", "64k"]), 0);
    let out = run("rcow", &["dump", "--json", s(&cow)]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], "256/8192 256");
    assert_eq!(json["geometry"]["exceptions_per_area"], 4096);
}

#[test]
fn create_refuses_an_existing_store_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let cow = store_with(dir.path(), &[3]);
    let before = std::fs::read(&cow).unwrap();
    let out = run("rcow", &["create", s(&cow)]);
    assert_exit(&out, 5);
    one_line_error(&out, "already holds a COW store");
    assert_eq!(std::fs::read(&cow).unwrap(), before);
    assert_exit(&run("rcow", &["create", "--force", s(&cow)]), 0);
    let out = run("rcow", &["dump", s(&cow)]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("exceptions: 0\n"));
}

#[test]
fn create_refuses_bad_chunk_sizes_as_bad_command_lines() {
    let dir = tempfile::tempdir().unwrap();
    let cow = file(dir.path(), "cow", &vec![0x5a; 1 << 20]);
    for bad in ["3k", "2k", "1m", "0", "12k", "x"] {
        let out = run("rcow", &["create", s(&cow), "--chunk-size", bad]);
        assert_exit(&out, 3);
        if bad != "x" {
            one_line_error(
                &out,
                "Chunk size must be a power of 2 in the range 4K to 512K",
            );
        }
        assert_eq!(std::fs::read(&cow).unwrap(), vec![0x5a; 1 << 20], "{bad}");
    }
}

#[test]
fn create_refuses_a_device_too_small_or_missing() {
    let dir = tempfile::tempdir().unwrap();
    let cow = file(dir.path(), "small", &[0u8; 3 * 4096 - 1]);
    let out = run("rcow", &["create", s(&cow)]);
    assert_exit(&out, 5);
    one_line_error(&out, "too small");
    assert_eq!(std::fs::read(&cow).unwrap(), vec![0u8; 3 * 4096 - 1]);
    assert_exit(
        &run(
            "rcow",
            &["create", s(&file(dir.path(), "ok", &[0u8; 3 * 4096]))],
        ),
        0,
    );
    let out = run("rcow", &["create", s(&dir.path().join("missing"))]);
    assert_exit(&out, 5);
    one_line_error(&out, "No such file");
    assert!(!dir.path().join("missing").exists());
}

#[test]
fn bad_command_lines_exit_3_and_help_exits_0() {
    assert_exit(&run("rcow", &[]), 3);
    assert_exit(&run("rcow", &["frobnicate"]), 3);
    assert_exit(&run("rcow", &["dump"]), 3);
    assert_exit(&run("rcow", &["cat", "cow"]), 3);
    assert_exit(&run("rcow", &["--help"]), 0);
    assert_exit(&run("rcow", &["dump", "--help"]), 0);
}

#[test]
fn dump_json_lists_exceptions_in_disk_order() {
    let dir = tempfile::tempdir().unwrap();
    let cow = store_with(dir.path(), &[9, 2, 40]);
    let out = run("rcow", &["dump", "--json", s(&cow)]);
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["header"],
        serde_json::json!({"magic": "SnAp", "valid": 1, "version": 1, "chunk_size": 8})
    );
    assert_eq!(json["status"], "40/2048 16");
    assert_eq!(
        json["usage"],
        serde_json::json!({"sectors_allocated": 40, "total_sectors": 2048, "metadata_sectors": 16})
    );
    let pairs: Vec<(u64, u64)> = json["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["old_chunk"].as_u64().unwrap(),
                e["new_chunk"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(pairs, [(9, 2), (2, 3), (40, 4)]);
    let out = run("rcow", &["dump", s(&cow)]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("  area 0 entry 1: 2 -> 3\n"), "{text}");
}

#[test]
fn dump_refuses_what_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = file(dir.path(), "zeros", &vec![0u8; 1 << 16]);
    let out = run("rcow", &["dump", s(&zeros)]);
    assert_exit(&out, 5);
    one_line_error(&out, "not a snapshot store");
    let junk = file(dir.path(), "junk", &vec![0xffu8; 1 << 16]);
    let out = run("rcow", &["dump", s(&junk)]);
    assert_exit(&out, 5);
    one_line_error(&out, "bad magic 0xffffffff");
}

#[test]
fn check_lists_problems_and_exits_1_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let cow = store_with(dir.path(), &[1, 2]);
    let mut bytes = std::fs::read(&cow).unwrap();
    // Record 2 points into area 1 (chunk 258), record 3 repeats old chunk 1.
    bytes[4096 + 32..4096 + 48].copy_from_slice(
        &Exception {
            old_chunk: 7,
            new_chunk: 258,
        }
        .encode(),
    );
    bytes[4096 + 48..4096 + 64].copy_from_slice(
        &Exception {
            old_chunk: 1,
            new_chunk: 5,
        }
        .encode(),
    );
    std::fs::write(&cow, &bytes).unwrap();
    let out = run("rcow", &["check", s(&cow)]);
    assert_exit(&out, 1);
    let text = String::from_utf8(out.stdout).unwrap();
    let name = s(&cow);
    assert_eq!(
        text,
        format!(
            "{name}: area 0 entry 2: new_chunk 258 lies in a metadata area\n\
             {name}: area 0 entry 3: old_chunk 1 already remapped at area 0 entry 0\n"
        )
    );
    assert_eq!(std::fs::read(&cow).unwrap(), bytes);
    bytes[0] = b'X';
    std::fs::write(&cow, &bytes).unwrap();
    let out = run("rcow", &["check", s(&cow)]);
    assert_exit(&out, 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("bad magic"));
    let out = run("rcow", &["check", s(&dir.path().join("missing"))]);
    assert_exit(&out, 5);
    one_line_error(&out, "No such file");
}

#[test]
fn check_reports_an_invalidated_store() {
    let dir = tempfile::tempdir().unwrap();
    let cow = store_with(dir.path(), &[1]);
    let disk = FileDisk::open(&cow).unwrap();
    let mut store = PersistentStore::open(disk, 8).unwrap();
    store.invalidate().unwrap();
    let out = run("rcow", &["check", s(&cow)]);
    assert_exit(&out, 1);
    assert!(String::from_utf8_lossy(&out.stdout).contains("snapshot is marked invalid"));
    let out = run("rcow", &["dump", s(&cow)]);
    assert_exit(&out, 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("status: Invalid\n"));
}

#[test]
fn cat_shows_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let origin_bytes: Vec<u8> = (0..5 * 4096 + 100).map(|i| (i % 253) as u8).collect();
    let origin = file(dir.path(), "origin", &origin_bytes);
    let cow = store_with(dir.path(), &[0, 5]);
    let mut expected = origin_bytes.clone();
    expected[..4096].fill(1);
    expected[5 * 4096..].fill(6);
    let out = run("rcow", &["cat", "--origin", s(&origin), s(&cow)]);
    assert_exit(&out, 0);
    assert_eq!(out.stdout, expected);
    let image = dir.path().join("image");
    let out = run(
        "rcow",
        &["cat", "--origin", s(&origin), s(&cow), "-o", s(&image)],
    );
    assert_exit(&out, 0);
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read(&image).unwrap(), expected);
}

#[test]
fn cat_refuses_an_invalid_store_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let origin = file(dir.path(), "origin", &[7u8; 8192]);
    let cow = store_with(dir.path(), &[0]);
    let disk = FileDisk::open(&cow).unwrap();
    PersistentStore::open(disk, 8)
        .unwrap()
        .invalidate()
        .unwrap();
    let image = dir.path().join("image");
    let out = run(
        "rcow",
        &["cat", "--origin", s(&origin), s(&cow), "-o", s(&image)],
    );
    assert_exit(&out, 5);
    one_line_error(&out, "snapshot is marked invalid");
    assert!(!image.exists());
    let out = run(
        "rcow",
        &["cat", "--origin", s(&dir.path().join("none")), s(&cow)],
    );
    assert_exit(&out, 5);
    one_line_error(&out, "No such file");
}
