//! The mapper directory over FUSE (placeholder until the export lands).

use std::io;
use std::path::Path;
use std::sync::Arc;

use super::DeviceSet;

/// A mounted mapper directory; unmounted on drop.
pub struct FuseMount;

/// Mount `devices` at `mountpoint`.
pub fn mount(_devices: Arc<dyn DeviceSet>, _mountpoint: &Path) -> io::Result<FuseMount> {
    Err(io::Error::other("FUSE export not built yet"))
}
