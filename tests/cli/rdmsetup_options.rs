//! dmsetup's global options on rdmsetup, on the engine (issue 12): accepted
//! before or after the command, with dmsetup's meanings. The same invocations
//! are compared with real dmsetup on the kernel in QEMU scenario 10.

use crate::support::{assert_exit, StateDir};

#[test]
fn dmsetup_global_options_have_dmsetups_meanings() {
    let state = StateDir::new();
    // -v prints the long information after create; -u gives the UUID.
    let out = state.ok(
        "rdmsetup",
        &[
            "-v",
            "--noudevsync",
            "create",
            "a",
            "-u",
            "LVM-aaa",
            "--table",
            "0 8 zero",
        ],
    );
    assert!(
        out.starts_with("Name:              a\nState:             ACTIVE\n"),
        "{out}"
    );
    assert!(out.ends_with("UUID: LVM-aaa\n\n"), "{out}");
    // -y, -f, --verifyudev are accepted anywhere; -m picks the minor.
    state.ok(
        "rdmsetup",
        &[
            "-y",
            "--verifyudev",
            "create",
            "b",
            "-m",
            "9",
            "--table",
            "0 8 zero",
        ],
    );
    let devno = state.ok(
        "rdmsetup",
        &["info", "-c", "--noheadings", "-o", "minor", "b"],
    );
    assert_eq!(devno.trim(), "9");
    let out = state.run(
        "rdmsetup",
        &["create", "c", "-m", "9", "--table", "0 8 zero"],
    );
    assert_exit(&out, 1);
    // -u selects a device by UUID; --nolockfs suspends, -v shows it suspended.
    let out = state.ok(
        "rdmsetup",
        &["-v", "--nolockfs", "suspend", "-u", "LVM-aaa"],
    );
    assert!(out.contains("State:             SUSPENDED\n"), "{out}");
    state.ok("rdmsetup", &["resume", "-u", "LVM-aaa"]);
    // -v table: information, then the lines, no name prefix.
    let out = state.ok("rdmsetup", &["table", "-v", "a"]);
    assert!(
        out.starts_with("Name:              a\n") && out.ends_with("\n0 8 zero \n"),
        "{out}"
    );
    // --manglename: auto (the default) and hex give \xNN, none passes the name.
    state.ok("rdmsetup", &["create", "we ird", "--table", "0 8 zero"]);
    state.ok(
        "rdmsetup",
        &[
            "--manglename",
            "none",
            "create",
            "we ird",
            "--table",
            "0 8 zero",
        ],
    );
    let ls = state.ok("rdmsetup", &["ls"]);
    assert!(
        ls.contains("we\\x20ird\t") && ls.contains("we ird\t"),
        "{ls}"
    );
    // -r is create's; load refuses it in one line rather than ignore it.
    let out = state.run("rdmsetup", &["-r", "load", "a", "--table", "0 8 zero"]);
    assert_exit(&out, 1);
    // -f remove swaps in an error table, then removes.
    state.ok("rdmsetup", &["remove", "-f", "b"]);
    state.ok("rdmsetup", &["-f", "remove_all"]);
    assert_eq!(state.ok("rdmsetup", &["ls"]), "No devices found\n");
}
