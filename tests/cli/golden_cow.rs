//! COW images written by the real kernel (tests/fixtures/cow, made by the
//! QEMU scenario 02-golden-cow, which also checks they are still what the
//! kernel writes): rcow reads them exactly as the kernel wrote them.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{assert_exit, run};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/cow")
}

fn manifest() -> Vec<Value> {
    let text = std::fs::read_to_string(fixtures().join("manifest.json")).expect("manifest");
    let manifest: Value = serde_json::from_str(&text).expect("manifest is JSON");
    manifest["images"].as_array().expect("images").clone()
}

/// The image, unpacked into `dir`.
fn unpack(image: &Value, dir: &Path) -> PathBuf {
    let name = image["file"].as_str().unwrap();
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(fixtures().join(name)).unwrap())
        .read_to_end(&mut bytes)
        .unwrap();
    assert_eq!(bytes.len() as u64, image["cow_bytes"].as_u64().unwrap());
    let path = dir.join(name.trim_end_matches(".gz"));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn origin_word(offset: u64) -> u64 {
    0x0A11_CE00_0000_0000 ^ offset
}

fn written_word(chunk: u64, offset: u64) -> u64 {
    (0xB0 << 56) ^ (chunk << 24) ^ offset
}

/// The origin before any write (what the snapshot must show).
fn origin_before(bytes: u64) -> Vec<u8> {
    (0..bytes / 8)
        .flat_map(|i| origin_word(i * 8).to_le_bytes())
        .collect()
}

/// The origin after the scenario's writes.
fn origin_after(image: &Value) -> Vec<u8> {
    let chunk_bytes = image["chunk_sectors"].as_u64().unwrap() * 512;
    let mut origin = origin_before(image["origin_bytes"].as_u64().unwrap());
    for chunk in image["written_chunks"].as_array().unwrap() {
        let chunk = chunk.as_u64().unwrap();
        for word in 0..chunk_bytes / 8 {
            let at = (chunk * chunk_bytes + word * 8) as usize;
            origin[at..at + 8].copy_from_slice(&written_word(chunk, word * 8).to_le_bytes());
        }
    }
    origin
}

#[test]
fn rcow_reads_every_kernel_written_cow() {
    let images = manifest();
    assert_eq!(images.len(), 4, "the scenario makes four images");
    for image in &images {
        let dir = tempfile::tempdir().unwrap();
        let cow = unpack(image, dir.path());
        let name = image["name"].as_str().unwrap();
        let status = image["status"].as_str().unwrap();
        let cow_arg = cow.to_str().unwrap();

        let dump = run("rcow", &["dump", "--json", cow_arg]);
        assert_exit(&dump, 0);
        let dump: Value = serde_json::from_slice(&dump.stdout).unwrap();
        assert_eq!(dump["status"], status, "{name}: status");
        assert_eq!(
            dump["header"]["chunk_size"], image["chunk_sectors"],
            "{name}"
        );

        if status == "Invalid" {
            assert_eq!(dump["header"]["valid"], 0, "{name}");
            let check = run("rcow", &["check", cow_arg]);
            assert_exit(&check, 1);
            assert!(String::from_utf8_lossy(&check.stdout).contains("marked invalid"));
            continue;
        }

        // Every written origin chunk has exactly one exception, in write order.
        let written: Vec<u64> = image["written_chunks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .collect();
        let olds: Vec<u64> = dump["exceptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["old_chunk"].as_u64().unwrap())
            .collect();
        assert_eq!(olds, written, "{name}: exceptions in the kernel's order");
        assert_exit(&run("rcow", &["check", cow_arg]), 0);

        // The snapshot's view, rebuilt offline from the written origin, is the origin as it was.
        let origin = dir.path().join("origin");
        std::fs::write(&origin, origin_after(image)).unwrap();
        let view = dir.path().join("view");
        let cat = run(
            "rcow",
            &[
                "cat",
                "--origin",
                origin.to_str().unwrap(),
                cow_arg,
                "-o",
                view.to_str().unwrap(),
            ],
        );
        assert_exit(&cat, 0);
        let expected = origin_before(image["origin_bytes"].as_u64().unwrap());
        assert!(
            std::fs::read(&view).unwrap() == expected,
            "{name}: snapshot view differs from the origin before the writes"
        );
    }
}
