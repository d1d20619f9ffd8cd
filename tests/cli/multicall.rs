//! `rlvm <program>` and the per-program symlinks to `rlvm` reach the same code.

use crate::support::{assert_exit, run};

#[test]
fn rlvm_lists_and_dispatches_programs() {
    let help = run("rlvm", &["help"]);
    assert_exit(&help, 0);
    let text = String::from_utf8_lossy(&help.stdout);
    for program in rlvm_cmd::programs() {
        assert!(
            text.contains(program.name),
            "{} missing from:\n{text}",
            program.name
        );
    }
    let alias = run("rlvm", &["lvs", "--version"]);
    assert_exit(&alias, 0);
    // lvm2's layout, answered even though the rest of the line is incomplete.
    assert!(String::from_utf8_lossy(&alias.stdout).starts_with("  LVM version:     rlvm "));
    let incomplete = run("rlvm", &["lvcreate", "--version"]);
    assert_exit(&incomplete, 0);
    assert!(String::from_utf8_lossy(&incomplete.stdout).contains("  Library version: rlvm "));
    let version = run("rlvm", &["rcow", "--version"]);
    assert_exit(&version, 0);
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("rcow "));
}

#[test]
fn unknown_commands_and_options_are_invalid_command_lines() {
    let unknown = run("rlvm", &["frobnicate"]);
    assert_exit(&unknown, 3);
    assert_eq!(
        String::from_utf8_lossy(&unknown.stderr).trim(),
        "rlvm: no such command 'frobnicate' (try 'rlvm help')"
    );
    assert_exit(&run("rlvm", &[]), 3);
    assert_exit(&run("rcow", &["--no-such-option"]), 3);
}

#[test]
fn list_programs_names_the_registry_and_every_link_runs_its_program() {
    let list = run("rlvm", &["--list-programs"]);
    assert_exit(&list, 0);
    let names: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    let registry: Vec<&str> = rlvm_cmd::programs().iter().map(|p| p.name).collect();
    assert_eq!(names, registry);
    // Each program is a symlink to the one binary, dispatched by its name.
    for name in &names {
        let link = crate::support::bin(name);
        assert_eq!(
            std::fs::read_link(&link).expect("a symlink"),
            crate::support::bin("rlvm")
        );
        let help = run(name, &["--help"]);
        assert_exit(&help, 0);
        assert!(
            String::from_utf8_lossy(&help.stdout).contains(name.as_str()),
            "{name} --help"
        );
    }
}

#[test]
fn rlvm_is_the_only_program_binary() {
    // A program is a registry entry (commands::PROGRAMS) and nothing else:
    // it is installed as a symlink to rlvm. A per-program [[bin]] shim
    // would build and install another copy of the whole suite.
    let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(manifest_dir.join("Cargo.toml")).expect("Cargo.toml");
    let bins: Vec<&str> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|entry| entry.lines().find_map(|l| l.trim().strip_prefix("name = ")))
        .map(|name| name.trim_matches('"'))
        .collect();
    assert_eq!(
        bins,
        ["rlvm-gen-docs", "rlvm"],
        "cmd/Cargo.toml: remove the per-program [[bin]] entries and their src/bin shims"
    );
    let mut shims: Vec<String> = std::fs::read_dir(manifest_dir.join("src/bin"))
        .expect("cmd/src/bin")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    shims.sort();
    assert_eq!(shims, ["rlvm-gen-docs.rs", "rlvm.rs"], "cmd/src/bin");
}
