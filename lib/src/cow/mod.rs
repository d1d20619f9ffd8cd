//! The kernel's COW exception stores (dm-snap-persistent.c, dm-snap-transient.c), byte for byte.
//!
//! | module | concept |
//! |---|---|
//! | `header` | the 16-byte disk header in chunk 0 |
//! | `area` | 16-byte exception records and the metadata-area layout |
//! | `chunk` | chunk-size rules, the kernel's and lvm2's |
//! | `list` | the exception list read for listing only: parallel area reads, one sorted vector |
//! | `map` | the in-memory exception table (runs of consecutive exceptions) |
//! | `store` | the [`ExceptionStore`] trait and the persistent store |
//! | `transient` | the transient store |
//! | `check` | offline verification |
//! | `dump` | everything on disk, in on-disk order |
//! | `view` | the snapshot's bytes, read offline |
//!
//! A userspace snapshot target drives a store as dm-snap.c drives the kernel's:
//!
//! ```
//! use std::sync::Arc;
//! use rlvm::cow::{Exception, ExceptionStore, PersistentStore};
//! use rlvm::io::{BlockIo, MemDisk};
//!
//! let cow = Arc::new(MemDisk::new(8 << 20));
//! let mut store = PersistentStore::open(cow.clone(), 8)?; // table load: initialises a fresh COW
//! let new_chunk = store.allocate()?;                       // first write to origin chunk 42
//! cow.write_all_at(&[0xaa; 4096], store.chunk_offset(new_chunk).unwrap()).unwrap(); // copy the old data
//! store.commit(Exception { old_chunk: 42, new_chunk })?;   // durable: the origin write may proceed
//! assert_eq!(store.lookup(42), Some(new_chunk));
//! assert_eq!(store.usage()?.to_string(), "24/16384 16");
//! # Ok::<(), rlvm::cow::CowError>(())
//! ```

mod area;
mod check;
mod chunk;
mod dump;
mod error;
mod header;
mod list;
mod map;
mod scan;
mod store;
mod transient;
mod view;

#[cfg(test)]
mod tests;

pub use area::{Exception, Geometry, HEADER_CHUNKS, RECORD_LEN};
pub use check::{check, CheckReport};
pub use chunk::{
    validate_kernel as validate_chunk_size_kernel, validate_lvm2 as validate_chunk_size_lvm2,
    KERNEL_DEFAULT_CHUNK_SECTORS, KERNEL_MAX_CHUNK_SECTORS, LVM2_MAX_CHUNK_SECTORS,
    LVM2_MIN_CHUNK_SECTORS,
};
pub use dump::{dump, Dump, DumpEntry, DumpGeometry, DumpHeader};
pub use error::{CowError, Slot};
pub use header::{Header, HEADER_LEN, MAGIC, VERSION};
pub use list::{read_exception_list, ExceptionList};
pub use map::ExceptionMap;
pub use store::{
    read_header, ExceptionStore, MergeRun, OpenReport, PersistentStore, StagedCommit, StoreType,
    Usage,
};
pub use transient::TransientStore;
pub use view::SnapshotView;
