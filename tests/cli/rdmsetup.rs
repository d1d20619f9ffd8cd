//! `rdmsetup` through the binary on a host without kernel device-mapper:
//! argument handling, table errors before any backend is touched, and a
//! requested backend that is unavailable failing loudly (never a fallback).
//! The real-kernel behaviour is tested under QEMU (tests/qemu/scenarios).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::support::{assert_exit, bin};

fn rdmsetup(env: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let mut cmd = Command::new(bin("rdmsetup"));
    cmd.args(args)
        .env_remove("RLVM_BACKEND")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn rdmsetup");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[track_caller]
fn one_line_error(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.starts_with("rdmsetup: "), "stderr: {stderr}");
    assert!(stderr.contains(expected), "stderr: {stderr}");
}

fn dm_here() -> bool {
    rlvm::backend::kernel_dm_available()
}

#[test]
fn help_and_bad_command_lines() {
    assert_exit(&rdmsetup(&[], &["--help"], ""), 0);
    assert_exit(&rdmsetup(&[], &["bogus"], ""), 1);
    assert_exit(&rdmsetup(&[], &["create"], ""), 1);
    assert_exit(&rdmsetup(&[], &["message", "x"], ""), 1);
    assert_exit(
        &rdmsetup(&[], &["suspend", "x", "--flush-everything"], ""),
        1,
    );
    let help = rdmsetup(&[], &["--help"], "");
    let text = String::from_utf8_lossy(&help.stdout);
    for command in [
        "create",
        "reload",
        "remove_all",
        "info",
        "mknodes",
        "targets",
    ] {
        assert!(
            text.contains(command),
            "{command} missing from help:\n{text}"
        );
    }
}

#[test]
fn kernel_requested_but_missing_fails_without_fallback() {
    if dm_here() {
        return;
    }
    for args in [&["ls"][..], &["info"], &["version"], &["remove", "vg-base"]] {
        let out = rdmsetup(&[("RLVM_BACKEND", "kernel")], args, "");
        assert_exit(&out, 1);
        one_line_error(&out, "kernel device-mapper unavailable");
        // version prints the library line first, as dmsetup does.
        let stdout = String::from_utf8_lossy(&out.stdout);
        if args == ["version"] {
            assert!(stdout.starts_with("Library version:   rlvm "), "{stdout}");
        } else {
            assert!(stdout.is_empty(), "{stdout}");
        }
    }
}

#[test]
fn queries_on_the_userspace_engine_start_no_daemon() {
    let state = crate::support::StateDir::new();
    let dir = state.path();
    let dir = dir.to_str().unwrap();
    let out = rdmsetup(
        &[("RLVM_BACKEND", "userspace"), ("RLVM_DIR", dir)],
        &["ls"],
        "",
    );
    assert_exit(&out, 0);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "No devices found\n");
    let out = rdmsetup(
        &[("RLVM_BACKEND", "userspace"), ("RLVM_DIR", dir)],
        &["info", "vg-x"],
        "",
    );
    assert_exit(&out, 1);
    one_line_error(&out, "vg-x");
    assert!(!state.daemon_running(), "a query started rdmd");
    if !dm_here() {
        // The automatic choice on a host without dm is the engine.
        let out = rdmsetup(&[("RLVM_DIR", dir)], &["targets"], "");
        assert_exit(&out, 0);
        assert!(String::from_utf8_lossy(&out.stdout).contains("snapshot-merge   v1.5.0"));
    }
}

#[test]
fn unknown_backends_are_named() {
    let out = rdmsetup(&[("RLVM_BACKEND", "zfs")], &["ls"], "");
    assert_exit(&out, 1);
    one_line_error(&out, "RLVM_BACKEND=\"zfs\"");
}

#[test]
fn bad_tables_name_line_and_field_before_any_backend() {
    // RLVM_BACKEND=kernel on a host without dm: the table error still wins,
    // so it is reported the same everywhere.
    let kernel = [("RLVM_BACKEND", "kernel")];
    let out = rdmsetup(
        &kernel,
        &["create", "vg-x", "--table", "0 x linear 8:0 0"],
        "",
    );
    assert_exit(&out, 1);
    one_line_error(&out, "line 1: length \"x\" is not a number of sectors");

    let stdin = "0 8 linear 8:0 0\n# comment\n16 8 linear 8:0 8\n";
    let out = rdmsetup(&kernel, &["load", "vg-x"], stdin);
    assert_exit(&out, 1);
    one_line_error(&out, "line 3: starts at sector 16, expected 8");

    let out = rdmsetup(&kernel, &["create", "vg-x"], "");
    assert_exit(&out, 1);
    one_line_error(&out, "table is empty");
}

#[test]
fn unknown_info_field_is_refused() {
    let out = rdmsetup(&[], &["info", "-c", "-o", "name,colour"], "");
    assert_exit(&out, 1);
    one_line_error(&out, "unrecognised field: colour");
}
