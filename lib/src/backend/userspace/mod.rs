//! The userspace engine (`rdmd`): the kernel's device-mapper played over
//! image files, with the same tables, the same status lines and the same
//! persistent COW format.
//!
//! | module | concept |
//! |---|---|
//! | `engine` | devices, their live and inactive tables, the suspend gate, events |
//! | `table` | a loaded table and the I/O path that splits requests over its lines |
//! | `lower` | what a device argument resolves to: engine devices, image files, host block devices |
//! | `links` | `$RLVM_DIR/VG/LV` links to the mapper files, as udev makes `/dev/VG/LV` |
//! | `lockfs` | freezing the filesystems on a device for its suspend, as the kernel's lockfs |
//! | `snapshot` | `snapshot`, `snapshot-origin`, `snapshot-merge` semantics over the COW library |
//! | `export` | the devices as files (FUSE) and NBD exports |
//! | `protocol` | the control socket's framed, versioned requests |
//! | `daemon` | `rdmd`: the engine, its exports and its control socket |
//! | `client` | the [`crate::backend::Backend`] trait over the socket, starting `rdmd` on demand |

pub mod client;
pub mod daemon;
pub mod engine;
pub mod export;
mod links;
mod lockfs;
mod lower;
pub mod protocol;
mod snapshot;
mod table;

pub use client::UserspaceBackend;
pub use engine::Engine;
