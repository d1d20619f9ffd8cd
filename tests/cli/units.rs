//! The systemd units in `cmd/systemd/` start programs with flags that exist,
//! so they cannot rot when a definition changes.

use std::path::{Path, PathBuf};

use crate::support::{assert_exit, bin, run};

fn units_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd")
}

/// `Key=value` lines of a unit file, comments and sections left out.
fn settings(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with(['#', ';', '[']))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn setting<'a>(settings: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    settings
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn every_unit_starts_a_program_with_flags_it_accepts() {
    let mut units: Vec<PathBuf> = std::fs::read_dir(units_dir())
        .expect("cmd/systemd")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "service"))
        .collect();
    units.sort();
    let names: Vec<String> = units
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["rdmd", "rlvmonitor"], "the units shipped");
    for unit in &units {
        let text = std::fs::read_to_string(unit).expect("unit file");
        let settings = settings(&text);
        let exec = setting(&settings, "ExecStart");
        assert_eq!(exec.len(), 1, "{}: one ExecStart", unit.display());
        let argv: Vec<&str> = exec[0].split_whitespace().collect();
        let program = Path::new(argv[0])
            .file_name()
            .and_then(|n| n.to_str())
            .expect("program name");
        assert!(
            argv[0].starts_with('/'),
            "{}: systemd wants an absolute path",
            unit.display()
        );
        assert!(
            bin(program).exists(),
            "{}: no program {program}",
            unit.display()
        );
        // The clap definition takes the whole command line, values and conflicts included.
        let definition = rlvm_cmd::find_program(program)
            .unwrap_or_else(|| panic!("{program} is not an rlvm program"));
        if let Err(e) = (definition.command)().try_get_matches_from(&argv) {
            panic!("{}: {}: {e}", unit.display(), exec[0]);
        }
        // And the built binary agrees: every flag is in its help, which the flags don't upset.
        let mut args: Vec<&str> = argv[1..].to_vec();
        args.push("--help");
        let out = run(program, &args);
        assert_exit(&out, 0);
        let help = String::from_utf8_lossy(&out.stdout);
        for flag in argv[1..].iter().filter(|a| a.starts_with("--")) {
            assert!(help.contains(flag), "{program} --help lacks {flag}");
        }
        for page in setting(&settings, "Documentation") {
            let page = page.strip_prefix("man:").expect("a man page");
            let file = page.replace('(', ".").replace(')', "");
            let path = units_dir().join("../../man").join(&file);
            assert!(path.exists(), "{}: no man page {file}", unit.display());
        }
    }
}

#[test]
fn the_monitor_follows_rdmd_without_needing_it() {
    let text = std::fs::read_to_string(units_dir().join("rlvmonitor.service")).unwrap();
    let settings = settings(&text);
    let after = setting(&settings, "After").join(" ");
    assert!(after.split_whitespace().any(|u| u == "rdmd.service"));
    // On a kernel-dm host there is no rdmd: ordering only, never a requirement.
    for key in ["Requires", "BindsTo", "Requisite", "Wants"] {
        assert!(
            setting(&settings, key).iter().all(|v| !v.contains("rdmd")),
            "rlvmonitor.service {key} names rdmd"
        );
    }
}
