//! LVM2's on-disk metadata: label, PV header, metadata area header, text
//! metadata, read and written as lvm2 reads and writes them.

pub mod crc;
pub mod error;
pub mod label;
pub mod lock;
pub mod mda;
pub mod model;
pub mod store;
pub mod text;

pub use error::Lvm2Error;
