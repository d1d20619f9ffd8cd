//! Open a persistent COW store from arbitrary bytes: a typed error or a store
//! whose every exception points at a data chunk inside the device, never a panic;
//! and `load` succeeds exactly when `check` finds nothing (or only invalidation).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rlvm::cow::{check, CowError, ExceptionStore, PersistentStore};
use rlvm::io::MemDisk;

fuzz_target!(|data: &[u8]| {
    let disk = MemDisk::from_bytes(data.to_vec());
    let report = check(&disk);
    let loaded = PersistentStore::load(disk);
    let only_invalid = matches!(report.problems.as_slice(), [] | [CowError::Invalidated]);
    assert_eq!(loaded.is_ok(), only_invalid, "{:?}", report.problems);
    if let Ok(store) = loaded {
        let chunks = store.geometry().device_chunks(data.len() as u64);
        for e in store.exceptions().iter() {
            assert!(!store.geometry().is_metadata_chunk(e.new_chunk));
            assert!(e.new_chunk < chunks);
            assert_eq!(store.lookup(e.old_chunk), Some(e.new_chunk));
        }
        let _ = rlvm::cow::dump(store.disk());
    }
});
