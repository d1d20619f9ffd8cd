//! rlvmonitor on the userspace engine: a steady write load on an origin with
//! the monitor running. The writer pauses at each step the monitor must act
//! on until the monitor has acted (or a deadline passes, which fails the
//! test), so the outcome does not depend on the machine's speed.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{assert_exit, Rng, StateDir};

/// The writer's unit: 4 KiB, as a file system writes.
const CHUNK: usize = 4096;
/// Origin size: 32 MiB of 4 KiB units.
const ORIGIN_CHUNKS: u64 = 8192;
/// The snapshots' chunk size: 16 KiB, so a 4 MiB COW fills in 256 writes
/// and the tests stay quick on a debug build.
const SNAP_CHUNK: u64 = 16384;
/// Snapshot chunks in the origin.
const SNAP_CHUNKS: u64 = ORIGIN_CHUNKS * CHUNK as u64 / SNAP_CHUNK;
/// How long the monitor gets to act on a step before the test fails.
const DEADLINE: Duration = Duration::from_secs(20);
const POLICY: &str =
    "activation/snapshot_autoextend_threshold=70 activation/snapshot_autoextend_percent=50";

/// `program` for `state`, with a private lvm lock directory.
fn command(state: &StateDir, program: &str) -> Command {
    let mut command = state.command(program);
    command.env("RLVM_LOCK_DIR", state.scratch().join("locks"));
    command.env("RLVM_CONFIG", state.scratch().join("lvm.conf"));
    command
}

#[track_caller]
fn ok(state: &StateDir, program: &str, args: &[&str]) -> String {
    let out = command(state, program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert_exit(&out, 0);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The original content of origin chunk `i`: every 8 bytes name the chunk and the offset.
fn original(i: u64) -> Vec<u8> {
    (0..CHUNK as u64 / 8)
        .flat_map(|j| ((i << 32) | j).to_le_bytes())
        .collect()
}

/// A VG on an image file with `base` (32 MiB, filled with [`original`]) and
/// `snap`, a snapshot of it with a 4 MiB COW of 16 KiB chunks; `filler` takes every free
/// extent left when `full` is set.
fn setup(state: &StateDir, vg: &str, full: bool) {
    let image = state.scratch().join("pv.img");
    File::create(&image)
        .and_then(|f| f.set_len(96 << 20))
        .expect("image file");
    std::fs::write(state.scratch().join("lvm.conf"), "").expect("empty lvm.conf");
    let image = image.to_str().unwrap();
    ok(state, "rpvcreate", &[image]);
    ok(state, "rvgcreate", &["-s", "1M", vg, image]);
    ok(state, "rlvcreate", &["-L", "32M", "-n", "base", vg]);
    let origin = open_rw(state, &format!("{vg}-base"));
    let mut block = Vec::with_capacity(256 * CHUNK);
    for i in 0..ORIGIN_CHUNKS {
        block.extend(original(i));
        if block.len() == 256 * CHUNK {
            let at = (i + 1) * CHUNK as u64 - block.len() as u64;
            origin.write_all_at(&block, at).expect("filling the origin");
            block.clear();
        }
    }
    drop(origin);
    ok(
        state,
        "rlvcreate",
        &[
            "-L",
            "4M",
            "-c",
            "16k",
            "-s",
            "-n",
            "snap",
            &format!("{vg}/base"),
        ],
    );
    if full {
        ok(
            state,
            "rlvcreate",
            &["-an", "-l", "100%FREE", "-n", "filler", vg],
        );
    }
}

fn open_rw(state: &StateDir, dm_name: &str) -> File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(state.mapper(dm_name))
        .unwrap_or_else(|e| panic!("opening {}: {e}", state.mapper(dm_name).display()))
}

/// A snapshot's state as `rdmsetup status` shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fill {
    /// Allocated and total COW sectors.
    Usage(u64, u64),
    Invalid,
}

