//! Phase timings of a run on stderr, only when `RLVM_SYNC_TIMING` is set:
//! how the benchmark's figures were taken apart (list load, reads, digest).

use std::sync::OnceLock;
use std::time::Instant;

/// The first call's instant, or `None` when timings are off.
fn start() -> Option<Instant> {
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    *START.get_or_init(|| std::env::var_os("RLVM_SYNC_TIMING").map(|_| Instant::now()))
}

/// Print `label` with the milliseconds since the first mark (nothing when timings are off).
pub fn mark(label: &str) {
    if let Some(t0) = start() {
        eprintln!(
            "rlvsync timing: {:9.3} ms  {label}",
            t0.elapsed().as_secs_f64() * 1e3
        );
    }
}
