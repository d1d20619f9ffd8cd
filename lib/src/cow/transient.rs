//! The transient exception store ("N"): exceptions live in memory only and
//! are lost on unload; nothing but data chunks is written to the COW.

use std::collections::BTreeSet;

use super::area::Exception;
use super::chunk;
use super::error::CowError;
use super::map::ExceptionMap;
use super::store::{size, ExceptionStore, MergeRun, StagedCommit, StoreType, Usage};
use crate::io::BlockIo;

/// The kernel's transient store over a COW device (only its size is read).
#[derive(Debug)]
pub struct TransientStore<D: BlockIo> {
    disk: D,
    chunk_size: u32,
    /// In sectors, from 0: the transient store has no header.
    next_free: u64,
    valid: bool,
    map: ExceptionMap,
    pending: BTreeSet<u64>,
}

impl<D: BlockIo> TransientStore<D> {
    /// A store of `chunk_size` sectors (kernel rules, 512-byte blocks) over `disk`.
    pub fn new(disk: D, chunk_size: u32) -> Result<Self, CowError> {
        chunk::validate_kernel(u64::from(chunk_size), 512)?;
        Ok(Self {
            disk,
            chunk_size,
            next_free: 0,
            valid: true,
            map: ExceptionMap::new(),
            pending: BTreeSet::new(),
        })
    }

    /// The device.
    pub fn disk(&self) -> &D {
        &self.disk
    }
}

impl<D: BlockIo> ExceptionStore for TransientStore<D> {
    fn store_type(&self) -> StoreType {
        StoreType::Transient
    }

    fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    fn is_valid(&self) -> bool {
        self.valid
    }

    fn lookup(&self, old_chunk: u64) -> Option<u64> {
        self.map.get(old_chunk)
    }

    fn exception_count(&self) -> u64 {
        self.map.len()
    }

    fn allocate(&mut self) -> Result<u64, CowError> {
        if !self.valid {
            return Err(CowError::Invalidated);
        }
        let cow_sectors = size(&self.disk)? / 512;
        let chunk = u64::from(self.chunk_size);
        if cow_sectors < self.next_free.saturating_add(chunk) {
            return Err(CowError::Full {
                next_free: self.next_free / chunk,
                chunk_size: chunk,
                cow_sectors,
            });
        }
        let new_chunk = self.next_free / chunk;
        self.next_free += chunk;
        self.pending.insert(new_chunk);
        Ok(new_chunk)
    }

    fn commit_batch(&mut self, batch: &[Exception]) -> Result<(), CowError> {
        self.stage_commit(batch)?;
        self.finish_commit(batch, Ok(()))
    }

    /// Nothing to write: the records live in memory only.
    fn stage_commit(&mut self, batch: &[Exception]) -> Result<StagedCommit, CowError> {
        if !self.valid {
            return Err(CowError::Invalidated);
        }
        let mut news = BTreeSet::new();
        let mut olds = BTreeSet::new();
        for e in batch {
            if !self.pending.contains(&e.new_chunk) || !news.insert(e.new_chunk) {
                return Err(CowError::NotAllocated {
                    new_chunk: e.new_chunk,
                });
            }
            if self.map.get(e.old_chunk).is_some() || !olds.insert(e.old_chunk) {
                return Err(CowError::AlreadyRemapped {
                    old_chunk: e.old_chunk,
                });
            }
        }
        Ok(StagedCommit::default())
    }

    fn finish_commit(
        &mut self,
        batch: &[Exception],
        written: Result<(), CowError>,
    ) -> Result<(), CowError> {
        written?;
        if !self.valid {
            return Err(CowError::Invalidated);
        }
        for e in batch {
            self.pending.remove(&e.new_chunk);
            self.map.insert(e.old_chunk, e.new_chunk);
        }
        Ok(())
    }

    fn invalidate(&mut self) -> Result<(), CowError> {
        self.valid = false;
        self.pending.clear();
        Ok(())
    }

    fn usage(&self) -> Result<Usage, CowError> {
        Ok(Usage {
            sectors_allocated: self.next_free,
            total_sectors: size(&self.disk)? / 512,
            metadata_sectors: 0,
        })
    }

    fn prepare_merge(&mut self) -> Result<Option<MergeRun>, CowError> {
        Err(CowError::Unsupported("merging"))
    }

    fn commit_merge(&mut self, _count: u64) -> Result<(), CowError> {
        Err(CowError::Unsupported("merging"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::MemDisk;

    #[test]
    fn usage_counts_sectors_from_zero() {
        // facts.md §1.9: `0/8192 0`, then `80/8192 0` after 10 chunks of 8 sectors.
        let mut store = TransientStore::new(MemDisk::new(8192 * 512), 8).unwrap();
        assert_eq!(store.usage().unwrap().to_string(), "0/8192 0");
        for old in 0..10 {
            let new_chunk = store.allocate().unwrap();
            assert_eq!(new_chunk, old);
            store
                .commit(Exception {
                    old_chunk: old * 3,
                    new_chunk,
                })
                .unwrap();
        }
        assert_eq!(store.usage().unwrap().to_string(), "80/8192 0");
        assert_eq!(store.lookup(27), Some(9));
        assert!(matches!(
            store.prepare_merge(),
            Err(CowError::Unsupported(_))
        ));
    }

    #[test]
    fn full_then_invalid() {
        let mut store = TransientStore::new(MemDisk::new(3 * 4096 + 100), 8).unwrap();
        for _ in 0..3 {
            store.allocate().unwrap();
        }
        assert!(matches!(store.allocate(), Err(CowError::Full { .. })));
        store.invalidate().unwrap();
        assert!(!store.is_valid());
        assert!(matches!(store.allocate(), Err(CowError::Invalidated)));
    }
}
