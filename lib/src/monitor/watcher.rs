//! The monitor loop: find every active snapshot, look at its status, apply
//! the policy, and report what happened. Wakes on device-mapper events (a
//! waiting thread per snapshot) and polls at an interval, because the kernel
//! raises no event while a COW fills.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::policy::{Action, AutoextendPolicy, PolicyDecision, Watch};
use crate::backend::{Backend, BackendError};
use crate::dm::{RawLine, SnapshotStatus};
use crate::names::split_dm_name;
use crate::report::percent::make_percent;

/// An active snapshot device found through the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedSnapshot {
    /// dm name (`vg-snap`).
    pub dm_name: String,
    /// dm UUID (the key the monitor remembers it by).
    pub uuid: String,
    /// VG name.
    pub vg: String,
    /// LV name.
    pub lv: String,
}

/// What happened, as one JSON line or one log message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorEvent {
    /// UTC time, RFC 3339.
    pub time: String,
    /// VG name.
    pub vg: String,
    /// LV name.
    pub lv: String,
    /// Fill in percent, when known.
    pub percent: Option<f64>,
    /// What the monitor did or saw.
    pub action: EventAction,
    /// The human message (as dmeventd words it where it has one).
    pub message: String,
}

/// Kinds of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventAction {
    /// A 5 % step at or above 80 % was crossed.
    Warning,
    /// The COW was extended by policy.
    Extended,
    /// The policy wanted to extend but the VG has no free space.
    NoSpace,
    /// Extending failed for another reason.
    ExtendFailed,
    /// The snapshot became invalid (or overflowed, or its merge failed).
    Invalid,
    /// The snapshot can never fill: no longer watched.
    FullyProvisioned,
}

/// Why an extension did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtendError {
    /// The VG has too few free extents.
    NoSpace(String),
    /// Anything else.
    Failed(String),
}

/// Grows a snapshot's COW through the metadata layer (`rlvextend --use-policies`).
pub trait Extender: Send + Sync {
    /// Grow `vg/lv`'s COW by `grow_percent` % of its size; returns a description of the new size.
    fn extend(&self, vg: &str, lv: &str, grow_percent: u32) -> Result<String, ExtendError>;
}

/// Every active dm device whose live table is a `snapshot` target.
pub fn find_snapshots(backend: &dyn Backend) -> Result<Vec<WatchedSnapshot>, BackendError> {
    Ok(survey(backend)?.into_iter().map(|(s, _)| s).collect())
}

/// Every active snapshot with its status line, in one pass: a status request
/// per device tells the target type and the fill at once. LVM's hidden layers
/// (`-cow`, `-real`) are never snapshots and are not asked about, so an idle
/// look costs about two requests per snapshot.
fn survey(backend: &dyn Backend) -> Result<Vec<(WatchedSnapshot, RawLine)>, BackendError> {
    let mut found = Vec::new();
    for device in backend.list()? {
        let split = split_dm_name(&device.name);
        if split.as_ref().is_some_and(|s| !s.layer.is_empty()) {
            continue;
        }
        let line = match backend.status(&device.name) {
            Ok(lines) => match lines.into_iter().next() {
                Some(line) if line.target_type == "snapshot" => line,
                _ => continue,
            },
            Err(BackendError::NoSuchDevice { .. }) => continue,
            Err(e) => return Err(e),
        };
        let info = match backend.info(&device.name) {
            Ok(info) => info,
            Err(BackendError::NoSuchDevice { .. }) => continue,
            Err(e) => return Err(e),
        };
        let (vg, lv) = match split {
            Some(split) => (split.vg, split.lv),
            None => (String::new(), device.name.clone()),
        };
        let uuid = if info.uuid.is_empty() {
            device.name.clone()
        } else {
            info.uuid
        };
        found.push((
            WatchedSnapshot {
                dm_name: device.name,
                uuid,
                vg,
                lv,
            },
            line,
        ));
    }
    Ok(found)
}

