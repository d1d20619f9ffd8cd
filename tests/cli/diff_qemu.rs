//! Proof by difference, the half that needs activation: compares what the
//! QEMU scenario `33-diff-active` left in `$RLVM_DIFF_ACTIVE_RESULTS` (one
//! directory per case of `tests/diff/active-cases.txt`, real lvm2's or
//! dmsetup's and rlvm's stdout, stderr, exit status and, for a mutating
//! case, lvm2's and dmsetup's view afterwards), normalised as `diff.rs`
//! normalises. Prints `N of M invocations identical`; fails on any
//! difference `tests/diff/active-allow.txt` does not list with a reason.
//! The scenario's `.check` runs it; without the variable it skips loudly.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::diff::{glob, normalise_text, parse_allow_list};

const ALLOW: &str = include_str!("../diff/active-allow.txt");

/// One side's normalised outcome.
#[derive(Debug, PartialEq, Eq)]
struct Side {
    stdout: String,
    stderr: String,
    status: String,
    after: String,
}

fn read_side(dir: &Path, side: &str, disks: &[String]) -> Side {
    let read = |suffix: &str| {
        let path = dir.join(format!("{side}.{suffix}"));
        let bytes = std::fs::read(&path).unwrap_or_default();
        normalise_text(&String::from_utf8_lossy(&bytes), "", disks)
    };
    Side {
        stdout: read("out"),
        stderr: read("err"),
        status: read("rc").trim().to_string(),
        after: read("after"),
    }
}

/// The group a case counts in: its command, `!` kept.
fn group(case: &str) -> String {
    case.split_whitespace().next().unwrap_or("").to_string()
}

#[test]
fn active_outcomes_match_lvm2() {
    let Some(results) = std::env::var_os("RLVM_DIFF_ACTIVE_RESULTS") else {
        eprintln!("##### SKIPPED diff_qemu: RLVM_DIFF_ACTIVE_RESULTS unset (tests/qemu/run.sh 33-diff-active sets it) #####");
        return;
    };
    let results = PathBuf::from(results);
    let disks: Vec<String> = std::fs::read_to_string(results.join("disks"))
        .expect("the scenario's disks file")
        .lines()
        .map(str::to_string)
        .collect();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&results)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("case").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no cases in {}", results.display());
    let allow = parse_allow_list(ALLOW);
    let mut allowed_by = vec![0usize; allow.len()];
    let mut identical = 0;
    let mut unexpected = Vec::new();
    let mut missing = Vec::new();
    let mut groups: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut detail = String::new();
    for dir in &dirs {
        let case = std::fs::read_to_string(dir.join("case")).unwrap();
        let case = case.trim_end().to_string();
        if !dir.join("lvm.rc").is_file() || !dir.join("rlvm.rc").is_file() {
            missing.push(case);
            continue;
        }
        let theirs = read_side(dir, "lvm", &disks);
        let ours = read_side(dir, "rlvm", &disks);
        let counts = groups.entry(group(&case)).or_default();
        counts.1 += 1;
        if theirs == ours {
            identical += 1;
            counts.0 += 1;
            continue;
        }
        let _ = writeln!(
            detail,
            "=== {case}\n--- lvm2 (exit {})\n{}{}{}--- rlvm (exit {})\n{}{}{}",
            theirs.status,
            theirs.stdout,
            theirs.stderr,
            theirs.after,
            ours.status,
            ours.stdout,
            ours.stderr,
            ours.after
        );
        let key = case.replacen("! ", "!", 1);
        match allow.iter().position(|(p, _)| glob(p, &key)) {
            Some(at) => allowed_by[at] += 1,
            None => unexpected.push(key),
        }
    }
    let report = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("diff-active-report.txt");
    std::fs::write(&report, &detail).unwrap();
    println!(
        "{identical} of {} invocations identical (differences in {})",
        dirs.len() - missing.len(),
        report.display()
    );
    for (name, (same, all)) in &groups {
        println!("  {name:12} {same:4} of {all:4}");
    }
    for ((pattern, reason), count) in allow.iter().zip(&allowed_by) {
        println!("  allowed {count:4}  {pattern}  ({reason})");
    }
    assert!(
        missing.is_empty(),
        "cases the guest did not finish:\n{}",
        missing.join("\n")
    );
    assert!(
        unexpected.is_empty(),
        "{} differences not in tests/diff/active-allow.txt (details in {}):\n{}",
        unexpected.len(),
        report.display(),
        unexpected.join("\n")
    );
}
