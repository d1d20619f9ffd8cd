//! Proof by difference: every invocation of `tests/diff/cases.txt` and of the
//! generated list below runs through real lvm2 and through rlvm on the same
//! disks (loop devices over image files, lvm2 limited to them by a devices
//! filter and run with `--driverloaded n`), and stdout, stderr and the exit
//! status must be byte for byte the same, with only UUIDs, times and the
//! host name normalised. A case marked `!` changes metadata: each side runs
//! it on a fresh copy of the disks, and lvm2's view of the disks afterwards
//! is compared too. Prints `N of M invocations identical`; fails on any
//! difference that `tests/diff/allow.txt` does not list with a reason.
//! Needs root and lvm2; skips loudly unless RLVM_REQUIRE_LVM2=1.

use std::fmt::Write as _;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::support::bin;

const CASES: &str = include_str!("../diff/cases.txt");
const ALLOW: &str = include_str!("../diff/allow.txt");
const FIELDS: &str = include_str!("../diff/fields.txt");

/// The regions of each disk a mutating case may change: the label and the
/// first metadata area at the start, a second metadata area at the end.
const HEAD_BYTES: u64 = 2 << 20;
const TAIL_BYTES: u64 = 1 << 20;
const DISK_BYTES: u64 = 32 << 20;
const DISKS: usize = 4;

/// One invocation: the lvm2 command and its arguments, `$PV0`.. standing for the disks.
#[derive(Debug, Clone)]
struct Case {
    text: String,
    mutating: bool,
}

/// What one side printed, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    stdout: String,
    stderr: String,
    status: Option<i32>,
    /// lvm2's report of the disks after a mutating case.
    after: String,
}

struct Disks {
    dir: tempfile::TempDir,
    loops: Vec<String>,
    /// Saved head and tail of each disk, restored before each side of a mutating case.
    saved: Vec<(Vec<u8>, Vec<u8>)>,
    host: String,
}

impl Drop for Disks {
    fn drop(&mut self) {
        for name in ["dvg", "dvg2", "dnew"] {
            let _ = self.lvm(&["vgremove", "-ff", name]);
        }
        for device in &self.loops {
            let _ = Command::new("losetup").args(["-d", device]).status();
        }
    }
}

