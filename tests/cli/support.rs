//! Helpers shared by the command-line tests.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Path of a built rlvm binary.
pub fn bin(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_BIN_EXE_rcow"))
        .parent()
        .expect("binary directory")
        .to_path_buf();
    dir.join(name)
}

/// Run `program` with `args`, returning its output.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(bin(program))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"))
}

/// Assert that `output` exited with `code`, showing stderr when it did not.
#[track_caller]
pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "exit status\n--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
