//! Operations on the device-mapper side of LVM volumes, shared by both
//! backends: activating a volume's devices, stacking a snapshot onto an
//! origin in an order that makes it one point in time, growing and removing
//! it, and starting a merge. Every multi-step operation records how to undo
//! each step and undoes them in reverse when a later step fails.

pub mod alloc;
pub mod lvm;
pub mod snapshots;
mod stack;
mod undo;
pub mod vg_change;
pub mod volumes;

pub use stack::{
    activate_device, activate_origin, add_snapshot, deactivate_device, finish_merge,
    finish_merge_among, grow_device, remove_snapshot, rename_devices, start_merge, DeviceSpec,
    OriginSpec, PrepareCow, SnapshotSpec,
};
pub use undo::OpsError;
