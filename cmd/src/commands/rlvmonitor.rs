//! `rlvmonitor`: watch the fill of every active snapshot, warn at 80, 85, 90
//! and 95 %, report invalidation, and apply the autoextend policy.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{CommandFactory, Parser};
use nix::sys::signal::{SigHandler, Signal};
use rlvm::config::Config;
use rlvm::monitor::policy::AutoextendPolicy;
use rlvm::monitor::watcher::{EventAction, ExtendError, Extender, Monitor, MonitorEvent};
use rlvm::ops::lvm::{Autoextend, Session};

use super::lvm_common::candidate_devices;

use crate::exit;

/// Watch the COW fill of every active snapshot and act before one is lost.
#[derive(Debug, Parser)]
#[command(name = "rlvmonitor", version)]
pub struct Cli {
    /// Look once, report, and exit (for cron and scripts).
    #[arg(long, conflicts_with = "foreground")]
    once: bool,
    /// Run in the foreground (for a service manager); the default without --once.
    #[arg(long)]
    foreground: bool,
    /// Seconds between looks; device-mapper events wake the monitor sooner.
    #[arg(long, value_name = "SECONDS", default_value = "1", value_parser = parse_interval)]
    interval: Duration,
    /// Print each event as one JSON line.
    #[arg(long)]
    json: bool,
    /// lvm.conf-style settings on top of the configuration file (repeatable).
    #[arg(long, value_name = "STRING")]
    config: Vec<String>,
    /// Where progress per snapshot is kept across restarts (default: the state directory).
    #[arg(long, value_name = "PATH")]
    state_file: Option<PathBuf>,
}

fn parse_interval(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !(0.05..=3600.0).contains(&seconds) {
        return Err(format!("'{text}' is not between 0.05 and 3600 seconds"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// The clap definition.
pub fn command() -> clap::Command {
    Cli::command()
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn request_stop(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

fn render(event: &MonitorEvent, json: bool) -> String {
    if json {
        serde_json::to_string(event).unwrap_or_default()
    } else {
        format!("{} {}", event.time, event.message)
    }
}

/// The syslog priority of an event: warning for fill levels, error for
/// invalidation and failed or impossible extension.
fn priority(event: &MonitorEvent) -> libc::c_int {
    match event.action {
        EventAction::Warning | EventAction::FullyProvisioned => libc::LOG_WARNING,
        EventAction::Extended => libc::LOG_NOTICE,
        EventAction::NoSpace | EventAction::ExtendFailed | EventAction::Invalid => libc::LOG_ERR,
    }
}

/// Whether stdout is a journald stream (a systemd unit's): systemd names
/// it in `JOURNAL_STREAM` as `device:inode`. Lines written there may then
/// carry their priority as a `<N>` prefix (sd-daemon(3)).
fn stdout_is_journal() -> bool {
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    nix::sys::stat::fstat(libc::STDOUT_FILENO)
        .is_ok_and(|st| stream.to_str() == Some(&format!("{}:{}", st.st_dev, st.st_ino)))
}

/// Also tell the system log, where one is listening (journald or syslogd).
fn log_to_syslog(event: &MonitorEvent) {
    if let Ok(message) = std::ffi::CString::new(event.message.replace('%', "%%")) {
        // SAFETY: both strings are NUL-terminated and outlive the call; the format has one %s.
        unsafe { libc::syslog(priority(event), c"%s".as_ptr(), message.as_ptr()) };
    }
}

/// Grows a COW through the VG metadata, as `rlvextend --use-policies` does.
struct MetadataExtender {
    backend: Arc<dyn rlvm::backend::Backend>,
}

impl Extender for MetadataExtender {
    fn extend(&self, vg: &str, lv: &str, grow_percent: u32) -> Result<String, ExtendError> {
        let failed = |e: &dyn std::error::Error| ExtendError::Failed(rlvm::ops::lvm::chain(e));
        let mut session =
            Session::open(vg, &candidate_devices(), Some(self.backend.as_ref()), false)
                .map_err(|e| failed(&e))?;
        let extent_mib = session.vg().extent_size / 2048;
        // The result line goes to the monitor's own events, not to stdout.
        let (grown, _) = rlvm::log::capture(|| session.autoextend(lv, grow_percent));
        match grown.map_err(|e| failed(&e))? {
            Autoextend::Grown { to, .. } => Ok(format!("{} MiB", to * extent_mib)),
            Autoextend::NoSpace { free, needed } => Err(ExtendError::NoSpace(format!(
                "volume group {vg} has {free} free extents, {needed} needed"
            ))),
        }
    }
}

fn run_cli(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&cli.config).context("configuration")?;
    let policy = AutoextendPolicy::from_config(&config);
    let (threshold, raised) = policy.effective_threshold();
    if raised {
        eprintln!(
            "rlvmonitor: WARNING: Snapshot autoextend threshold {}% is set below the minimum of 50%; using 50%.",
            policy.threshold
        );
    }
    let backend: Arc<dyn rlvm::backend::Backend> =
        Arc::from(rlvm::backend::open_backend().context("device-mapper")?);
    let state_file = cli
        .state_file
        .unwrap_or_else(|| rlvm::backend::state_dir().join("monitor-state.json"));
    if let Some(dir) = state_file.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let extender = Arc::new(MetadataExtender {
        backend: backend.clone(),
    });
    let mut monitor = Monitor::new(backend, policy, Some(extender)).with_state_file(state_file);
    let stdout = std::io::stdout();
    let json = cli.json;
    // Under a unit each event goes to the journal once, with its priority;
    // elsewhere stdout has the plain line and syslog a copy.
    let journal = !cli.once && stdout_is_journal();
    let mut emit = |event: &MonitorEvent| {
        let mut out = stdout.lock();
        let line = render(event, json);
        let _ = if journal {
            writeln!(out, "<{}>{line}", priority(event))
        } else {
            writeln!(out, "{line}")
        };
        let _ = out.flush();
        if !cli.once && !journal {
            log_to_syslog(event);
        }
    };
    if cli.once {
        monitor
            .look(&mut emit)
            .context("looking at the snapshots")?;
        return Ok(());
    }
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe { nix::sys::signal::signal(signal, SigHandler::Handler(request_stop)) }
            .context("installing the signal handlers")?;
    }
    eprintln!(
        "rlvmonitor: watching every active snapshot every {:?} (autoextend threshold {threshold}%, grow {}%)",
        cli.interval, policy.percent
    );
    // Not fatal: the next look may succeed (an rdmd that restarts, say).
    let mut failed = |error: &rlvm::backend::BackendError| {
        eprintln!("rlvmonitor: looking at the snapshots: {error}; still watching");
    };
    monitor.run(cli.interval, &STOP, &mut emit, &mut failed);
    Ok(())
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    let cli: Cli = match exit::parse(args) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match run_cli(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => exit::report("rlvmonitor", &error, exit::COMMAND_FAILED),
    }
}
