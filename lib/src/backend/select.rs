//! Choosing the backend: `RLVM_BACKEND=kernel|userspace`, or the kernel when
//! `/dev/mapper/control` opens. Once the kernel is asked for by name there
//! is no silent fallback.

use super::kernel::KernelBackend;
use super::{kernel_dm_available, Backend, BackendChoice, BackendError, BackendKind};

fn userspace_unavailable() -> BackendError {
    BackendError::Unavailable {
        backend: "userspace",
        reason: "the userspace engine is not part of this build yet; \
                 use RLVM_BACKEND=kernel on a machine with device-mapper"
            .to_string(),
    }
}

/// The backend `RLVM_BACKEND` asks for, or the automatic choice.
pub fn open_backend() -> Result<Box<dyn Backend>, BackendError> {
    match BackendChoice::from_env()? {
        BackendChoice::Only(BackendKind::Kernel) => Ok(Box::new(KernelBackend::open()?)),
        BackendChoice::Only(BackendKind::Userspace) => Err(userspace_unavailable()),
        BackendChoice::Auto if kernel_dm_available() => Ok(Box::new(KernelBackend::open()?)),
        BackendChoice::Auto => Err(userspace_unavailable()),
    }
}
