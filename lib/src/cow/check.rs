//! Offline verification: every broken invariant of a persistent store, listed.

use super::area::Geometry;
use super::chunk;
use super::error::CowError;
use super::header::Header;
use super::scan::{scan, Mode};
use super::store::read_header;
use crate::io::BlockIo;

/// What [`check`] found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// The header, when it could be decoded.
    pub header: Option<Header>,
    /// Exception records found in the areas (sound or not).
    pub exceptions: u64,
    /// Every problem, in the order found; empty means the store is clean.
    pub problems: Vec<CowError>,
}

impl CheckReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verify the store on `disk` without writing. Structural damage ends the walk
/// where nothing beyond can be trusted (header, chunk size, an unreadable area);
/// record-level problems are all collected.
pub fn check(disk: &dyn BlockIo) -> CheckReport {
    let mut report = CheckReport::default();
    let header = match read_header(disk) {
        Ok(Some(header)) => header,
        Ok(None) => {
            report.problems.push(CowError::NotACow);
            return report;
        }
        Err(e) => {
            report.problems.push(e);
            return report;
        }
    };
    report.header = Some(header);
    if let Err(e) = chunk::validate_kernel(u64::from(header.chunk_size), 512) {
        report.problems.push(e);
        return report;
    }
    let geometry = Geometry::new(header.chunk_size);
    // Same order as loading: the device must hold the header chunk and area 0 first.
    let needed = geometry.chunk_bytes().saturating_mul(2);
    match disk.size_bytes() {
        Ok(device_bytes) if device_bytes < needed => {
            report.problems.push(CowError::Truncated {
                what: "header and metadata area 0".into(),
                needed,
                device_bytes,
            });
            return report;
        }
        Ok(_) => {}
        Err(e) => {
            report
                .problems
                .push(CowError::io("reading the COW device size", e));
            return report;
        }
    }
    if !header.is_valid() {
        // The kernel never reads an invalid store's records, so neither do we.
        report.problems.push(CowError::Invalidated);
        return report;
    }
    let mut problems = Vec::new();
    match scan(disk, &geometry, Mode::Collect, &mut problems, |_, _| {}) {
        Ok(found) => report.exceptions = found.count,
        Err(e) => problems.push(e),
    }
    report.problems.extend(problems);
    report
}
