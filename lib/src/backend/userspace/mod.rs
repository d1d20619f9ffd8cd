//! The userspace engine (`rdmd`): the kernel's device-mapper played over
//! image files, with the same tables, the same status lines and the same
//! persistent COW format.

pub mod export;
