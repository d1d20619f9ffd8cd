//! The small progress file kept next to an apply target: which stream is (or
//! was last) applied to it and how far. It is what lets `apply --resume`
//! continue an interrupted round and lets `apply` refuse a stream of another
//! volume or another round.
//!
//! Text, one `key=value` a line, replaced atomically (temporary file, fsync,
//! rename, fsync of the directory), and always written *after* the target's
//! data it describes was flushed: after a crash it may lag the target, never
//! lead it. Records hold absolute data, so re-applying the lag is harmless.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::SyncError;
use super::format::{SnapshotIdentity, SourceVolume, StreamHeader, StreamKind};

const FIRST_LINE: &str = "rlvsync-progress 1";

/// Whether the recorded stream was applied whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundState {
    /// Interrupted (or running): records below `next_chunk` are on the target.
    Applying,
    /// Applied whole: the target is the volume as of `new`.
    Done,
}

/// The content of a progress file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundProgress {
    /// Applying or done.
    pub state: RoundState,
    /// The stream's kind.
    pub kind: StreamKind,
    /// The volume.
    pub source: SourceVolume,
    /// Volume size in bytes.
    pub origin_bytes: u64,
    /// Chunk size of the stream.
    pub chunk_bytes: u32,
    /// The stream's OLD snapshot.
    pub old: SnapshotIdentity,
    /// The stream's NEW snapshot: the target's state once the round is done.
    pub new: SnapshotIdentity,
    /// Every record below this chunk is on the target (durably).
    pub next_chunk: u64,
    /// Records applied so far.
    pub records_done: u64,
}

impl RoundProgress {
    /// A round of `header` about to start at `next_chunk`.
    pub fn start(header: &StreamHeader, next_chunk: u64, records_done: u64) -> Self {
        Self {
            state: RoundState::Applying,
            kind: header.kind,
            source: header.source.clone(),
            origin_bytes: header.origin_bytes,
            chunk_bytes: header.chunk_bytes,
            old: header.old.clone(),
            new: header.new.clone(),
            next_chunk,
            records_done,
        }
    }

    /// Whether `header` is the stream this progress is of (same kind, volume, snapshots, geometry).
    pub fn same_stream(&self, header: &StreamHeader) -> bool {
        self.kind == header.kind
            && self.source == header.source
            && self.origin_bytes == header.origin_bytes
            && self.chunk_bytes == header.chunk_bytes
            && self.old == header.old
            && self.new == header.new
    }

    /// The text of the progress file.
    pub fn encode(&self) -> String {
        let mut out = String::from(FIRST_LINE);
        out.push('\n');
        let mut put = |k: &str, v: &str| {
            out.push_str(k);
            out.push('=');
            out.push_str(&v.replace('\n', " "));
            out.push('\n');
        };
        put(
            "state",
            match self.state {
                RoundState::Applying => "applying",
                RoundState::Done => "done",
            },
        );
        put("kind", self.kind.as_str());
        put("vg_name", &self.source.vg_name);
        put("vg_uuid", &self.source.vg_uuid);
        put("lv_name", &self.source.lv_name);
        put("lv_uuid", &self.source.lv_uuid);
        put("origin_bytes", &self.origin_bytes.to_string());
        put("chunk_bytes", &self.chunk_bytes.to_string());
        put("old_name", &self.old.name);
        put("old_uuid", &self.old.uuid);
        put("old_time", &self.old.creation_time.to_string());
        put("new_name", &self.new.name);
        put("new_uuid", &self.new.uuid);
        put("new_time", &self.new.creation_time.to_string());
        put("next_chunk", &self.next_chunk.to_string());
        put("records_done", &self.records_done.to_string());
        out
    }

