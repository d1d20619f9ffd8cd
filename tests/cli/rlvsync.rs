//! `rlvsync` on the embedded engine: rounds of export | apply under a random
//! write workload end with a copy equal to NEW byte for byte (file, LV and
//! NBD targets); kill -9 of apply then --resume ends equal; a flipped byte or
//! a cut anywhere in a stream stops apply with the target holding only whole
//! records; --snapback undoes a round; and the refusals. (The same rounds on
//! the real kernel, with writes during the export, are
//! tests/qemu/scenarios/32-rlvsync-rounds.sh.)

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::support::{assert_exit, Rng, StateDir};

const MIB: u64 = 1 << 20;
const BASE_MIB: u64 = 32;

/// A VG with `base` (random bytes) and a snapshot `mon` of it.
fn setup(state: &StateDir, seed: u64) -> Rng {
    let pv = state.scratch().join("pv0.img");
    std::fs::File::create(&pv)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    state.ok("rpvcreate", &[pv.to_str().unwrap()]);
    state.ok("rvgcreate", &["vg", pv.to_str().unwrap()]);
    state.ok(
        "rlvcreate",
        &["-L", &format!("{BASE_MIB}M"), "-n", "base", "vg"],
    );
    let mut rng = Rng(seed);
    write_at(
        &state.mapper("vg-base"),
        &rng.bytes((BASE_MIB * MIB) as usize),
        0,
    );
    state.ok("rlvcreate", &["-s", "-L", "16M", "-n", "mon", "vg/base"]);
    rng
}