/// RFC 3339 UTC time of `now`, without a date crate: days from the civil calendar.
pub fn rfc3339(now: SystemTime) -> String {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The monitor's state across looks.
pub struct Monitor {
    backend: Arc<dyn Backend>,
    policy: AutoextendPolicy,
    extender: Option<Arc<dyn Extender>>,
    watches: BTreeMap<String, Watch>,
    state_file: Option<PathBuf>,
    /// What the state file holds now, so an idle look writes nothing.
    saved: Option<String>,
}

impl Monitor {
    /// A monitor over `backend` applying `policy` through `extender` (none: warn only).
    pub fn new(
        backend: Arc<dyn Backend>,
        policy: AutoextendPolicy,
        extender: Option<Arc<dyn Extender>>,
    ) -> Self {
        Self {
            backend,
            policy,
            extender,
            watches: BTreeMap::new(),
            state_file: None,
            saved: None,
        }
    }

    /// Remember per-snapshot progress in `path`, and resume from it now, so a
    /// restarted monitor neither repeats nor misses a step.
    pub fn with_state_file(mut self, path: PathBuf) -> Self {
        if let Ok(text) = std::fs::read_to_string(&path) {
            if let Ok(watches) = serde_json::from_str(&text) {
                self.watches = watches;
                self.saved = Some(text);
            }
        }
        self.state_file = Some(path);
        self
    }

    fn save_state(&mut self) {
        let Some(path) = &self.state_file else {
            return;
        };
        let Ok(text) = serde_json::to_string(&self.watches) else {
            return;
        };
        if self.saved.as_ref() == Some(&text) {
            return;
        }
        // Written beside and renamed, so a kill mid-write keeps the old state.
        let tmp = path.with_extension("tmp");
        if std::fs::write(&tmp, &text).is_ok() && std::fs::rename(&tmp, path).is_ok() {
            self.saved = Some(text);
        }
    }

    /// One look at every snapshot: each event goes to `emit`, in order, and
    /// only then is the progress saved, so a monitor killed in between
    /// repeats an event when restarted rather than losing it. Returns the
    /// snapshots seen.
    pub fn look(
        &mut self,
        emit: &mut dyn FnMut(&MonitorEvent),
    ) -> Result<Vec<WatchedSnapshot>, BackendError> {
        let snapshots = survey(self.backend.as_ref())?;
        let mut events = Vec::new();
        for (snapshot, line) in &snapshots {
            self.check_one(snapshot, line, &mut events);
        }
        for event in &events {
            emit(event);
        }
        let live: Vec<&str> = snapshots.iter().map(|(s, _)| s.uuid.as_str()).collect();
        self.watches.retain(|uuid, _| live.contains(&uuid.as_str()));
        self.save_state();
        Ok(snapshots.into_iter().map(|(s, _)| s).collect())
    }

    /// One look at every snapshot; returns the events, in order (progress is saved).
    pub fn check(&mut self) -> Result<Vec<MonitorEvent>, BackendError> {
        let mut events = Vec::new();
        self.look(&mut |event| events.push(event.clone()))?;
        Ok(events)
    }

    fn check_one(
        &mut self,
        snapshot: &WatchedSnapshot,
        line: &RawLine,
        events: &mut Vec<MonitorEvent>,
    ) {
        let Ok(status) = line.params.parse::<SnapshotStatus>() else {
            return;
        };
        let event = |action, percent, message: String| MonitorEvent {
            time: rfc3339(SystemTime::now()),
            vg: snapshot.vg.clone(),
            lv: snapshot.lv.clone(),
            percent,
            action,
            message,
        };
        let display = format!("{}/{}", snapshot.vg, snapshot.lv);
        let watch = self.watches.entry(snapshot.uuid.clone()).or_default();
        for action in watch.observe(&status, line.length) {
            match action {
                Action::Warn { percent, .. } => events.push(event(
                    EventAction::Warning,
                    Some(percent),
                    format!("WARNING: Snapshot {display} is now {percent:.2}% full."),
                )),
                Action::Lost { state } => events.push(event(
                    EventAction::Invalid,
                    None,
                    format!("WARNING: Snapshot {display} changed state to: {state} and should be removed."),
                )),
                Action::FullyProvisioned => events.push(event(
                    EventAction::FullyProvisioned,
                    None,
                    format!("Dropping monitoring of fully provisioned snapshot {display}."),
                )),
                Action::TryExtend { percent } => {
                    if let SnapshotStatus::Usage {
                        allocated_sectors,
                        total_sectors,
                        ..
                    } = status
                    {
                        let usage = make_percent(allocated_sectors, total_sectors);
                        self.apply_policy(usage, percent, snapshot, &display, events, &event);
                    }
                }
            }
        }
    }

    fn apply_policy(
        &self,
        usage: i64,
        percent: f64,
        snapshot: &WatchedSnapshot,
        display: &str,
        events: &mut Vec<MonitorEvent>,
        event: &dyn Fn(EventAction, Option<f64>, String) -> MonitorEvent,
    ) {
        let grow = match self.policy.decide(usage) {
            Ok(PolicyDecision::Nothing) => return,
            Ok(PolicyDecision::GrowByPercent(grow)) => grow,
            Err(e) => {
                events.push(event(
                    EventAction::ExtendFailed,
                    Some(percent),
                    format!("Can't extend {display}: {e}."),
                ));
                return;
            }
        };
        let Some(extender) = &self.extender else {
            events.push(event(
                EventAction::ExtendFailed,
                Some(percent),
                format!("Snapshot {display} is {percent:.2}% full and the policy asks to grow it by {grow}%, but this monitor has no metadata access to extend it."),
            ));
            return;
        };
        match extender.extend(&snapshot.vg, &snapshot.lv, grow) {
            Ok(size) => events.push(event(
                EventAction::Extended,
                Some(percent),
                format!("Extended snapshot {display} by {grow}% to {size}."),
            )),
            Err(ExtendError::NoSpace(why)) => events.push(event(
                EventAction::NoSpace,
                Some(percent),
                format!("ERROR: Snapshot {display} is {percent:.2}% full and cannot be extended: {why}. It will be invalidated when full."),
            )),
            Err(ExtendError::Failed(why)) => events.push(event(
                EventAction::ExtendFailed,
                Some(percent),
                format!("Failed to extend snapshot {display}: {why}."),
            )),
        }
    }

    /// Run until `stop` is set: look, report through `emit`, then wait for
    /// an event on any snapshot or for `interval`. A look that fails (the
    /// engine's daemon restarting, say) is told to `failed`, once until a
    /// look succeeds again, and the watch goes on.
    pub fn run(
        &mut self,
        interval: Duration,
        stop: &AtomicBool,
        emit: &mut dyn FnMut(&MonitorEvent),
        failed: &mut dyn FnMut(&BackendError),
    ) {
        let (wake_tx, wake_rx) = mpsc::channel::<()>();
        let mut waiting: BTreeMap<String, Arc<AtomicBool>> = BTreeMap::new();
        let mut last_error: Option<String> = None;
        while !stop.load(Ordering::Relaxed) {
            match self.look(emit) {
                Ok(snapshots) => {
                    last_error = None;
                    self.start_waiters(&snapshots, &mut waiting, &wake_tx, interval);
                }
                Err(e) => {
                    let text = e.to_string();
                    if last_error.as_ref() != Some(&text) {
                        failed(&e);
                        last_error = Some(text);
                    }
                }
            }
            // Either an event woke a waiter or the interval passed: look again.
            let _ = wake_rx.recv_timeout(interval);
            while wake_rx.try_recv().is_ok() {}
        }
        for flag in waiting.values() {
            flag.store(true, Ordering::Relaxed);
        }
    }

    /// One thread per snapshot waits for its next dm event (invalidation),
    /// as dmeventd does; a wait ends only to see whether it should stop.
    fn start_waiters(
        &self,
        snapshots: &[WatchedSnapshot],
        waiting: &mut BTreeMap<String, Arc<AtomicBool>>,
        wake: &mpsc::Sender<()>,
        interval: Duration,
    ) {
        waiting.retain(|_, done| !done.load(Ordering::Relaxed));
        for snapshot in snapshots.iter().cloned() {
            if waiting.contains_key(&snapshot.dm_name) {
                continue;
            }
            let Ok(info) = self.backend.info(&snapshot.dm_name) else {
                continue;
            };
            let done = Arc::new(AtomicBool::new(false));
            waiting.insert(snapshot.dm_name.clone(), done.clone());
            let backend = self.backend.clone();
            let wake = wake.clone();
            let timeout = interval.max(Duration::from_secs(1)) * 10;
            std::thread::spawn(move || {
                let mut event_nr = info.event_nr;
                while !done.load(Ordering::Relaxed) {
                    match backend.wait_event(&snapshot.dm_name, event_nr, Some(timeout)) {
                        Ok(Some(info)) => {
                            event_nr = info.event_nr;
                            if wake.send(()).is_err() {
                                break;
                            }
                        }
                        Ok(None) => {}
                        Err(_) => break,
                    }
                }
                done.store(true, Ordering::Relaxed);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_times() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_555_631)),
            "2026-11-24T21:27:11Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }
}