    fn decode(text: &str, path: &Path) -> Result<Self, SyncError> {
        let bad = |reason: String| SyncError::BadProgressFile {
            path: path.to_path_buf(),
            reason,
        };
        // Leading blanks are tolerated: the text may come back through a shell or a report.
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        if lines.next() != Some(FIRST_LINE) {
            return Err(bad(format!("first line is not \"{FIRST_LINE}\"")));
        }
        let fields: std::collections::HashMap<&str, &str> =
            lines.filter_map(|l| l.split_once('=')).collect();
        let get = |k: &str| {
            fields
                .get(k)
                .map(|v| v.to_string())
                .ok_or_else(|| bad(format!("no {k}")))
        };
        let num = |k: &str| -> Result<u64, SyncError> {
            get(k)?
                .parse()
                .map_err(|_| bad(format!("{k} is not a number")))
        };
        let time = |k: &str| -> Result<i64, SyncError> {
            get(k)?
                .parse()
                .map_err(|_| bad(format!("{k} is not a number")))
        };
        let state = match get("state")?.as_str() {
            "applying" => RoundState::Applying,
            "done" => RoundState::Done,
            other => return Err(bad(format!("unknown state \"{other}\""))),
        };
        let kind = match get("kind")?.as_str() {
            "incremental" => StreamKind::Incremental,
            "full" => StreamKind::Full,
            "snapback" => StreamKind::Snapback,
            other => return Err(bad(format!("unknown kind \"{other}\""))),
        };
        Ok(Self {
            state,
            kind,
            source: SourceVolume {
                vg_name: get("vg_name")?,
                vg_uuid: get("vg_uuid")?,
                lv_name: get("lv_name")?,
                lv_uuid: get("lv_uuid")?,
            },
            origin_bytes: num("origin_bytes")?,
            chunk_bytes: u32::try_from(num("chunk_bytes")?)
                .map_err(|_| bad("chunk_bytes is out of range".into()))?,
            old: SnapshotIdentity {
                name: get("old_name")?,
                uuid: get("old_uuid")?,
                creation_time: time("old_time")?,
            },
            new: SnapshotIdentity {
                name: get("new_name")?,
                uuid: get("new_uuid")?,
                creation_time: time("new_time")?,
            },
            next_chunk: num("next_chunk")?,
            records_done: num("records_done")?,
        })
    }
}

/// A progress file's text, as `rlvsync progress` prints it (`what` names it in errors).
pub fn parse(text: &str, what: &Path) -> Result<RoundProgress, SyncError> {
    RoundProgress::decode(text, what)
}

/// Read the progress file at `path`; `None` when there is none.
pub fn load(path: &Path) -> Result<Option<RoundProgress>, SyncError> {
    match std::fs::read_to_string(path) {
        Ok(text) => RoundProgress::decode(&text, path).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SyncError::io(format!("reading {}", path.display()), e)),
    }
}

/// Replace the progress file at `path` atomically and durably.
pub fn save(path: &Path, progress: &RoundProgress) -> Result<(), SyncError> {
    let io = |what: &str, e| SyncError::io(format!("{what} {}", path.display()), e);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io("creating the directory of", e))?;
    let tmp = temporary(path);
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| io("writing", e))?;
    file.write_all(progress.encode().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io("writing", e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("replacing", e))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Where the progress file of `target` lives: `.<name>.rlvsync` beside a
/// regular file; for a block device, an LV or an NBD URI (whose directory is
/// no place for files) `sync/<target with / as _>.rlvsync` in `state_dir`.
pub fn default_path(target: &str, regular_file: Option<&Path>, state_dir: &Path) -> PathBuf {
    if let Some(file) = regular_file {
        let mut name = std::ffi::OsString::from(".");
        name.push(file.file_name().unwrap_or_default());
        name.push(".rlvsync");
        return file.with_file_name(name);
    }
    let escaped: String = target
        .trim_start_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    state_dir.join("sync").join(format!("{escaped}.rlvsync"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".copy.rlvsync");
        assert_eq!(load(&path).unwrap(), None);
        let p = RoundProgress {
            state: RoundState::Applying,
            kind: StreamKind::Incremental,
            source: SourceVolume {
                vg_name: "vg".into(),
                vg_uuid: "u1".into(),
                lv_name: "base".into(),
                lv_uuid: "u2".into(),
            },
            origin_bytes: 1 << 30,
            chunk_bytes: 4096,
            old: SnapshotIdentity {
                name: "a".into(),
                uuid: "x".into(),
                creation_time: 5,
            },
            new: SnapshotIdentity::default(),
            next_chunk: 17,
            records_done: 3,
        };
        save(&path, &p).unwrap();
        assert_eq!(load(&path).unwrap(), Some(p));
        std::fs::write(&path, "rlvsync-progress 1\nstate=odd\n").unwrap();
        assert!(load(&path).is_err());
        assert_eq!(
            default_path("/dev/vg/copy", None, Path::new("/s")),
            PathBuf::from("/s/sync/dev_vg_copy.rlvsync")
        );
        assert_eq!(
            default_path("x/copy.img", Some(Path::new("x/copy.img")), Path::new("/s")),
            PathBuf::from("x/.copy.img.rlvsync")
        );
    }
}
