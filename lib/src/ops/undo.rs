//! The undo log behind every multi-step operation.

use thiserror::Error;

use crate::backend::{Backend, BackendError, SuspendMode};

/// Why an operation failed, and whether undoing it failed too.
#[derive(Debug, Error)]
pub enum OpsError {
    /// A step failed; everything done before it was undone.
    #[error("{step}")]
    Step {
        /// What was being done.
        step: String,
        /// The backend's error.
        source: BackendError,
    },
    /// A step failed and so did undoing the steps before it: devices may be left behind.
    #[error("{step} (undoing the earlier steps also failed: {rollback})")]
    Rollback {
        /// What was being done.
        step: String,
        /// The backend's error.
        source: BackendError,
        /// What could not be undone.
        rollback: String,
    },
    /// The request itself is inconsistent (e.g. an origin that is not active as expected).
    #[error("{0}")]
    Invalid(String),
}

/// One thing to do to put the device-mapper back as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Undo {
    /// Remove a device this operation created.
    Remove(String),
    /// Drop a table this operation loaded into the inactive slot.
    Clear(String),
    /// Resume a device this operation suspended.
    Resume(String),
    /// Rename a device back: (its new name, its old name).
    Rename(String, String),
}

/// Steps done so far, undone in reverse on failure.
pub(crate) struct UndoLog<'a> {
    backend: &'a dyn Backend,
    steps: Vec<Undo>,
}

impl<'a> UndoLog<'a> {
    pub(crate) fn new(backend: &'a dyn Backend) -> Self {
        Self {
            backend,
            steps: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, undo: Undo) {
        self.steps.push(undo);
    }

    /// Run `f` as step `step`; on failure undo everything and report.
    pub(crate) fn run<T>(
        &mut self,
        step: impl Into<String>,
        f: impl FnOnce(&dyn Backend) -> Result<T, BackendError>,
    ) -> Result<T, OpsError> {
        match f(self.backend) {
            Ok(value) => Ok(value),
            Err(source) => {
                let step = step.into();
                match self.rollback() {
                    Ok(()) => Err(OpsError::Step { step, source }),
                    Err(rollback) => Err(OpsError::Rollback {
                        step,
                        source,
                        rollback,
                    }),
                }
            }
        }
    }

    fn rollback(&mut self) -> Result<(), String> {
        let mut failures = Vec::new();
        while let Some(undo) = self.steps.pop() {
            let result = match &undo {
                Undo::Remove(name) => self.backend.remove(name),
                Undo::Clear(name) => self.backend.clear(name),
                Undo::Resume(name) => self.backend.resume(name).map(|_| ()),
                Undo::Rename(new, old) => self.backend.rename(new, old),
            };
            if let Err(e) = result {
                failures.push(format!("{undo:?}: {e}"));
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("; "))
        }
    }

    /// The operation succeeded: nothing to undo.
    pub(crate) fn commit(mut self) {
        self.steps.clear();
    }
}

/// Suspend with flush, the only mode the stack operations use: a snapshot
/// taken while writes are still queued would miss them.
pub(crate) const FLUSH: SuspendMode = SuspendMode::Flush;
