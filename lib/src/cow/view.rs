//! The snapshot as the snapshot target shows it, read offline: remapped chunks
//! from the COW, every other chunk from the origin.

use std::io::Write;

use super::error::CowError;
use super::store::{ExceptionStore, PersistentStore};
use crate::io::BlockIo;

/// A read-only view of a snapshot: origin plus a persistent COW store.
#[derive(Debug)]
pub struct SnapshotView<O: BlockIo, C: BlockIo> {
    origin: O,
    store: PersistentStore<C>,
    origin_bytes: u64,
}

impl<O: BlockIo, C: BlockIo> SnapshotView<O, C> {
    /// Load the store on `cow` (never writing) over `origin`; an invalid store is refused, as the target fails every read.
    pub fn open(origin: O, cow: C) -> Result<Self, CowError> {
        let store = PersistentStore::load(cow)?;
        if !store.is_valid() {
            return Err(CowError::Invalidated);
        }
        let origin_bytes = origin
            .size_bytes()
            .map_err(|e| CowError::io("reading the origin size", e))?;
        Ok(Self {
            origin,
            store,
            origin_bytes,
        })
    }

    /// Size of the snapshot in bytes: the origin's.
    pub fn size_bytes(&self) -> u64 {
        self.origin_bytes
    }

    /// The store behind the view.
    pub fn store(&self) -> &PersistentStore<C> {
        &self.store
    }

    /// Fill `buf` from snapshot byte `offset`; reads past the end are an error.
    pub fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> Result<(), CowError> {
        let end = offset.checked_add(buf.len() as u64);
        if end.is_none_or(|end| end > self.origin_bytes) {
            return Err(CowError::Truncated {
                what: "snapshot read".into(),
                needed: end.unwrap_or(u64::MAX),
                device_bytes: self.origin_bytes,
            });
        }
        let chunk_bytes = self.store.geometry().chunk_bytes();
        let mut done = 0usize;
        while done < buf.len() {
            let at = offset + done as u64;
            let chunk = at / chunk_bytes;
            let within = at % chunk_bytes;
            let take = usize::try_from(chunk_bytes - within)
                .unwrap_or(usize::MAX)
                .min(buf.len() - done);
            let piece = &mut buf[done..done + take];
            match self.store.lookup(chunk) {
                Some(new_chunk) => {
                    let cow_at = self
                        .store
                        .chunk_offset(new_chunk)
                        .and_then(|o| o.checked_add(within))
                        .ok_or(CowError::Truncated {
                            what: format!("COW chunk {new_chunk}"),
                            needed: u64::MAX,
                            device_bytes: 0,
                        })?;
                    self.store
                        .disk()
                        .read_exact_at(piece, cow_at)
                        .map_err(|e| {
                            CowError::io(
                                format!("reading COW chunk {new_chunk} at byte {cow_at}"),
                                e,
                            )
                        })?
                }
                None => self
                    .origin
                    .read_exact_at(piece, at)
                    .map_err(|e| CowError::io(format!("reading the origin at byte {at}"), e))?,
            }
            done += take;
        }
        Ok(())
    }

    /// Write the whole snapshot to `out`, one chunk at a time (the last one clipped to the origin size).
    pub fn copy_to(&self, out: &mut dyn Write) -> Result<u64, CowError> {
        let chunk_bytes = self.store.geometry().chunk_bytes();
        let mut buf = vec![0u8; usize::try_from(chunk_bytes).unwrap_or(1 << 20)];
        let mut at = 0u64;
        while at < self.origin_bytes {
            let len = (self.origin_bytes - at).min(buf.len() as u64) as usize;
            self.read_exact_at(&mut buf[..len], at)?;
            out.write_all(&buf[..len])
                .map_err(|e| CowError::io("writing the snapshot image", e))?;
            at += len as u64;
        }
        Ok(at)
    }
}