impl Fill {
    fn percent(self) -> f64 {
        match self {
            Fill::Usage(allocated, total) => allocated as f64 * 100.0 / total as f64,
            Fill::Invalid => 100.0,
        }
    }
}

fn fill(state: &StateDir, dm_name: &str) -> Fill {
    let line = state.ok("rdmsetup", &["status", dm_name]);
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        fields.get(2),
        Some(&"snapshot"),
        "status of {dm_name}: {line}"
    );
    match fields.get(3) {
        Some(&"Invalid") => Fill::Invalid,
        Some(usage) => {
            let (allocated, total) = usage.split_once('/').expect("allocated/total");
            Fill::Usage(allocated.parse().unwrap(), total.parse().unwrap())
        }
        None => panic!("status of {dm_name}: {line}"),
    }
}

/// A running `rlvmonitor --foreground --json`, its events collected as they
/// come. Its stdout is a pipe named in `JOURNAL_STREAM`, as a unit's
/// journal stream is, so each line carries its syslog priority as a `<N>`
/// prefix, recorded in the event as `"priority"`.
struct Monitor {
    child: Child,
    events: Arc<Mutex<Vec<Value>>>,
    stderr: std::path::PathBuf,
}

impl Monitor {
    fn start(
        state: &StateDir,
        interval: &str,
        policy: Option<&str>,
        events: Arc<Mutex<Vec<Value>>>,
    ) -> Self {
        let stderr = state.scratch().join("monitor.err");
        let mut cmd = command(state, "rlvmonitor");
        cmd.args(["--foreground", "--interval", interval, "--json"]);
        if let Some(policy) = policy {
            cmd.args(["--config", policy]);
        }
        let (read, write) = nix::unistd::pipe().expect("pipe");
        let stream = nix::sys::stat::fstat(std::os::fd::AsRawFd::as_raw_fd(&write)).expect("fstat");
        cmd.env(
            "JOURNAL_STREAM",
            format!("{}:{}", stream.st_dev, stream.st_ino),
        );
        let child = cmd
            .stdout(Stdio::from(write))
            .stderr(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&stderr)
                    .expect("monitor log"),
            )
            .spawn()
            .expect("starting rlvmonitor");
        drop(cmd);
        let stdout = File::from(read);
        let sink = events.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let (priority, json) = line
                    .strip_prefix('<')
                    .and_then(|rest| rest.split_once('>'))
                    .unwrap_or_else(|| panic!("no <priority> prefix: {line}"));
                let mut event: Value = serde_json::from_str(json)
                    .unwrap_or_else(|e| panic!("not a JSON event line ({e}): {line}"));
                event["priority"] = priority.parse::<u8>().expect("priority").into();
                sink.lock().unwrap().push(event);
            }
        });
        Self {
            child,
            events,
            stderr,
        }
    }

    #[track_caller]
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "rlvmonitor exited ({status}); stderr:\n{}",
                std::fs::read_to_string(&self.stderr).unwrap_or_default()
            );
        }
    }

    fn events(&self) -> Vec<Value> {
        self.events.lock().unwrap().clone()
    }

    /// Wait until an event satisfies `wanted`; fail after [`DEADLINE`].
    #[track_caller]
    fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Duration {
        self.wait_until(what, |events| events.iter().any(&wanted))
    }

    /// Wait until the events so far satisfy `done`; fail after [`DEADLINE`].
    #[track_caller]
    fn wait_until(&mut self, what: &str, done: impl Fn(&[Value]) -> bool) -> Duration {
        let start = Instant::now();
        loop {
            if done(&self.events()) {
                return start.elapsed();
            }
            self.assert_running();
            assert!(
                start.elapsed() < DEADLINE,
                "no {what} from rlvmonitor within {DEADLINE:?}; events: {:#?}",
                self.events()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, as a crash or the OOM killer would.
    fn kill9(mut self) {
        self.child.kill().expect("kill -9 rlvmonitor");
        let _ = self.child.wait();
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn action(event: &Value) -> &str {
    event["action"].as_str().unwrap_or_default()
}

fn percent(event: &Value) -> f64 {
    event["percent"].as_f64().unwrap_or(-1.0)
}

/// The writer: random 4 KiB writes to the origin, each in a snapshot chunk
/// not written before, in small batches.
struct Writer {
    origin: File,
    order: Vec<u64>,
    next: usize,
    rng: Rng,
    written: Vec<(u64, Vec<u8>)>,
}

impl Writer {
    fn new(state: &StateDir, vg: &str, seed: u64) -> Self {
        let mut rng = Rng(seed);
        Self {
            origin: open_rw(state, &format!("{vg}-base")),
            order: rng.permutation(SNAP_CHUNKS),
            next: 0,
            rng,
            written: Vec::new(),
        }
    }

    /// Write toward `level` % of the COW: most of the way in one go when it
    /// is far, else 4 chunks (1.6 % of a 4 MiB COW), so the monitor sees
    /// each step it must act on.
    fn toward(&mut self, now: Fill, level: f64) {
        let far = match now {
            // A write is one exception of 32 sectors (metadata adds a chunk per 1024).
            Fill::Usage(allocated, total) => {
                let goal = (level - 2.0) / 100.0 * total as f64;
                ((goal - allocated as f64) / (SNAP_CHUNK / 512) as f64).max(0.0) as usize
            }
            Fill::Invalid => 0,
        };
        self.burst(far.max(4));
    }

    /// Write `n` snapshot chunks, 4 KiB of random data somewhere in each.
    fn burst(&mut self, n: usize) {
        for _ in 0..n {
            let unit = self.order[self.next] * (SNAP_CHUNK / CHUNK as u64)
                + self.rng.next() % (SNAP_CHUNK / CHUNK as u64);
            self.next += 1;
            let data = self.rng.bytes(CHUNK);
            self.origin
                .write_all_at(&data, unit * CHUNK as u64)
                .expect("writing the origin");
            self.written.push((unit, data));
        }
    }
}

/// The snapshot still shows the origin as it was, and the origin shows what was written.
#[track_caller]
fn assert_contents(state: &StateDir, vg: &str, writer: &Writer) {
    let snap = open_rw(state, &format!("{vg}-snap"));
    let mut block = vec![0u8; 256 * CHUNK];
    for first in (0..ORIGIN_CHUNKS).step_by(256) {
        snap.read_exact_at(&mut block, first * CHUNK as u64)
            .expect("reading the snapshot");
        for (k, got) in block.chunks(CHUNK).enumerate() {
            let i = first + k as u64;
            assert!(
                got == original(i).as_slice(),
                "snapshot chunk {i} differs from the origin's original content"
            );
        }
    }
    let mut got = vec![0u8; CHUNK];
    for (chunk, data) in &writer.written {
        writer
            .origin
            .read_exact_at(&mut got, chunk * CHUNK as u64)
            .expect("reading the origin");
        assert!(got == *data, "origin chunk {chunk} lost a write");
    }
}

/// The snapshot's size in MiB as rlvs reports it (lvm2's Snap LSize: the COW).
fn rlvs_size_mib(state: &StateDir, lv: &str) -> u64 {
    let text = ok(
        state,
        "rlvs",
        &[
            "--noheadings",
            "--nosuffix",
            "--units",
            "m",
            "-o",
            "lv_size",
            lv,
        ],
    );
    text.trim()
        .parse::<f64>()
        .unwrap_or_else(|_| panic!("rlvs size of {lv}: {text:?}")) as u64
}

/// The 5 % levels of the warnings among `events`, in order.
fn warning_levels(events: &[Value]) -> Vec<u32> {
    events
        .iter()
        .filter(|e| action(e) == "warning")
        .map(|e| (percent(e) / 5.0).floor() as u32 * 5)
        .collect()
}

#[test]
fn autoextend_keeps_a_filling_snapshot_valid() {
    let state = StateDir::new();
    setup(&state, "mona", false);
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut monitor = Monitor::start(&state, "0.2", Some(POLICY), events);
    let mut writer = Writer::new(&state, "mona", 0x5eed_0001);
    let mut sizes = vec![rlvs_size_mib(&state, "mona/snap")];
    let Fill::Usage(_, mut total) = fill(&state, "mona-snap") else {
        panic!("a fresh snapshot is invalid");
    };
    let mut crossed: Option<Instant> = None;
    let mut slowest = Duration::ZERO;
    // 1000 new chunks: about 16 MiB of COW, four times what it starts with.
    let mut now = fill(&state, "mona-snap");
    while writer.next < 1000 {
        writer.toward(now, 70.0);
        now = fill(&state, "mona-snap");
        if now.percent() > 70.0 && crossed.is_none() {
            crossed = Some(Instant::now());
        }
        // Past the threshold with some margin: no more writes until the monitor has grown the COW.
        let paused = Instant::now();
        while now.percent() > 72.0 {
            monitor.assert_running();
            assert!(
                paused.elapsed() < DEADLINE,
                "the COW was not extended within {DEADLINE:?} at {:.2} %; events: {:#?}",
                now.percent(),
                monitor.events()
            );
            std::thread::sleep(Duration::from_millis(20));
            now = fill(&state, "mona-snap");
        }
        match now {
            Fill::Invalid => panic!("the snapshot was invalidated; {:#?}", monitor.events()),
            Fill::Usage(_, grown) if grown != total => {
                assert!(grown > total, "the COW shrank: {total} -> {grown} sectors");
                total = grown;
                slowest = slowest.max(crossed.take().map_or(Duration::ZERO, |t| t.elapsed()));
                sizes.push(rlvs_size_mib(&state, "mona/snap"));
            }
            Fill::Usage(..) => {}
        }
    }
    let extensions = sizes.len() - 1;
    monitor.wait_until("an event for every extension", |events| {
        events.iter().filter(|e| action(e) == "extended").count() >= extensions
    });
    let Fill::Usage(allocated, total) = fill(&state, "mona-snap") else {
        panic!("the snapshot ended invalid");
    };
    println!(
        "COW grew {sizes:?} MiB; the slowest extension came {slowest:?} after the 70 % crossing; \
         ended at {allocated}/{total} sectors"
    );
    // It started at 4 MiB and had to hold about 16 MiB.
    assert!(extensions >= 4, "only {extensions} extensions: {sizes:?}");
    // lvm2's arithmetic: each step adds 50 % of the current size, rounded up to whole extents.
    for pair in sizes.windows(2) {
        assert_eq!(
            pair[1],
            pair[0] + (pair[0] * 50).div_ceil(100),
            "sizes {sizes:?} do not grow by 50 % per step"
        );
    }
    assert_eq!(
        total / 2048,
        *sizes.last().unwrap(),
        "the COW device and rlvs disagree"
    );
    let events = monitor.events();
    assert!(
        events.iter().all(|e| action(e) == "extended"),
        "only extensions were expected under 80 %: {events:#?}"
    );
    let reported: Vec<String> = events
        .iter()
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect();
    let expected: Vec<String> = sizes[1..]
        .iter()
        .map(|size| format!("Extended snapshot mona/snap by 50% to {size} MiB."))
        .collect();
    assert_eq!(reported, expected);
    drop(monitor);
    assert_contents(&state, "mona", &writer);
}

#[test]
fn a_full_vg_warns_in_order_then_reports_the_invalidation() {
    let state = StateDir::new();
    setup(&state, "monb", true);
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut monitor = Monitor::start(&state, "0.2", Some(POLICY), events);
    let mut writer = Writer::new(&state, "monb", 0x5eed_0002);
    // The writer waits at each step for the monitor's word on it.
    let steps = [
        (70.0, "no-space"),
        (80.0, "warning"),
        (85.0, "warning"),
        (90.0, "warning"),
        (95.0, "warning"),
    ];
    let mut step = 0;
    let mut now = fill(&state, "monb-snap");
    loop {
        writer.toward(now, steps.get(step).map_or(100.0, |s| s.0));
        now = fill(&state, "monb-snap");
        if now == Fill::Invalid {
            break;
        }
        while step < steps.len() && now.percent() >= steps[step].0 {
            let (level, act) = steps[step];
            monitor.wait_for(&format!("{act} at {level} %"), |e| {
                action(e) == act && percent(e) >= level
            });
            step += 1;
        }
        assert!(
            writer.next + 8 <= SNAP_CHUNKS as usize,
            "the snapshot never filled"
        );
    }
    assert_eq!(step, steps.len(), "invalidated before every step was seen");
    monitor.wait_for("the invalidation", |e| action(e) == "invalid");
    // A few more looks: nothing is repeated.
    std::thread::sleep(Duration::from_millis(800));
    let events = monitor.events();
    assert_eq!(warning_levels(&events), [80, 85, 90, 95], "{events:#?}");
    let position = |act: &str| events.iter().position(|e| action(e) == act);
    let invalid = position("invalid").unwrap();
    assert_eq!(
        events.iter().filter(|e| action(e) == "invalid").count(),
        1,
        "the invalidation is reported once: {events:#?}"
    );
    assert_eq!(invalid, events.len() - 1, "the invalidation comes last");
    assert!(
        position("no-space").unwrap() < position("warning").unwrap(),
        "the monitor says it cannot extend before the first warning: {events:#?}"
    );
    assert!(position("extended").is_none(), "{events:#?}");
    assert_eq!(
        events[invalid]["message"],
        "WARNING: Snapshot monb/snap changed state to: Invalid and should be removed."
    );
    // In the journal: LOG_WARNING for each fill level, LOG_ERR for the invalidation.
    for event in &events {
        let wanted = match action(event) {
            "warning" => 4,
            "invalid" | "no-space" => 3,
            _ => continue,
        };
        assert_eq!(event["priority"], wanted, "{event:#?}");
    }
    let attr = ok(
        &state,
        "rlvs",
        &["--noheadings", "-o", "lv_attr", "monb/snap"],
    );
    assert_eq!(attr.trim().chars().nth(4), Some('I'), "lv_attr {attr:?}");
}

#[test]
fn a_killed_monitor_restarts_without_losing_or_repeating_a_step() {
    let state = StateDir::new();
    setup(&state, "monc", false);
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut writer = Writer::new(&state, "monc", 0x5eed_0003);
    let write_to = |writer: &mut Writer, level: f64| {
        let mut now = fill(&state, "monc-snap");
        while now.percent() < level {
            writer.toward(now, level);
            now = fill(&state, "monc-snap");
        }
    };
    let warned = |level: f64| move |e: &Value| action(e) == "warning" && percent(e) >= level;
    // A printed event is saved at once; give the save its moment before the kill.
    let settle = || std::thread::sleep(Duration::from_millis(500));

    let mut first = Monitor::start(&state, "0.2", None, events.clone());
    write_to(&mut writer, 80.0);
    first.wait_for("the 80 % warning", warned(80.0));
    settle();
    first.kill9();
    assert!(
        state.path().join("monitor-state.json").exists(),
        "no progress kept in the state directory"
    );

    // 85 % is crossed while no monitor runs: the next one must still warn for it.
    write_to(&mut writer, 87.0);
    let mut second = Monitor::start(&state, "0.2", None, events.clone());
    second.wait_for("the 85 % warning", warned(85.0));
    write_to(&mut writer, 90.0);
    second.wait_for("the 90 % warning", warned(90.0));
    settle();
    second.kill9();

    // With a minute between looks, only the device's event can tell this
    // monitor about the invalidation in time.
    write_to(&mut writer, 96.0);
    let mut third = Monitor::start(&state, "60", None, events.clone());
    third.wait_for("the 95 % warning", warned(95.0));
    settle();
    // A full COW is still valid: the exception that finds no room invalidates it.
    let mut now = fill(&state, "monc-snap");
    while now != Fill::Invalid {
        writer.toward(now, 100.0);
        now = fill(&state, "monc-snap");
    }
    let took = third.wait_for("the invalidation", |e| action(e) == "invalid");
    println!(
        "invalidation reported within {took:?} of the writer seeing it (interval 60 s: through the dm event)"
    );
    settle();
    drop(third);

    // One more look afterwards finds nothing new to say.
    let again = ok(&state, "rlvmonitor", &["--once", "--json"]);
    assert_eq!(again, "", "a restarted monitor repeated an event");
    let events = events.lock().unwrap().clone();
    assert_eq!(warning_levels(&events), [80, 85, 90, 95], "{events:#?}");
    assert_eq!(
        events.iter().filter(|e| action(e) == "invalid").count(),
        1,
        "{events:#?}"
    );
    assert_eq!(action(events.last().unwrap()), "invalid");
}

#[test]
fn rlvs_watch_redraws_the_report_until_stopped() {
    let state = StateDir::new();
    let image = state.scratch().join("pv.img");
    File::create(&image)
        .and_then(|f| f.set_len(16 << 20))
        .expect("image file");
    let image = image.to_str().unwrap();
    ok(&state, "rpvcreate", &[image]);
    ok(&state, "rvgcreate", &["-s", "1M", "monw", image]);
    ok(&state, "rlvcreate", &["-an", "-l", "1", "-n", "lv", "monw"]);
    let once = ok(&state, "rlvs", &["-o", "lv_name,lv_size", "monw"]);
    // Not a terminal: frames are separated by a blank line, no screen control.
    let mut child = command(&state, "rlvs")
        .args(["--watch", "1", "-o", "lv_name,lv_size", "monw"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("rlvs --watch");
    std::thread::sleep(Duration::from_millis(2500));
    child.kill().expect("stopping rlvs --watch");
    let out = child.wait_with_output().expect("rlvs output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\x1b'), "screen control on a pipe: {text:?}");
    let frames: Vec<&str> = text.split("\n\n").collect();
    // At 0, 1 and 2 s; a slow machine may have drawn only two by 2.5 s.
    assert!(
        (2..=3).contains(&frames.len()),
        "{} frames in 2.5 s: {text:?}",
        frames.len()
    );
    for frame in &frames[..frames.len() - 1] {
        assert_eq!(format!("{frame}\n"), once);
    }
    assert!(once.starts_with(frames[frames.len() - 1]), "{text:?}");
    assert_exit(&state.run("rlvs", &["--watch", "0", "monw"]), 3);
}

#[test]
fn the_monitor_outlives_an_rdmd_restart() {
    let state = StateDir::new();
    setup(&state, "mond", false);
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut monitor = Monitor::start(&state, "0.2", None, events);
    std::thread::sleep(Duration::from_millis(500));
    let out = command(&state, "rdmd")
        .args(["--stop", "--dir"])
        .arg(state.path())
        .output()
        .expect("rdmd --stop");
    assert_exit(&out, 0);
    std::thread::sleep(Duration::from_millis(500));
    monitor.assert_running();
    ok(&state, "rvgchange", &["-ay", "mond"]);
    let mut writer = Writer::new(&state, "mond", 0x5eed_0004);
    let mut now = fill(&state, "mond-snap");
    while now.percent() < 80.0 {
        writer.toward(now, 80.0);
        now = fill(&state, "mond-snap");
    }
    monitor.wait_for("a warning from the new rdmd's snapshot", |e| {
        action(e) == "warning"
    });
    let log = std::fs::read_to_string(&monitor.stderr).unwrap_or_default();
    assert!(
        log.contains("still watching"),
        "the failure is not told: {log}"
    );
}
