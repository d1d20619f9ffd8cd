//! Drive a store from fuzzer-chosen operations (allocate+commit batches,
//! reopen, merge steps) over a small device; after each reopen the store must
//! agree with what was committed, and `check` must stay clean.
#![no_main]

use std::collections::HashMap;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use rlvm::cow::{check, Exception, ExceptionStore, PersistentStore};
use rlvm::io::MemDisk;

fuzz_target!(|data: &[u8]| {
    let disk = Arc::new(MemDisk::new(96 * 512));
    let Ok(mut store) = PersistentStore::open(disk.clone(), 1) else {
        return;
    };
    let mut model: HashMap<u64, u64> = HashMap::new();
    for op in data.chunks(2) {
        let (kind, arg) = (op[0] % 4, u64::from(*op.get(1).unwrap_or(&0)));
        match kind {
            0 | 1 => {
                let mut batch = Vec::new();
                for old_chunk in arg..arg + u64::from(op[0] >> 4) + 1 {
                    if model.contains_key(&old_chunk) {
                        continue;
                    }
                    let Ok(new_chunk) = store.allocate() else {
                        break;
                    };
                    batch.push(Exception {
                        old_chunk,
                        new_chunk,
                    });
                }
                if store.commit_batch(&batch).is_err() {
                    return; // the last area filled at the device's end: invalidated, as the kernel
                }
                model.extend(batch.iter().map(|e| (e.old_chunk, e.new_chunk)));
            }
            2 => {
                store = PersistentStore::open(disk.clone(), 1).expect("reopen");
            }
            _ => {
                if let Some(run) = store.prepare_merge().expect("prepare_merge") {
                    store.commit_merge(run.count).expect("commit_merge");
                    for old in run.first_old_chunk()..=run.last_old_chunk {
                        model.remove(&old);
                    }
                }
            }
        }
        assert_eq!(store.exception_count(), model.len() as u64);
        for (&old, &new) in &model {
            assert_eq!(store.lookup(old), Some(new));
        }
        assert!(check(&*disk).is_clean());
    }
});