impl Disks {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut loops = Vec::new();
        for i in 0..DISKS {
            let image = dir.path().join(format!("pv{i}.img"));
            std::fs::File::create(&image)
                .unwrap()
                .set_len(DISK_BYTES)
                .unwrap();
            let out = Command::new("losetup")
                .args(["-f", "--show", image.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(out.status.success(), "losetup: {out:?}");
            loops.push(String::from_utf8_lossy(&out.stdout).trim().to_string());
        }
        let etc = dir.path().join("etc");
        std::fs::create_dir_all(dir.path().join("lock")).unwrap();
        std::fs::create_dir_all(&etc).unwrap();
        let accept: String = loops.iter().map(|l| format!("\"a|^{l}$|\", ")).collect();
        std::fs::write(
            etc.join("lvm.conf"),
            format!(
                "devices {{\n  filter = [ {accept}\"r|.*|\" ]\n  use_devicesfile = 0\n  hints = \"none\"\n  obtain_device_list_from_udev = 0\n}}\n\
                 global {{\n  locking_dir = \"{}\"\n}}\n\
                 activation {{\n  udev_sync = 0\n  udev_rules = 0\n}}\n",
                dir.path().join("lock").display()
            ),
        )
        .unwrap();
        let host = nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        Disks {
            dir,
            loops,
            saved: Vec::new(),
            host,
        }
    }

    fn lvm(&self, args: &[&str]) -> Output {
        let mut full = vec![args[0], "--driverloaded", "n"];
        full.extend(&args[1..]);
        Command::new("lvm")
            .args(&full)
            .env("LVM_SYSTEM_DIR", self.dir.path().join("etc"))
            .env("LVM_SUPPRESS_FD_WARNINGS", "1")
            .output()
            .unwrap()
    }

    fn lvm_ok(&self, line: &str) {
        let args = self.expand(line);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.lvm(&args);
        assert!(out.status.success(), "lvm {line}: {out:?}");
    }

    fn rlvm(&self, args: &[&str], state: &Path) -> Output {
        self.rlvm_driver(args, state, "n")
    }

    /// rlvm with `--driverloaded` `driver`.
    fn rlvm_driver(&self, args: &[&str], state: &Path, driver: &str) -> Output {
        let program = bin(&format!("r{}", args[0]));
        if !program.exists() {
            // No such program in rlvm yet: an outcome no lvm2 run can have.
            return Output {
                status: std::os::unix::process::ExitStatusExt::from_raw(127 << 8),
                stdout: Vec::new(),
                stderr: format!("rlvm has no r{}\n", args[0]).into_bytes(),
            };
        }
        Command::new(program)
            .arg("--driverloaded")
            .arg(driver)
            .args(&args[1..])
            .env("RLVM_DIR", state)
            .env("RLVM_LOCK_DIR", state.join("locks"))
            .env("RLVM_DEVICES", self.loops.join(":"))
            .env("RLVM_BACKEND", "kernel")
            // The configuration lvm2 reads, so both sides look for profiles in one place.
            .env("RLVM_CONFIG", self.dir.path().join("etc").join("lvm.conf"))
            .output()
            .unwrap()
    }

    /// The disks: two VGs (`dvg` on PV0 and PV1 with a linear LV, its
    /// snapshot and an LV of two segments over both PVs, tags on the VG and
    /// an LV; `dvg2` on PV2) and an orphan PV3, made by lvm2 except the
    /// snapshot (lvm2 makes none without a device-mapper driver, nor does
    /// rlvm when told there is none: rlvm records it inactive when the
    /// driver is said to be loaded but cannot be opened).
    fn build(&mut self, state: &Path) {
        for line in [
            "pvcreate $PV0 $PV1 $PV2 $PV3",
            "vgcreate dvg $PV0 $PV1",
            "lvcreate -an -Zn -L 8M -n base dvg",
            "lvcreate -an -Zn -L 8M -n span --addtag web --addtag db dvg $PV0",
            "lvextend -L +8M dvg/span $PV1",
            "vgchange --addtag prod dvg",
            "vgcreate dvg2 $PV2",
            "lvcreate -an -Zn -l 3 -n data dvg2",
        ] {
            self.lvm_ok(line);
        }
        let out = self.rlvm_driver(
            &[
                "lvcreate", "-an", "-s", "-L", "4M", "-n", "snap", "dvg/base",
            ],
            state,
            "y",
        );
        assert!(out.status.success(), "rlvcreate -s: {out:?}");
        self.saved = self
            .loops
            .iter()
            .map(|l| {
                let mut file = std::fs::File::open(l).unwrap();
                let mut head = vec![0; HEAD_BYTES as usize];
                file.read_exact(&mut head).unwrap();
                let mut tail = vec![0; TAIL_BYTES as usize];
                file.seek(SeekFrom::Start(DISK_BYTES - TAIL_BYTES)).unwrap();
                file.read_exact(&mut tail).unwrap();
                (head, tail)
            })
            .collect();
    }

    fn restore(&self) {
        for (device, (head, tail)) in self.loops.iter().zip(&self.saved) {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(device)
                .unwrap();
            file.write_all(head).unwrap();
            file.seek(SeekFrom::Start(DISK_BYTES - TAIL_BYTES)).unwrap();
            file.write_all(tail).unwrap();
            file.sync_all().unwrap();
        }
    }

    /// The case's words with the disks in place of `$PVn`.
    fn expand(&self, text: &str) -> Vec<String> {
        split_words(text)
            .into_iter()
            .map(|word| {
                let mut word = word;
                for (i, l) in self.loops.iter().enumerate().rev() {
                    word = word.replace(&format!("$PV{i}"), l);
                }
                word
            })
            .collect()
    }

    fn normalise(&self, output: &Output, after: String) -> Outcome {
        let text = |bytes: &[u8]| self.normalise_text(&String::from_utf8_lossy(bytes));
        Outcome {
            stdout: text(&output.stdout),
            stderr: text(&output.stderr),
            status: output.status.code(),
            after: self.normalise_text(&after),
        }
    }

    fn normalise_text(&self, text: &str) -> String {
        normalise_text(text, &self.host, &self.loops)
    }

    /// lvm2's view of the disks after a mutating case.
    fn state_report(&self) -> String {
        // One lvm2 run: every PV segment with its VG, PV and LV.
        let o = self.lvm(&[
            "pvs",
            "-a",
            "--segments",
            "-o",
            "pv_name,pv_attr,pv_tags,vg_name,vg_attr,vg_extent_size,vg_tags,pvseg_start,pvseg_size,lv_name,lv_attr,lv_size,origin,lv_tags,chunk_size,seg_start_pe",
        ]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    }

    fn run_case(&self, case: &Case) -> (Outcome, Outcome) {
        let words = self.expand(&case.text);
        let args: Vec<&str> = words.iter().map(String::as_str).collect();
        let state = tempfile::tempdir_in(self.dir.path()).unwrap();
        if !case.mutating {
            let theirs = self.lvm(&args);
            let ours = self.rlvm(&args, &self.dir.path().join("state"));
            return (
                self.normalise(&theirs, String::new()),
                self.normalise(&ours, String::new()),
            );
        }
        self.restore();
        let theirs = self.lvm(&args);
        let theirs = self.normalise(&theirs, self.state_report());
        self.restore();
        let ours = self.rlvm(&args, state.path());
        let ours = self.normalise(&ours, self.state_report());
        self.restore();
        (theirs, ours)
    }
}

/// UUIDs, times and the host name replaced; the disks by their `$PVn` names.
/// Shared with the QEMU bed's half of the suite (`diff_qemu`).
pub(crate) fn normalise_text(text: &str, host: &str, disks: &[String]) -> String {
    let mut text = normalise_pids(&normalise_uuids(&normalise_times(text)));
    if !host.is_empty() {
        text = replace_word(&text, host, "HOST");
    }
    for (i, l) in disks.iter().enumerate().rev() {
        text = text.replace(l.as_str(), &format!("$PV{i}"));
    }
    text
}

/// `word` replaced where it stands alone (not inside a longer name: a host
/// called `vm` must not turn `lvm2` into `lHOST2`).
fn replace_word(text: &str, word: &str, by: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let name_char = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    while let Some(at) = rest.find(word) {
        let before = out.chars().last().or_else(|| rest[..at].chars().last());
        let before = if at > 0 {
            rest[..at].chars().last()
        } else {
            before
        };
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        if name_char(before) || name_char(after) {
            out.push_str(word);
        } else {
            out.push_str(by);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// Words split at blanks; single or double quotes group.
fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut started = false;
    for c in text.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (_, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// pvscan's process IDs (`pvscan[1234]`) as `pvscan[PID]`.
fn normalise_pids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("pvscan[") {
        let digits = rest[at + 7..]
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len() - at - 7);
        let end = at + 7 + digits;
        if digits > 0 && rest[end..].starts_with(']') {
            out.push_str(&rest[..at]);
            out.push_str("pvscan[PID]");
            rest = &rest[end + 1..];
        } else {
            out.push_str(&rest[..at + 7]);
            rest = &rest[at + 7..];
        }
    }
    out.push_str(rest);
    out
}

/// lvm2's UUIDs (6-4-4-4-4-4-6 alphanumerics) as `UUID`.
fn normalise_uuids(text: &str) -> String {
    const SHAPE: [usize; 7] = [6, 4, 4, 4, 4, 4, 6];
    let bytes = text.as_bytes();
    let len = SHAPE.iter().sum::<usize>() + SHAPE.len() - 1;
    let matches_at = |start: usize| -> bool {
        if start + len > bytes.len() {
            return false;
        }
        let mut i = start;
        for (n, part) in SHAPE.iter().enumerate() {
            if n > 0 {
                if bytes[i] != b'-' {
                    return false;
                }
                i += 1;
            }
            if !bytes[i..i + part].iter().all(u8::is_ascii_alphanumeric) {
                return false;
            }
            i += part;
        }
        true
    };
    // device-mapper's `LVM-<VG UUID><LV UUID>`: 64 alphanumerics, no dashes.
    let dm_at = |start: usize| -> bool {
        bytes[start..].starts_with(b"LVM-")
            && bytes.len() >= start + 68
            && bytes[start + 4..start + 68]
                .iter()
                .all(u8::is_ascii_alphanumeric)
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if matches_at(i) {
            out.push_str("UUID");
            out.extend(std::iter::repeat_n(' ', len - 4));
            i += len;
        } else if dm_at(i) {
            out.push_str("LVM-UUID");
            out.extend(std::iter::repeat_n(' ', 60));
            i += 68;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Times as lvm2 prints them (`2026-12-01 22:15:33 +0000`, and lvdisplay's
/// `2026-12-01 22:15:33 +0000` after "Creation host, time") as `TIME`, same width.
fn normalise_times(text: &str) -> String {
    let pattern = b"dddd-dd-dd dd:dd:dd";
    let bytes = text.as_bytes();
    let fits = |start: usize| {
        start + pattern.len() <= bytes.len()
            && pattern.iter().zip(&bytes[start..]).all(|(p, b)| match p {
                b'd' => b.is_ascii_digit(),
                p => p == b,
            })
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if fits(i) {
            let mut end = i + pattern.len();
            // A zone: ` +0000`.
            if bytes.len() >= end + 6
                && bytes[end] == b' '
                && matches!(bytes[end + 1], b'+' | b'-')
                && bytes[end + 2..end + 6].iter().all(u8::is_ascii_digit)
            {
                end += 6;
            }
            out.push_str("TIME");
            out.extend(std::iter::repeat_n(' ', end - i - 4));
            i = end;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// `*` matches any run of characters; everything else itself.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (index, part) in parts.iter().enumerate() {
        if index == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if index == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            let Some(at) = rest.find(part) else {
                return false;
            };
            rest = &rest[at + part.len()..];
        }
    }
    true
}

/// The allow-list: `PATTERN | REASON` lines, `*` in the pattern matching anything.
fn allow_list() -> Vec<(String, String)> {
    parse_allow_list(ALLOW)
}

/// `PATTERN | REASON` lines of an allow-list file's text.
pub(crate) fn parse_allow_list(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (pattern, reason) = l
                .split_once(" | ")
                .unwrap_or_else(|| panic!("allow.txt line without ' | reason': {l}"));
            assert!(!reason.trim().is_empty(), "allow.txt: no reason in {l}");
            (pattern.trim().to_string(), reason.trim().to_string())
        })
        .collect()
}

/// The hand-written cases, then the generated ones.
fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = CASES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.strip_prefix('!') {
            Some(rest) => Case {
                text: rest.trim().to_string(),
                mutating: true,
            },
            None => Case {
                text: l.to_string(),
                mutating: false,
            },
        })
        .collect();
    let mut add = |text: String| {
        cases.push(Case {
            text,
            mutating: false,
        })
    };
    // Every field singly, with and without headings, and in JSON; the
    // segment and device fields also by segment and across VGs.
    for line in FIELDS.lines().filter(|l| !l.starts_with('#')) {
        let Some((command, field)) = line.split_once(' ') else {
            continue;
        };
        add(format!("{command} -o {field}"));
        add(format!("{command} --noheadings -o {field}"));
        add(format!("{command} --reportformat json -o {field}"));
        if command == "lvs" {
            add(format!(
                "lvs -a --units s --nosuffix -o lv_name,{field} dvg"
            ));
        }
    }
    // Every unit letter, with and without --nosuffix, on each report.
    let sized = [
        ("lvs", "lv_name,lv_size,origin_size,chunk_size"),
        ("vgs", "vg_name,vg_size,vg_free,vg_extent_size"),
        ("pvs", "pv_name,pv_size,pv_free,dev_size,pe_start"),
    ];
    for (command, fields) in sized {
        for unit in "hHbBsSkKmMgGtTpPeErR".chars() {
            add(format!("{command} --units {unit} -o {fields}"));
            add(format!("{command} --units {unit} --nosuffix -o {fields}"));
        }
        for unit in [
            "2k", "1.5m", "512b", "3s", "10M", "0k", "x", "1x", "-1k", "2h", "kk",
        ] {
            add(format!("{command} --units {unit} -o {fields}"));
        }
        add(command.to_string());
        add(format!("{command} --reportformat json"));
        add(format!("{command} --reportformat json_std"));
        add(format!("{command} --reportformat basic"));
        add(format!("{command} --reportformat yaml"));
    }
    // The common options on each command.
    for command in [
        "lvs",
        "vgs",
        "pvs",
        "lvdisplay",
        "vgdisplay",
        "pvdisplay",
        "lvscan",
        "vgscan",
        "pvscan",
    ] {
        for option in [
            "-q",
            "-qq",
            "-v",
            "-d",
            "-t",
            "-y",
            "--nolocking",
            "--nohints",
            "--commandprofile none",
            "--config global{units=\"m\"}",
            "--lockopt none",
            "--bogus",
            "-Z",
        ] {
            add(format!("{command} {option}"));
        }
        add(format!("{command} nosuchvg"));
    }
    cases
}

#[test]
fn lvm2_and_rlvm_print_the_same() {
    if !crate::support::lvm2_available("diff") {
        return;
    }
    let state = tempfile::tempdir().unwrap();
    let mut disks = Disks::new();
    std::fs::create_dir_all(disks.dir.path().join("state")).unwrap();
    disks.build(state.path());
    // rlvm's own state for the read-only cases (its file registry stays empty).
    let cases = cases();
    let results: Mutex<Vec<Option<(Outcome, Outcome)>>> = Mutex::new(vec![None; cases.len()]);
    let next = AtomicUsize::new(0);
    let read_only: Vec<usize> = (0..cases.len()).filter(|&i| !cases[i].mutating).collect();
    std::thread::scope(|scope| {
        // lvm2 spends most of its time waiting, not computing: four at a time.
        for _ in 0..4 {
            scope.spawn(|| loop {
                let at = next.fetch_add(1, Ordering::Relaxed);
                let Some(&index) = read_only.get(at) else {
                    break;
                };
                let outcome = disks.run_case(&cases[index]);
                results.lock().unwrap()[index] = Some(outcome);
            });
        }
    });
    for (index, case) in cases.iter().enumerate().filter(|(_, c)| c.mutating) {
        let outcome = disks.run_case(case);
        results.lock().unwrap()[index] = Some(outcome);
    }
    let results = results.into_inner().unwrap();
    let allow = allow_list();
    let mut allowed_by = vec![0usize; allow.len()];
    let mut identical = 0;
    let mut unexpected = Vec::new();
    let mut detail = String::new();
    for (case, result) in cases.iter().zip(&results) {
        let (theirs, ours) = result.as_ref().expect("every case ran");
        if theirs == ours {
            identical += 1;
            continue;
        }
        let _ = writeln!(
            detail,
            "=== {}{}\n--- lvm2 (exit {:?})\n{}{}{}--- rlvm (exit {:?})\n{}{}{}",
            if case.mutating { "! " } else { "" },
            case.text,
            theirs.status,
            theirs.stdout,
            theirs.stderr,
            theirs.after,
            ours.status,
            ours.stdout,
            ours.stderr,
            ours.after
        );
        let key = if case.mutating {
            format!("!{}", case.text)
        } else {
            case.text.clone()
        };
        match allow.iter().position(|(p, _)| glob(p, &key)) {
            Some(at) => allowed_by[at] += 1,
            None => unexpected.push(key),
        }
    }
    let report = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("diff-report.txt");
    std::fs::write(&report, &detail).unwrap();
    println!(
        "{identical} of {} invocations identical (differences in {})",
        cases.len(),
        report.display()
    );
    for ((pattern, reason), count) in allow.iter().zip(&allowed_by) {
        println!("  allowed {count:4}  {pattern}  ({reason})");
    }
    assert!(
        unexpected.is_empty(),
        "{} differences not in tests/diff/allow.txt (details in {}):\n{}",
        unexpected.len(),
        report.display(),
        unexpected.join("\n")
    );
}

#[test]
fn normalising_keeps_widths_and_finds_ids() {
    assert_eq!(
        normalise_uuids("  a SOHR5S-5VNp-7FAD-h046-p7YR-DDuj-pkIN0P b"),
        format!("  a UUID{} b", " ".repeat(34))
    );
    assert_eq!(
        normalise_times("x 2026-12-01 22:15:33 +0000 y"),
        format!("x TIME{} y", " ".repeat(21))
    );
    assert_eq!(
        normalise_pids("  pvscan[27624] PV x online.\n pvscan[] pvscan[1"),
        "  pvscan[PID] PV x online.\n pvscan[] pvscan[1"
    );
    assert_eq!(
        normalise_uuids(&format!("LVM-{}-real", "aB3".repeat(21) + "x")),
        format!("LVM-UUID{}-real", " ".repeat(60))
    );
    assert_eq!(split_words("lvs -S 'a = b' x"), ["lvs", "-S", "a = b", "x"]);
    assert_eq!(
        replace_word("lvm2 vm (vm) vmx", "vm", "HOST"),
        "lvm2 HOST (HOST) vmx"
    );
    assert!(glob("lvs -o lv_*", "lvs -o lv_time"));
    assert!(glob("* --units x *", "vgs --units x -o a"));
    assert!(!glob("lvs -o lv_*", "vgs -o lv_time"));
}
