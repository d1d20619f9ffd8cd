//! Choosing the backend: `RLVM_BACKEND=kernel|userspace`, or the kernel when
//! `/dev/mapper/control` opens and the userspace engine otherwise. Once a
//! backend is asked for by name there is no silent fallback.

use super::kernel::KernelBackend;
use super::userspace::UserspaceBackend;
use super::{kernel_dm_available, state_dir, Backend, BackendChoice, BackendError, BackendKind};

/// The backend `RLVM_BACKEND` asks for, or the automatic choice.
pub fn open_backend() -> Result<Box<dyn Backend>, BackendError> {
    match BackendChoice::from_env()? {
        BackendChoice::Only(BackendKind::Kernel) => Ok(Box::new(KernelBackend::open()?)),
        BackendChoice::Only(BackendKind::Userspace) => {
            Ok(Box::new(UserspaceBackend::connect(&state_dir())?))
        }
        BackendChoice::Auto if kernel_dm_available() => Ok(Box::new(KernelBackend::open()?)),
        BackendChoice::Auto => Ok(Box::new(UserspaceBackend::connect(&state_dir())?)),
    }
}
