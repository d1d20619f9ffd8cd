//! Command-line tests of rlvm's programs, run against the built binaries.

mod docs;
mod multicall;
mod rcow;
mod rdmsetup;
mod support;
