//! The stack operations against a recording backend: the exact ioctl order,
//! the resulting tables, and rollback after a failure at any step.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use super::*;
use crate::backend::{BackendKind, DeviceSummary, Result, SuspendMode, TargetVersion};
use crate::dm::{parse_table, RawLine};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Device {
    minor: u32,
    uuid: String,
    live: Option<Vec<RawLine>>,
    inactive: Option<Vec<RawLine>>,
    suspended: bool,
}

/// A backend that keeps tables and records every call; `fail_at` makes the
/// call with that index fail.
#[derive(Default)]
struct Recorder {
    devices: Mutex<BTreeMap<String, Device>>,
    calls: Mutex<Vec<String>>,
    fail_at: Option<usize>,
}

impl Recorder {
    fn call(&self, what: String) -> Result<()> {
        let mut calls = self.calls.lock().unwrap();
        calls.push(what.clone());
        if self.fail_at == Some(calls.len() - 1) {
            return Err(BackendError::InvalidTable {
                name: what,
                reason: "injected".into(),
            });
        }
        Ok(())
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn state(&self) -> BTreeMap<String, Device> {
        self.devices.lock().unwrap().clone()
    }

    fn with<T>(&self, name: &str, f: impl FnOnce(&mut Device) -> T) -> Result<T> {
        let mut devices = self.devices.lock().unwrap();
        let device = devices
            .get_mut(name)
            .ok_or_else(|| BackendError::NoSuchDevice {
                name: name.to_string(),
            })?;
        Ok(f(device))
    }

    fn info_of(name: &str, d: &Device) -> DeviceInfo {
        DeviceInfo {
            name: name.to_string(),
            uuid: d.uuid.clone(),
            major: 254,
            minor: d.minor,
            open_count: 0,
            event_nr: 0,
            suspended: d.suspended,
            read_only: false,
            live_table: d.live.is_some(),
            inactive_table: d.inactive.is_some(),
            target_count: d.live.as_ref().map_or(0, |t| t.len() as u32),
        }
    }

    fn live_text(&self, name: &str) -> String {
        let devices = self.devices.lock().unwrap();
        devices[name]
            .live
            .as_ref()
            .map(|t| {
                t.iter()
                    .map(|l| l.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default()
    }
}

impl Backend for Recorder {
    fn kind(&self) -> BackendKind {
        BackendKind::Userspace
    }
    fn driver_version(&self) -> Result<[u32; 3]> {
        Ok([4, 47, 0])
    }
    fn target_versions(&self) -> Result<Vec<TargetVersion>> {
        Ok(vec![])
    }
    fn create(&self, name: &str, options: &CreateOptions) -> Result<DeviceInfo> {
        self.call(format!("create {name}"))?;
        let mut devices = self.devices.lock().unwrap();
        if devices.contains_key(name) {
            return Err(BackendError::AlreadyExists { name: name.into() });
        }
        let minor = (0..)
            .find(|m| devices.values().all(|d| d.minor != *m))
            .unwrap();
        let device = Device {
            minor,
            uuid: options.uuid.clone().unwrap_or_default(),
            ..Default::default()
        };
        let info = Self::info_of(name, &device);
        devices.insert(name.to_string(), device);
        Ok(info)
    }
    fn load(&self, name: &str, table: &[RawLine]) -> Result<()> {
        self.call(format!("load {name}"))?;
        self.with(name, |d| d.inactive = Some(table.to_vec()))
    }
    fn clear(&self, name: &str) -> Result<()> {
        self.call(format!("clear {name}"))?;
        self.with(name, |d| d.inactive = None)
    }
    fn suspend(&self, name: &str, _mode: SuspendMode) -> Result<()> {
        self.call(format!("suspend {name}"))?;
        self.with(name, |d| d.suspended = true)
    }
    fn resume(&self, name: &str) -> Result<DeviceInfo> {
        self.call(format!("resume {name}"))?;
        self.with(name, |d| {
            if let Some(table) = d.inactive.take() {
                d.live = Some(table);
            }
            d.suspended = false;
            Self::info_of(name, d)
        })
    }
    fn remove(&self, name: &str) -> Result<()> {
        self.call(format!("remove {name}"))?;
        self.devices
            .lock()
            .unwrap()
            .remove(name)
            .map(|_| ())
            .ok_or_else(|| BackendError::NoSuchDevice { name: name.into() })
    }
    fn rename(&self, _name: &str, _new_name: &str) -> Result<()> {
        unimplemented!("not used by the stack operations")
    }
    fn list(&self) -> Result<Vec<DeviceSummary>> {
        Ok(vec![])
    }
    fn info(&self, name: &str) -> Result<DeviceInfo> {
        self.with(name, |d| Self::info_of(name, d))
    }
    fn table(&self, name: &str, slot: TableSlot) -> Result<Vec<RawLine>> {
        self.with(name, |d| match slot {
            TableSlot::Live => d.live.clone().unwrap_or_default(),
            TableSlot::Inactive => d.inactive.clone().unwrap_or_default(),
        })
    }
    fn status(&self, _name: &str) -> Result<Vec<RawLine>> {
        Ok(vec![])
    }
    fn deps(&self, _name: &str) -> Result<Vec<(u32, u32)>> {
        Ok(vec![])
    }
    fn message(&self, _name: &str, _sector: u64, _message: &str) -> Result<Option<String>> {
        Ok(None)
    }
    fn wait_event(&self, _: &str, _: u32, _: Option<Duration>) -> Result<Option<DeviceInfo>> {
        Ok(None)
    }
    fn node_path(&self, name: &str) -> PathBuf {
        PathBuf::from("/dev/mapper").join(name)
    }
    fn mknodes(&self) -> Result<()> {
        Ok(())
    }
}

fn origin() -> OriginSpec {
    OriginSpec {
        top: DeviceSpec {
            name: "vg-base".into(),
            uuid: "LVM-vgbase".into(),
            table: parse_table("0 2097152 linear 8:19 384").unwrap(),
            read_only: false,
        },
        real_name: "vg-base-real".into(),
        real_uuid: "LVM-vgbase-real".into(),
    }
}

fn snapshot(name: &str, offset: u64) -> SnapshotSpec {
    SnapshotSpec {
        name: format!("vg-{name}"),
        uuid: format!("LVM-vg{name}"),
        read_only: false,
        cow: DeviceSpec {
            name: format!("vg-{name}-cow"),
            uuid: format!("LVM-vg{name}-cow"),
            table: parse_table(&format!("0 204800 linear 8:19 {offset}")).unwrap(),
            read_only: false,
        },
        store: StoreKind::Persistent,
        chunk_sectors: 8,
    }
}

fn active_origin() -> Recorder {
    let recorder = Recorder::default();
    activate_device(&recorder, &origin().top).unwrap();
    recorder.calls.lock().unwrap().clear();
    recorder
}

#[test]
fn first_snapshot_is_taken_with_the_origin_suspended() {
    let backend = active_origin();
    let mut zeroed = Vec::new();
    let mut prepare = |name: &str| {
        zeroed.push(name.to_string());
        Ok(())
    };
    add_snapshot(
        &backend,
        &origin(),
        &snapshot("snap", 2097536),
        Some(&mut prepare),
    )
    .unwrap();
    assert_eq!(zeroed, ["vg-snap-cow"]);
    assert_eq!(
        backend.calls(),
        [
            "create vg-base-real",
            "load vg-base-real",
            "resume vg-base-real",
            "create vg-snap-cow",
            "load vg-snap-cow",
            "resume vg-snap-cow",
            "suspend vg-base",
            "create vg-snap",
            "load vg-snap",
            "load vg-base",
            "resume vg-snap",
            "resume vg-base",
        ]
    );
    // The documented stack, minors aside (the origin keeps minor 0).
    assert_eq!(
        backend.live_text("vg-base-real"),
        "0 2097152 linear 8:19 384"
    );
    assert_eq!(
        backend.live_text("vg-snap-cow"),
        "0 204800 linear 8:19 2097536"
    );
    assert_eq!(
        backend.live_text("vg-snap"),
        "0 2097152 snapshot 254:1 254:2 P 8"
    );
    assert_eq!(
        backend.live_text("vg-base"),
        "0 2097152 snapshot-origin 254:1"
    );
    assert!(backend
        .state()
        .values()
        .all(|d| !d.suspended && d.inactive.is_none()));
}

#[test]
fn a_second_snapshot_leaves_the_origin_table_alone() {
    let backend = active_origin();
    add_snapshot(&backend, &origin(), &snapshot("s1", 2097536), None).unwrap();
    backend.calls.lock().unwrap().clear();
    add_snapshot(&backend, &origin(), &snapshot("s2", 2302336), None).unwrap();
    let calls = backend.calls();
    assert!(!calls.contains(&"load vg-base".to_string()), "{calls:?}");
    assert!(
        !calls.iter().any(|c| c.ends_with("vg-base-real")),
        "{calls:?}"
    );
    assert_eq!(
        backend.live_text("vg-s2"),
        "0 2097152 snapshot 254:1 254:4 P 8"
    );
    assert_eq!(
        backend.live_text("vg-base"),
        "0 2097152 snapshot-origin 254:1"
    );
}

#[test]
fn an_inactive_origin_is_built_bottom_up() {
    let backend = Recorder::default();
    add_snapshot(&backend, &origin(), &snapshot("snap", 2097536), None).unwrap();
    assert_eq!(backend.calls().last().unwrap(), "resume vg-base");
    assert!(!backend.calls().iter().any(|c| c.starts_with("suspend")));
    assert_eq!(
        backend.live_text("vg-base-real"),
        "0 2097152 linear 8:19 384"
    );
    assert_eq!(
        backend.live_text("vg-base"),
        "0 2097152 snapshot-origin 254:0"
    );
}

#[test]
fn a_failure_at_any_step_puts_everything_back() {
    let reference = active_origin();
    let before = reference.state();
    add_snapshot(&reference, &origin(), &snapshot("snap", 2097536), None).unwrap();
    let steps = reference.calls().len();
    for fail_at in 0..steps {
        let backend = Recorder {
            fail_at: Some(fail_at + 1),
            ..active_origin()
        };
        // active_origin() consumed call indices; fail relative to the fresh log.
        backend.calls.lock().unwrap().push("setup".into());
        let result = add_snapshot(&backend, &origin(), &snapshot("snap", 2097536), None);
        assert!(
            matches!(result, Err(OpsError::Step { .. })),
            "step {fail_at}: {result:?}"
        );
        assert_eq!(
            backend.state(),
            before,
            "step {fail_at} left {:?}",
            backend.calls()
        );
    }
}

#[test]
fn removing_the_last_snapshot_restores_the_plain_origin() {
    let backend = active_origin();
    let before = backend.state();
    add_snapshot(&backend, &origin(), &snapshot("snap", 2097536), None).unwrap();
    remove_snapshot(&backend, &origin(), &snapshot("snap", 2097536), false).unwrap();
    assert_eq!(backend.state(), before);
}

#[test]
fn removing_one_of_two_snapshots_keeps_the_other() {
    let backend = active_origin();
    add_snapshot(&backend, &origin(), &snapshot("s1", 2097536), None).unwrap();
    add_snapshot(&backend, &origin(), &snapshot("s2", 2302336), None).unwrap();
    backend.calls.lock().unwrap().clear();
    remove_snapshot(&backend, &origin(), &snapshot("s1", 2097536), true).unwrap();
    assert_eq!(
        backend.calls(),
        [
            "suspend vg-base",
            "remove vg-s1",
            "resume vg-base",
            "remove vg-s1",
            "remove vg-s1-cow"
        ]
    );
    let names: Vec<String> = backend.state().keys().cloned().collect();
    assert_eq!(names, ["vg-base", "vg-base-real", "vg-s2", "vg-s2-cow"]);
}

#[test]
fn merge_hands_the_cow_from_the_suspended_snapshot_to_the_origin() {
    let backend = active_origin();
    add_snapshot(&backend, &origin(), &snapshot("snap", 2097536), None).unwrap();
    backend.calls.lock().unwrap().clear();
    start_merge(&backend, &origin(), &snapshot("snap", 2097536)).unwrap();
    assert_eq!(
        backend.calls(),
        [
            "load vg-base",
            "load vg-snap",
            "suspend vg-base",
            "suspend vg-snap",
            "resume vg-base",
            "resume vg-snap"
        ]
    );
    assert_eq!(
        backend.live_text("vg-base"),
        "0 2097152 snapshot-merge 254:1 254:2 P 8"
    );
    assert_eq!(backend.live_text("vg-snap"), "0 2097152 error ");
    finish_merge(&backend, &origin(), &snapshot("snap", 2097536)).unwrap();
    assert_eq!(backend.live_text("vg-base"), "0 2097152 linear 8:19 384");
    assert_eq!(backend.state().len(), 1);
}
