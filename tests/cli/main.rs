//! Command-line tests of rlvm's programs, run against the built binaries.

mod docs;
mod golden_cow;
mod multicall;
mod rcow;
mod rdmsetup;
mod support;