fn write_at(path: &Path, data: &[u8], offset: u64) {
    let file = OpenOptions::new().write(true).open(path).unwrap();
    file.write_all_at(data, offset).unwrap();
    file.sync_data().unwrap();
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Random writes: some single 4 KiB blocks, some unaligned multi-chunk runs.
fn workload(state: &StateDir, rng: &mut Rng, writes: usize) {
    let base = state.mapper("vg-base");
    for _ in 0..writes {
        let len = if rng.below(3) == 0 {
            (rng.below(40) + 1) * 1024 + 8 * rng.below(100)
        } else {
            4096
        };
        let len = len - len % 8;
        let offset = rng.below(BASE_MIB * MIB - len);
        write_at(&base, &rng.bytes(len as usize), offset);
    }
}

fn sync(state: &StateDir, args: &[&str]) -> std::process::Output {
    state.run("rlvsync", args)
}

/// A command's stderr without the scan's warnings about other users' VGs of
/// one name (loop devices on a shared machine): those are not rlvsync's lines.
fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            let duplicate = l.starts_with("WARNING: VG name ") && l.contains(" is used by VGs ");
            !duplicate && !l.starts_with("Fix duplicate VG names")
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// `rlvsync export ... -o - | rlvsync apply - TARGET`, both must succeed; returns export's stderr.
fn pipe(state: &StateDir, export: &[&str], target: &str) -> String {
    let mut exporter = state
        .command("rlvsync")
        .args(export)
        .args(["-o", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stream = exporter.stdout.take().unwrap();
    let applied = state
        .command("rlvsync")
        .args(["apply", "-", target])
        .stdin(stream)
        .output()
        .unwrap();
    let exported = exporter.wait_with_output().unwrap();
    assert_exit(&exported, 0);
    assert_exit(&applied, 0);
    stderr(&exported)
}

#[test]
fn rounds_under_a_write_workload_end_equal_to_new() {
    let state = StateDir::new();
    let mut rng = setup(&state, 0x5eed_0013);
    state.ok(
        "rlvcreate",
        &["-L", &format!("{BASE_MIB}M"), "-n", "copy", "vg"],
    );
    let file = state.scratch().join("copy.img");
    let file = file.to_str().unwrap();
    let nbd = state.nbd_uri("vg-copy");
    let full = state.scratch().join("full.stream");
    state.ok("rlvsync", &["full", "vg/mon", "-o", full.to_str().unwrap()]);
    state.ok("rlvsync", &["apply", full.to_str().unwrap(), file]);
    state.ok("rlvsync", &["apply", full.to_str().unwrap(), &nbd]);
    assert!(read(Path::new(file)) == read(&state.mapper("vg-mon")));
    assert!(read(&state.mapper("vg-copy")) == read(&state.mapper("vg-mon")));
    let mut old = "mon".to_string();
    for round in 0..4 {
        workload(&state, &mut rng, 60);
        let new = if round % 2 == 0 {
            // rlvsync takes NEW itself and says its name where the stream is not.
            let said = pipe(&state, &["export", "--since", &format!("vg/{old}")], file);
            said.trim().strip_prefix("vg/").unwrap().to_string()
        } else {
            // An existing NEW, then writes the stream must not see.
            let new = format!("round{round}");
            state.ok("rlvcreate", &["-s", "-L", "16M", "-n", &new, "vg/base"]);
            workload(&state, &mut rng, 20);
            let stream = state.scratch().join(format!("r{round}.stream"));
            let s = stream.to_str().unwrap();
            let out = state.ok(
                "rlvsync",
                &[
                    "export",
                    "--since",
                    &format!("vg/{old}"),
                    "--at",
                    &format!("vg/{new}"),
                    "-o",
                    s,
                ],
            );
            assert_eq!(out, "", "nothing to say when NEW exists");
            state.ok("rlvsync", &["apply", s, file]);
            state.ok("rlvsync", &["verify", s, file]);
            new
        };
        let expected = read(&state.mapper(&format!("vg-{new}")));
        assert!(
            round % 2 == 0 || expected != read(&state.mapper("vg-base")),
            "round {round}: the origin moved on"
        );
        assert!(
            read(Path::new(file)) == expected,
            "round {round}: file copy differs from vg/{new}"
        );
        // The same round to the LV over NBD.
        pipe(
            &state,
            &[
                "export",
                "--since",
                &format!("vg/{old}"),
                "--at",
                &format!("vg/{new}"),
            ],
            &nbd,
        );
        assert!(
            read(&state.mapper("vg-copy")) == expected,
            "round {round}: LV copy differs"
        );
        state.ok("rlvremove", &["-f", &format!("vg/{old}")]);
        old = new;
    }
    // `rlvm sync` is rlvsync.
    let out = state.ok("rlvm", &["sync", "info", full.to_str().unwrap()]);
    assert!(out.contains("kind          full"), "{out}");
}

/// A round's stream of `changes` random 4 KiB writes, and the copy before and after it.
struct Round {
    stream: PathBuf,
    before: Vec<u8>,
    after: Vec<u8>,
    copy: PathBuf,
}

fn one_round(state: &StateDir, rng: &mut Rng, changes: usize) -> Round {
    let copy = state.scratch().join("copy.img");
    let full = state.scratch().join("full.stream");
    state.ok("rlvsync", &["full", "vg/mon", "-o", full.to_str().unwrap()]);
    state.ok(
        "rlvsync",
        &["apply", full.to_str().unwrap(), copy.to_str().unwrap()],
    );
    let before = read(&copy);
    workload(state, rng, changes);
    state.ok("rlvcreate", &["-s", "-L", "24M", "-n", "new", "vg/base"]);
    let stream = state.scratch().join("round.stream");
    state.ok(
        "rlvsync",
        &[
            "export",
            "--since",
            "vg/mon",
            "--at",
            "vg/new",
            "-o",
            stream.to_str().unwrap(),
        ],
    );
    Round {
        stream,
        before,
        after: read(&state.mapper("vg-new")),
        copy,
    }
}

#[test]
fn kill_9_of_apply_then_resume_ends_equal() {
    let state = StateDir::new();
    let mut rng = setup(&state, 0xdead_0013);
    let round = one_round(&state, &mut rng, 1500);
    let (copy, stream) = (round.copy.to_str().unwrap(), round.stream.to_str().unwrap());
    for attempt in 0..4u64 {
        std::fs::write(&round.copy, &round.before).unwrap();
        let progress = state.scratch().join(".copy.img.rlvsync");
        // The copy's previous round is the full stream: put its progress back.
        let _ = std::fs::remove_file(&progress);
        state.ok(
            "rlvsync",
            &[
                "apply",
                "--force",
                state.scratch().join("full.stream").to_str().unwrap(),
                copy,
            ],
        );
        let mut child = state
            .command("rlvsync")
            .args(["apply", "--checkpoint", "64k", stream, copy])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(40 + attempt * 30)));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let text = std::fs::read_to_string(&progress).unwrap();
        let resumed = state.run("rlvsync", &["apply", "--resume", stream, copy]);
        assert_exit(&resumed, 0);
        assert!(
            read(&round.copy) == round.after,
            "attempt {attempt} (killed: {status}, progress:\n{text}): copy differs after --resume"
        );
    }
    // Resuming from a stream holding only the rest: export --from-chunk.
    std::fs::write(&round.copy, &round.before).unwrap();
    let progress = state.scratch().join(".copy.img.rlvsync");
    state.ok(
        "rlvsync",
        &[
            "apply",
            "--force",
            state.scratch().join("full.stream").to_str().unwrap(),
            copy,
        ],
    );
    let cut = cut_stream_after_records(&read(&round.stream), 600);
    let partial = state.scratch().join("partial.stream");
    std::fs::write(&partial, &cut).unwrap();
    let out = sync(
        &state,
        &[
            "apply",
            "--checkpoint",
            "4k",
            partial.to_str().unwrap(),
            copy,
        ],
    );
    assert_exit(&out, 5);
    let text = std::fs::read_to_string(&progress).unwrap();
    let next: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("next_chunk="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(next > 0, "{text}");
    let rest = state.scratch().join("rest.stream");
    state.ok(
        "rlvsync",
        &[
            "export",
            "--since",
            "vg/mon",
            "--at",
            "vg/new",
            "--from-chunk",
            &next.to_string(),
            "-o",
            rest.to_str().unwrap(),
        ],
    );
    assert!(
        std::fs::metadata(&rest).unwrap().len() < std::fs::metadata(&round.stream).unwrap().len()
    );
    let plain = sync(&state, &["apply", rest.to_str().unwrap(), copy]);
    assert_exit(&plain, 5);
    assert!(stderr(&plain).contains("--resume"), "{}", stderr(&plain));
    state.ok(
        "rlvsync",
        &["apply", "--resume", rest.to_str().unwrap(), copy],
    );
    assert!(
        read(&round.copy) == round.after,
        "copy differs after resuming from --from-chunk"
    );
}

#[test]
fn kill_9_then_resume_from_the_targets_progress_sends_only_the_rest() {
    let state = StateDir::new();
    let mut rng = setup(&state, 0x2e57_0013);
    let round = one_round(&state, &mut rng, 1500);
    let (copy, stream) = (round.copy.to_str().unwrap(), round.stream.to_str().unwrap());
    let full = state.scratch().join("full.stream");
    let whole = read(&round.stream);
    let chunks: Vec<u64> = record_offsets(&whole)
        .iter()
        .take_while(|&&at| at + 8 <= whole.len())
        .map(|&at| u64::from_le_bytes(whole[at..at + 8].try_into().unwrap()))
        .filter(|&c| c != u64::MAX)
        .collect();
    let mut shorter = 0;
    for attempt in 0..4u64 {
        std::fs::write(&round.copy, &round.before).unwrap();
        let _ = std::fs::remove_file(state.scratch().join(".copy.img.rlvsync"));
        state.ok(
            "rlvsync",
            &["apply", "--force", full.to_str().unwrap(), copy],
        );
        let mut child = state
            .command("rlvsync")
            .args(["apply", "--checkpoint", "64k", stream, copy])
            .spawn()
            .unwrap();
        // Killed once the progress file says part of this round is on the copy (or at a random time).
        let progress_file = state.scratch().join(".copy.img.rlvsync");
        let patience = std::time::Instant::now();
        while attempt % 2 == 0 && patience.elapsed() < Duration::from_secs(20) {
            let text = std::fs::read_to_string(&progress_file).unwrap_or_default();
            let started = text.contains("kind=incremental")
                && !text.contains("next_chunk=0\n")
                && text.contains("next_chunk=");
            if started || child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        if attempt % 2 == 1 {
            std::thread::sleep(Duration::from_millis(rng.below(60 + attempt * 40)));
        }
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        // The sending side learns from the target's progress how far it got.
        let progress = state.ok("rlvsync", &["progress", copy]);
        let next: u64 = progress
            .lines()
            .find_map(|l| l.strip_prefix("next_chunk="))
            .unwrap_or_else(|| panic!("{progress}"))
            .parse()
            .unwrap();
        let recorded = state.scratch().join("recorded.progress");
        std::fs::write(&recorded, &progress).unwrap();
        let rest = state.scratch().join("rest.stream");
        let rest_s = rest.to_str().unwrap();
        state.ok(
            "rlvsync",
            &[
                "export",
                "--since",
                "vg/mon",
                "--at",
                "vg/new",
                "--resume-from",
                recorded.to_str().unwrap(),
                "-o",
                rest_s,
            ],
        );
        let info = state.ok("rlvsync", &["info", rest_s]);
        // Killed before apply recorded this round (the file still holds the full one): all of it.
        let planned = if progress.contains("kind=full") {
            chunks.len()
        } else if progress.contains("state=done") {
            0
        } else {
            chunks.iter().filter(|&&c| c >= next).count()
        };
        assert!(
            info.contains(&format!("records       {planned}\n")),
            "attempt {attempt} (killed: {status}): the rest holds only chunks from {next}:\n{info}"
        );
        if planned < chunks.len() {
            shorter += 1;
        }
        state.ok("rlvsync", &["apply", "--resume", rest_s, copy]);
        assert!(
            read(&round.copy) == round.after,
            "attempt {attempt} (killed: {status}, progress:\n{progress}): copy differs after resuming from the rest"
        );
    }
    assert!(
        shorter > 0,
        "no kill landed after a checkpoint: nothing was left out"
    );
    // A progress file of another round is refused on the sending side.
    let other = state
        .ok("rlvsync", &["progress", copy])
        .replace("old_name=mon", "old_name=other");
    let other_file = state.scratch().join("other.progress");
    std::fs::write(&other_file, other).unwrap();
    let refused = sync(
        &state,
        &[
            "export",
            "--since",
            "vg/mon",
            "--at",
            "vg/new",
            "--resume-from",
            other_file.to_str().unwrap(),
            "-o",
            "/dev/null",
        ],
    );
    assert_exit(&refused, 5);
    assert!(
        stderr(&refused).contains("cannot resume"),
        "{}",
        stderr(&refused)
    );
}

/// The stream's bytes up to and including record `n` (0-based), no trailer.
fn cut_stream_after_records(stream: &[u8], n: usize) -> Vec<u8> {
    let offsets = record_offsets(stream);
    stream[..offsets[n + 1]].to_vec()
}

/// Offsets of every record head, then of the trailer.
fn record_offsets(stream: &[u8]) -> Vec<usize> {
    let mut at = u32::from_le_bytes(stream[12..16].try_into().unwrap()) as usize;
    let mut out = Vec::new();
    loop {
        out.push(at);
        let chunk = u64::from_le_bytes(stream[at..at + 8].try_into().unwrap());
        if chunk == u64::MAX {
            return out;
        }
        at += 16 + u32::from_le_bytes(stream[at + 8..at + 12].try_into().unwrap()) as usize;
    }
}

/// The copy with the first `n` records of `stream` applied to `before`.
fn with_records(before: &[u8], stream: &[u8], n: usize) -> Vec<u8> {
    let chunk_bytes = u32::from_le_bytes(stream[20..24].try_into().unwrap()) as usize;
    let mut out = before.to_vec();
    for &at in record_offsets(stream).iter().take(n) {
        let chunk = u64::from_le_bytes(stream[at..at + 8].try_into().unwrap()) as usize;
        let len = u32::from_le_bytes(stream[at + 8..at + 12].try_into().unwrap()) as usize;
        out[chunk * chunk_bytes..chunk * chunk_bytes + len]
            .copy_from_slice(&stream[at + 16..at + 16 + len]);
    }
    out
}

#[test]
fn a_flipped_byte_or_a_cut_stops_apply_with_only_whole_records_written() {
    let state = StateDir::new();
    let mut rng = setup(&state, 0xf11b_0013);
    let round = one_round(&state, &mut rng, 40);
    let bytes = read(&round.stream);
    let offsets = record_offsets(&bytes);
    let records = offsets.len() - 1;
    let damaged = state.scratch().join("damaged.stream");
    let copy = round.copy.to_str().unwrap();
    let mut cases: Vec<(String, Vec<u8>, usize)> = Vec::new();
    // Flips: in the header, in a record head, in record data, in the trailer.
    let header_len = offsets[0];
    let mut flip = |what: &str, at: usize, whole: usize| {
        let mut b = bytes.clone();
        b[at] ^= 0x10;
        cases.push((format!("{what} flipped at {at}"), b, whole));
    };
    flip("header", rng.below(header_len as u64) as usize, 0);
    for _ in 0..6 {
        let r = rng.below(records as u64) as usize;
        let span = offsets[r + 1] - offsets[r];
        flip("record", offsets[r] + rng.below(span as u64) as usize, r);
    }
    flip(
        "trailer",
        offsets[records] + rng.below(60) as usize,
        records,
    );
    for _ in 0..6 {
        let at = rng.below(bytes.len() as u64) as usize;
        // Records wholly before the cut are whole; the one the cut falls in is not.
        let whole = (0..records).filter(|&r| offsets[r + 1] <= at).count();
        cases.push((format!("cut at {at}"), bytes[..at].to_vec(), whole));
    }
    for (what, stream, whole) in cases {
        std::fs::write(&round.copy, &round.before).unwrap();
        std::fs::write(&damaged, &stream).unwrap();
        let out = sync(
            &state,
            &["apply", "--force", damaged.to_str().unwrap(), copy],
        );
        assert_exit(&out, 5);
        let err = stderr(&out);
        assert!(
            err.starts_with("rlvsync: ") && err.lines().count() == 1,
            "{what}: {err}"
        );
        assert!(
            [
                "record",
                "header",
                "trailer",
                "truncated",
                "magic",
                "digest"
            ]
            .iter()
            .any(|w| err.contains(w)),
            "{what}: {err}"
        );
        assert!(
            read(&round.copy) == with_records(&round.before, &bytes, whole),
            "{what}: the copy is not the first {whole} records applied ({err})"
        );
    }
    // The undamaged stream still applies.
    state.ok(
        "rlvsync",
        &["apply", "--force", round.stream.to_str().unwrap(), copy],
    );
    assert!(read(&round.copy) == round.after);
}

#[test]
fn snapback_then_applying_it_restores_the_copy() {
    let state = StateDir::new();
    let mut rng = setup(&state, 0x5bac_0013);
    let round = one_round(&state, &mut rng, 80);
    let (copy, stream) = (round.copy.to_str().unwrap(), round.stream.to_str().unwrap());
    let snapback = state.scratch().join("undo.stream");
    let sb = snapback.to_str().unwrap();
    state.ok("rlvsync", &["apply", "--snapback", sb, stream, copy]);
    assert!(read(&round.copy) == round.after);
    let info = state.ok("rlvsync", &["info", sb]);
    assert!(info.contains("kind          snapback"), "{info}");
    // A second snapback over the first is refused: it may be the only undo.
    let again = sync(&state, &["apply", "--snapback", sb, stream, copy]);
    assert_exit(&again, 5);
    state.ok("rlvsync", &["apply", sb, copy]);
    assert!(
        read(&round.copy) == round.before,
        "the snapback did not restore the copy"
    );
    // Killed mid-apply with --snapback, resumed with it: the snapback still undoes the whole round.
    for attempt in 0..3u64 {
        std::fs::remove_file(&snapback).unwrap();
        let mut child = state
            .command("rlvsync")
            .args([
                "apply",
                "--checkpoint",
                "16k",
                "--snapback",
                sb,
                stream,
                copy,
            ])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(30 + attempt * 20)));
        let _ = child.kill();
        let _ = child.wait();
        let resumed = sync(
            &state,
            &["apply", "--resume", "--snapback", sb, stream, copy],
        );
        assert_exit(&resumed, 0);
        assert!(
            read(&round.copy) == round.after,
            "attempt {attempt}: resumed apply differs"
        );
        state.ok("rlvsync", &["apply", sb, copy]);
        assert!(
            read(&round.copy) == round.before,
            "attempt {attempt}: snapback after resume differs"
        );
    }
}

#[test]
fn refusals_are_one_clear_line() {
    let state = StateDir::new();
    let mut rng = setup(&state, 0x0ef5_0013);
    let refused = |args: &[&str], needle: &str| {
        let out = sync(&state, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(5), "{args:?}: {err}");
        assert!(
            err.contains(needle) && err.lines().count() == 1,
            "{args:?}: {err}"
        );
    };
    refused(
        &["export", "--since", "vg/base", "-o", "/dev/null"],
        "vg/base is not a snapshot",
    );
    refused(
        &["full", "vg/nosuch", "-o", "/dev/null"],
        "vg/nosuch is not a snapshot",
    );

    // A snapshot of another origin as NEW.
    state.ok("rlvcreate", &["-L", "8M", "-n", "other", "vg"]);
    state.ok(
        "rlvcreate",
        &["-s", "-L", "8M", "-n", "othersnap", "vg/other"],
    );
    refused(
        &[
            "export",
            "--since",
            "vg/mon",
            "--at",
            "vg/othersnap",
            "-o",
            "/dev/null",
        ],
        "is a snapshot of base",
    );
    // A COW of another origin, offline: it lists chunks past the end of the image.
    workload(&state, &mut rng, 30);
    let cow = state.scratch().join("mon-cow.img");
    std::fs::write(&cow, read(&state.mapper("vg-mon-cow"))).unwrap();
    let small = state.scratch().join("small.img");
    std::fs::File::create(&small)
        .unwrap()
        .set_len(64 << 10)
        .unwrap();
    refused(
        &[
            "export",
            "--cow",
            cow.to_str().unwrap(),
            "--origin",
            small.to_str().unwrap(),
            "-o",
            "/dev/null",
        ],
        "belongs to another origin",
    );
    // ... while with its own origin (an image of it) the offline form works.
    let origin = state.scratch().join("origin.img");
    std::fs::write(&origin, read(&state.mapper("vg-base"))).unwrap();
    let offline = state.scratch().join("offline.stream");
    state.ok(
        "rlvsync",
        &[
            "export",
            "--cow",
            cow.to_str().unwrap(),
            "--origin",
            origin.to_str().unwrap(),
            "-o",
            offline.to_str().unwrap(),
        ],
    );
    let info = state.ok("rlvsync", &["info", "--json", offline.to_str().unwrap()]);
    let info: serde_json::Value = serde_json::from_str(info.trim()).unwrap();
    assert!(info["records"].as_u64().unwrap() >= 30, "{info}");

    // A transient (N) snapshot: its list lived in the table only, so a
    // snapshot device rebuilt with N (a reload over the same COW would hand the
    // persistent store over, as the kernel does) has no list of what changed.
    let table = state.ok("rdmsetup", &["table", "vg-othersnap"]);
    let transient = table.trim().replace(" P ", " N ");
    assert_ne!(transient, table.trim());
    state.ok("rdmsetup", &["remove", "vg-othersnap"]);
    state.ok(
        "rdmsetup",
        &["create", "vg-othersnap", "--table", &transient],
    );
    assert!(state
        .ok("rdmsetup", &["table", "vg-othersnap"])
        .contains(" N "));
    refused(
        &[
            "export",
            "--since",
            "vg/othersnap",
            "--at",
            "vg/othersnap",
            "-o",
            "/dev/null",
        ],
        "transient (N) snapshot",
    );

    // An invalid snapshot: its COW overflowed.
    state.ok("rlvcreate", &["-s", "-L", "4M", "-n", "tiny", "vg/base"]);
    write_at(&state.mapper("vg-base"), &rng.bytes((8 * MIB) as usize), 0);
    refused(
        &[
            "export",
            "--since",
            "vg/tiny",
            "--at",
            "vg/mon",
            "-o",
            "/dev/null",
        ],
        "vg/tiny is invalid",
    );
    state.ok("rlvremove", &["-f", "vg/tiny"]);

    // A merging snapshot (deferred until the origin is activated again).
    state.ok("rlvchange", &["-an", "vg/base"]);
    state.ok("rlvconvert", &["--merge", "vg/mon"]);
    refused(
        &["export", "--since", "vg/mon", "-o", "/dev/null"],
        "vg/mon is merging",
    );

    // apply refuses what does not follow the target's previous round.
    let stream = state.scratch().join("s.stream");
    std::fs::write(&stream, b"not a stream at all, just text\n").unwrap();
    refused(
        &[
            "apply",
            stream.to_str().unwrap(),
            state.scratch().join("x.img").to_str().unwrap(),
        ],
        "not an rlvsync stream",
    );
    let copy = state.scratch().join("fresh.img");
    refused(
        &["apply", offline.to_str().unwrap(), copy.to_str().unwrap()],
        "apply a full stream first",
    );
    assert!(!copy.exists() || read(&copy).iter().all(|&b| b == 0));
}

#[test]
fn apply_refuses_a_stream_of_another_round_or_volume() {
    let state = StateDir::new();
    let mut rng = setup(&state, 0xab1e_0013);
    let round = one_round(&state, &mut rng, 20);
    let (copy, stream) = (round.copy.to_str().unwrap(), round.stream.to_str().unwrap());
    state.ok("rlvsync", &["apply", stream, copy]);
    // The next round must start from vg/new; a stream from vg/mon to a later snapshot does not follow.
    workload(&state, &mut rng, 20);
    state.ok("rlvcreate", &["-s", "-L", "16M", "-n", "later", "vg/base"]);
    let skip = state.scratch().join("skip.stream");
    state.ok(
        "rlvsync",
        &[
            "export",
            "--since",
            "vg/mon",
            "--at",
            "vg/later",
            "-o",
            skip.to_str().unwrap(),
        ],
    );
    let out = sync(&state, &["apply", skip.to_str().unwrap(), copy]);
    assert_exit(&out, 5);
    assert!(
        stderr(&out).contains("the stream starts from mon") && stderr(&out).contains("--force"),
        "{}",
        stderr(&out)
    );
    // A stream of another volume.
    state.ok(
        "rlvcreate",
        &["-L", &format!("{BASE_MIB}M"), "-n", "other", "vg"],
    );
    state.ok(
        "rlvcreate",
        &["-s", "-L", "8M", "-n", "othersnap", "vg/other"],
    );
    let other = state.scratch().join("other.stream");
    state.ok(
        "rlvsync",
        &["full", "vg/othersnap", "-o", other.to_str().unwrap()],
    );
    let out = sync(&state, &["apply", other.to_str().unwrap(), copy]);
    assert_exit(&out, 5);
    assert!(
        stderr(&out).contains("previous round was of vg/base"),
        "{}",
        stderr(&out)
    );
    assert!(
        read(&round.copy) == round.after,
        "a refused stream changed the copy"
    );
    // The right next round applies.
    let next = state.scratch().join("next.stream");
    state.ok(
        "rlvsync",
        &[
            "export",
            "--since",
            "vg/new",
            "--at",
            "vg/later",
            "-o",
            next.to_str().unwrap(),
        ],
    );
    state.ok("rlvsync", &["apply", next.to_str().unwrap(), copy]);
    assert!(read(&round.copy) == read(&state.mapper("vg-later")));
}
