//! NBD exports on a unix socket (placeholder until the export lands).

use std::io;
use std::path::Path;
use std::sync::Arc;

use super::DeviceSet;

/// A listening NBD server; stops on drop.
pub struct NbdServer;

/// Serve `devices` on `socket_path`.
pub fn serve(_devices: Arc<dyn DeviceSet>, _socket_path: &Path) -> io::Result<NbdServer> {
    Err(io::Error::other("NBD export not built yet"))
}
