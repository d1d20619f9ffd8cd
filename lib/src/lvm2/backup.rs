//! lvm2's metadata archive and backup: before every metadata change the VG
//! as it was goes to `archive/VG_NNNNN-<random>.vg`, after it the VG as it is
//! now goes to `backup/VG`, both in the text file format lvm2 writes (its
//! header comments, tab-indented sections, size comments), so lvm2's
//! `vgcfgrestore` reads rlvm's files and rlvm's reads lvm2's.
//!
//! The policy is per process: the commands set it once from the
//! configuration and `-A/--autobackup` ([`configure`]); a process that never
//! configures it (a library user, a unit test) archives nothing.

use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use thiserror::Error;

use super::model::{MetadataError, Vg};
use super::text::{self, Item, Value};
use crate::config::Config;

/// lvm2's `backup/retain_min` default: archives always kept per VG.
pub const DEFAULT_RETAIN_MIN: u64 = 10;
/// lvm2's `backup/retain_days` default: archives younger than this are kept.
pub const DEFAULT_RETAIN_DAYS: u64 = 30;

/// Where and whether metadata is archived and backed up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Archive the old metadata before a change (`backup/archive`).
    pub archive: bool,
    /// Back up the new metadata after a change (`backup/backup`).
    pub backup: bool,
    /// `backup/archive_dir`.
    pub archive_dir: PathBuf,
    /// `backup/backup_dir`.
    pub backup_dir: PathBuf,
    /// `backup/retain_min`: archives kept whatever their age.
    pub retain_min: u64,
    /// `backup/retain_days`: archives younger than this are never removed.
    pub retain_days: u64,
}

impl Policy {
    /// The policy `config` describes; `autobackup` false (`-A n`) turns off
    /// both the archive and the backup, as lvm2 does.
    pub fn from_config(config: &Config, autobackup: bool) -> Self {
        let (archive_dir, backup_dir) = default_dirs();
        let flag = |key: &str| config.int(key).is_none_or(|n| n != 0);
        let count = |key: &str, default: u64| {
            config
                .int(key)
                .map_or(default, |n| u64::try_from(n).unwrap_or(0))
        };
        Self {
            archive: autobackup && flag("backup/archive"),
            backup: autobackup && flag("backup/backup"),
            archive_dir: config
                .string("backup/archive_dir")
                .map_or(archive_dir, PathBuf::from),
            backup_dir: config
                .string("backup/backup_dir")
                .map_or(backup_dir, PathBuf::from),
            retain_min: count("backup/retain_min", DEFAULT_RETAIN_MIN),
            retain_days: count("backup/retain_days", DEFAULT_RETAIN_DAYS),
        }
    }
}

/// The default archive and backup directories: under `RLVM_DIR` when it is
/// set (a private setup); lvm2's `/etc/lvm/archive` and `/etc/lvm/backup`
/// for root where lvm2's `/etc/lvm` exists (the files describe lvm2-format
/// metadata whichever engine maps the devices, and lvm2's own vgcfgrestore
/// looks there); else under rlvm's state directory (non-root users, and
/// root on a host without lvm2).
pub fn default_dirs() -> (PathBuf, PathBuf) {
    let explicit = std::env::var_os("RLVM_DIR").is_some_and(|d| !d.is_empty());
    let etc = Path::new("/etc/lvm");
    if !explicit && nix::unistd::geteuid().is_root() && etc.is_dir() {
        return (etc.join("archive"), etc.join("backup"));
    }
    let state = crate::backend::state_dir();
    (state.join("archive"), state.join("backup"))
}

struct Settings {
    policy: Option<Policy>,
    command_line: String,
}

static SETTINGS: Mutex<Settings> = Mutex::new(Settings {
    policy: None,
    command_line: String::new(),
});

/// Set this process's policy (`None`: no archive, no backup) and the command
/// line the files' descriptions quote.
pub fn configure(policy: Option<Policy>, command_line: &str) {
    let mut settings = SETTINGS.lock().unwrap_or_else(|e| e.into_inner());
    settings.policy = policy;
    settings.command_line = command_line.to_string();
}

/// This process's policy.
pub fn policy() -> Option<Policy> {
    SETTINGS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .policy
        .clone()
}

/// The command line as lvm2 quotes it in a description: arguments joined by
/// spaces, those holding a space in single quotes.
pub fn command_line() -> String {
    SETTINGS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .command_line
        .clone()
}

/// `args` (program name first) joined as lvm2 records them.
pub fn quote_command_line<S: AsRef<str>>(args: &[S]) -> String {
    args.iter()
        .map(|a| {
            let a = a.as_ref();
            if a.contains(' ') || a.is_empty() {
                format!("'{a}'")
            } else {
                a.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a metadata file could not be written or read.
#[derive(Debug, Error)]
pub enum BackupError {
    /// The file or its directory could not be read or written.
    #[error("{path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not lvm2 metadata text.
    #[error("{path}")]
    Metadata {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: MetadataError,
    },
    /// The file holds another VG.
    #[error("'{path}' does not contain volume group '{vg}'.")]
    OtherVg {
        /// The file.
        path: PathBuf,
        /// The VG asked for.
        vg: String,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Archive `vg` (the metadata about to be replaced) under the process's
/// policy; returns the file written, if any. Old archives beyond the
/// retention policy are removed afterwards.
pub fn archive(vg: &Vg) -> Result<Option<PathBuf>, BackupError> {
    let Some(policy) = policy().filter(|p| p.archive && !crate::io::dry_run()) else {
        return Ok(None);
    };
    let description = format!("Created *before* executing '{}'", command_line());
    let path = archive_to(&policy, vg, &description, SystemTime::now())?;
    remove_expired(&policy, &vg.name, SystemTime::now())?;
    Ok(Some(path))
}

/// Back up `vg` (the metadata just committed) under the process's policy;
/// a failure, or a policy that turns backups off, is lvm2's warning that
/// the update is not backed up (the change itself has been made).
pub fn backup(vg: &Vg) -> Option<PathBuf> {
    // Test mode (-t) changed nothing to back up.
    let policy = policy().filter(|_| !crate::io::dry_run())?;
    if policy.backup {
        let description = format!("Created *after* executing '{}'", command_line());
        let path = policy.backup_dir.join(&vg.name);
        match write_file(&path, vg, &description, SystemTime::now()) {
            Ok(()) => return Some(path),
            Err(BackupError::Io { path, source }) => crate::log::warning(format!(
                "Failed to write backup file {}: {source}",
                path.display()
            )),
            Err(e) => crate::log::warning(format!("Failed to write backup file {e}")),
        }
    }
    crate::log::warning("This metadata update is NOT backed up.");
    None
}

/// Remove VG `name`'s backup file (after vgremove or a rename), if the policy has one.
pub fn remove_backup(name: &str) {
    if let Some(policy) = policy().filter(|_| !crate::io::dry_run()) {
        let _ = std::fs::remove_file(policy.backup_dir.join(name));
    }
}

/// Write `vg` into a new archive file of `policy.archive_dir`: the next index
/// after the highest there, and a random suffix, as lvm2 names them.
pub fn archive_to(
    policy: &Policy,
    vg: &Vg,
    description: &str,
    now: SystemTime,
) -> Result<PathBuf, BackupError> {
    let next = archives_of(&policy.archive_dir, &vg.name)
        .last()
        .map_or(0, |(index, _)| index + 1);
    let path = policy
        .archive_dir
        .join(format!("{}_{next:05}-{}.vg", vg.name, random_suffix()));
    write_file(&path, vg, description, now)?;
    Ok(path)
}

fn random_suffix() -> u32 {
    let mut bytes = [0u8; 4];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
        .is_err()
    {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        bytes = (nanos ^ std::process::id()).to_le_bytes();
    }
    u32::from_le_bytes(bytes) & 0x7fff_ffff
}

/// VG `name`'s archive files in `dir`, by index (oldest first).
pub fn archives_of(dir: &Path, name: &str) -> Vec<(u64, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let prefix = format!("{name}_");
    let mut found: Vec<(u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let file = entry.file_name().into_string().ok()?;
            let rest = file.strip_prefix(&prefix)?.strip_suffix(".vg")?;
            let (index, random) = rest.split_once('-')?;
            if index.len() < 5 || !random.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some((index.parse().ok()?, entry.path()))
        })
        .collect();
    found.sort();
    found
}

/// Remove VG `name`'s oldest archives as lvm2 does: never the newest
/// `retain_min`, never one younger than `retain_days`.
fn remove_expired(policy: &Policy, name: &str, now: SystemTime) -> Result<(), BackupError> {
    let archives = archives_of(&policy.archive_dir, name);
    let mut left = archives.len() as u64;
    let keep_after = now
        .checked_sub(Duration::from_secs(policy.retain_days * 86_400))
        .unwrap_or(UNIX_EPOCH);
    for (_, path) in archives {
        if left <= policy.retain_min {
            break;
        }
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_err(io_error(&path))?;
        if modified > keep_after {
            break;
        }
        std::fs::remove_file(&path).map_err(io_error(&path))?;
        left -= 1;
    }
    Ok(())
}

/// Write `vg` to `path` in lvm2's backup file format, through a temporary
/// file renamed into place (a crash leaves the old file or the new one).
pub fn write_file(
    path: &Path,
    vg: &Vg,
    description: &str,
    now: SystemTime,
) -> Result<(), BackupError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    if !dir.as_os_str().is_empty() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_error(dir))?;
    }
    let text = file_text(vg, description, now);
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("vg"),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        BackupError::Io {
            path: path.to_path_buf(),
            source: e,
        }
    })
}

/// A metadata file as read: the VG and the header's description and time.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupFile {
    /// The VG it holds.
    pub vg: Vg,
    /// Its `description`.
    pub description: String,
    /// Its `creation_time` (seconds since the epoch).
    pub creation_time: Option<i64>,
}

/// Read a metadata file (lvm2's or rlvm's backup, archive or vgcfgbackup output).
pub fn read_file(path: &Path) -> Result<BackupFile, BackupError> {
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    let vg = Vg::parse(&text).map_err(|source| BackupError::Metadata {
        path: path.to_path_buf(),
        source,
    })?;
    let description = match text::get(&vg.header, "description") {
        Some(Value::Str(s)) => s.clone(),
        _ => String::new(),
    };
    let creation_time = match text::get(&vg.header, "creation_time") {
        Some(Value::Int(t)) => Some(*t),
        _ => None,
    };
    Ok(BackupFile {
        vg,
        description,
        creation_time,
    })
}

/// The text of a metadata file of `vg`, as lvm2 writes it.
pub fn file_text(vg: &Vg, description: &str, now: SystemTime) -> String {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let host = nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Generated by LVM2 version rlvm {}: {}\n",
        env!("CARGO_PKG_VERSION"),
        ctime(secs)
    );
    out.push_str("contents = \"Text Format Volume Group\"\nversion = 1\n\n");
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let _ = writeln!(out, "description = \"{}\"\n", quote(description));
    let _ = writeln!(
        out,
        "creation_host = \"{}\"\t# {}",
        quote(&host),
        uname_line(&host)
    );
    let _ = writeln!(out, "creation_time = {secs}\t# {}\n", ctime(secs));
    // The VG section as the model writes it, re-laid out as lvm2's files are.
    let items = text::parse(&vg.to_text()).unwrap_or_default();
    for item in &items {
        if let Item::Section(name, inner) = item {
            let _ = writeln!(out, "{name} {{");
            write_items(&mut out, inner, 1, Context::Vg, vg.extent_size as i64);
            if !inner
                .iter()
                .any(|i| matches!(i, Item::Section(n, _) if n == "logical_volumes"))
            {
                out.push('\n');
            }
            out.push_str("\n}\n");
            break;
        }
    }
    out
}

/// Which section a key is in, for lvm2's comments.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Vg,
    Pv,
    Lv,
    Segment,
    Other,
}

/// Write `items` at `depth` tabs; `extent` (sectors) sizes the extent-count comments.
fn write_items(out: &mut String, items: &[Item], depth: usize, context: Context, extent: i64) {
    let indent = "\t".repeat(depth);
    for item in items {
        match item {
            Item::Section(name, inner) => {
                let inner_context = match (context, name.as_str()) {
                    (Context::Vg, "physical_volumes") | (Context::Vg, "logical_volumes") => {
                        Context::Other
                    }
                    (Context::Other, _) if depth == 2 => {
                        if text::get(inner, "pe_start").is_some() {
                            Context::Pv
                        } else {
                            Context::Lv
                        }
                    }
                    (Context::Lv, n) if n.starts_with("segment") => Context::Segment,
                    _ => Context::Other,
                };
                let _ = writeln!(out, "\n{indent}{name} {{");
                write_items(out, inner, depth + 1, inner_context, extent);
                let _ = writeln!(out, "{indent}}}");
            }
            Item::Setting(key, value) => {
                if key == "stripes" && context == Context::Segment {
                    let _ = writeln!(out, "\n{indent}stripes = [");
                    if let Value::Array(values) = value {
                        for pair in values.chunks(2) {
                            let line: Vec<String> = pair.iter().map(value_text).collect();
                            let _ = writeln!(out, "{indent}\t{}", line.join(", "));
                        }
                    }
                    let _ = writeln!(out, "{indent}]");
                    continue;
                }
                let _ = write!(out, "{indent}{key} = {}", value_text(value));
                let int = match value {
                    Value::Int(n) => Some(*n),
                    _ => None,
                };
                match (context, key.as_str(), int) {
                    (Context::Vg, "format", _) => out.push_str("\t\t\t# informational\n"),
                    (Context::Vg, "extent_size", Some(n)) => {
                        let _ = writeln!(out, "\t\t{}", size_comment(n));
                    }
                    (Context::Pv, "device", _) => out.push_str("\t# Hint only\n\n"),
                    (Context::Pv, "dev_size", Some(n)) => {
                        let _ = writeln!(out, "\t{}", size_comment(n));
                    }
                    (Context::Pv, "pe_count", Some(n)) => {
                        let _ = writeln!(out, "\t{}", size_comment(n * extent));
                    }
                    (Context::Lv, "creation_time", Some(t)) => {
                        let _ = writeln!(out, "\t# {}", iso_time(t));
                    }
                    (Context::Segment, "extent_count", Some(n)) => {
                        let _ = writeln!(out, "\t{}\n", size_comment(n * extent));
                    }
                    (Context::Segment, "stripe_count", Some(1)) => out.push_str("\t# linear\n"),
                    (Context::Segment, "stripe_size", Some(n))
                    | (Context::Segment, "chunk_size", Some(n)) => {
                        let _ = writeln!(out, "\t{}", size_comment(n));
                    }
                    _ => out.push('\n'),
                }
            }
        }
    }
}

fn value_text(value: &Value) -> String {
    let mut items = text::emit(&[Item::Setting("x".into(), value.clone())]);
    items.truncate(items.trim_end().len());
    items.split_off(4)
}

/// lvm2's comment for a size in sectors: `# 4 Megabytes`, `%g` of the
/// largest unit the size is more than 1024 of the next smaller one.
pub fn size_comment(sectors: i64) -> String {
    const UNITS: [&str; 6] = [
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Petabytes",
        "Exabytes",
    ];
    let mut d = sectors as f64 / 2.0;
    let mut unit = 0;
    while d > 1024.0 && unit + 1 < UNITS.len() {
        d /= 1024.0;
        unit += 1;
    }
    format!("# {} {}", format_g(d), UNITS[unit])
}

/// C's `%g` for the values size comments take (below 10^6): six significant digits, trailing zeros dropped.
fn format_g(d: f64) -> String {
    if d == 0.0 {
        return "0".into();
    }
    let exponent = d.abs().log10().floor() as i32;
    let decimals = (5 - exponent).max(0) as usize;
    let mut s = format!("{d:.decimals$}");
    if s.contains('.') {
        s.truncate(s.trim_end_matches('0').trim_end_matches('.').len());
    }
    s
}

/// The broken-down local time of `secs`.
fn local_time(secs: i64) -> libc::tm {
    let t = secs as libc::time_t;
    // SAFETY: `tm` is plain data that localtime_r fills in; both pointers are valid.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&t, &mut tm);
        tm
    }
}

/// `Tue Dec  1 22:15:22 2026`, as C's ctime in local time.
pub fn ctime(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let tm = local_time(secs);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        DAYS[tm.tm_wday.clamp(0, 6) as usize],
        MONTHS[tm.tm_mon.clamp(0, 11) as usize],
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        tm.tm_year + 1900
    )
}

/// `2026-12-01 22:15:26 +0000`, lvm2's comment on an LV's creation time.
fn iso_time(secs: i64) -> String {
    let tm = local_time(secs);
    let offset = tm.tm_gmtoff / 60;
    format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02} {}{:02}{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        if offset < 0 { '-' } else { '+' },
        offset.abs() / 60,
        offset.abs() % 60
    )
}

/// `Linux vm 6.1.0 #1 SMP ... x86_64`: uname's fields, as lvm2 comments the host.
fn uname_line(host: &str) -> String {
    let read = |name: &str| {
        std::fs::read_to_string(format!("/proc/sys/kernel/{name}"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    format!(
        "{} {host} {} {} {}",
        read("ostype"),
        read("osrelease"),
        read("version"),
        std::env::consts::ARCH
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_vg() -> Vg {
        let text = "vg1 {\nid = \"x\"\nseqno = 3\nformat = \"lvm2\"\nstatus = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\nflags = []\nextent_size = 8192\nmax_lv = 0\nmax_pv = 0\nmetadata_copies = 0\nphysical_volumes {\npv0 {\nid = \"p\"\ndevice = \"/dev/loop0\"\nstatus = [\"ALLOCATABLE\"]\nflags = []\ndev_size = 131072\npe_start = 2048\npe_count = 15\n}\n}\nlogical_volumes {\nlv1 {\nid = \"l\"\nstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\nflags = []\ncreation_time = 1796163326\ncreation_host = \"vm\"\nsegment_count = 1\nsegment1 {\nstart_extent = 0\nextent_count = 2\ntype = \"striped\"\nstripe_count = 1\nstripes = [\n\"pv0\", 0\n]\n}\n}\n}\n}\n";
        Vg::parse(text).unwrap()
    }

    fn policy(dir: &Path) -> Policy {
        Policy {
            archive: true,
            backup: true,
            archive_dir: dir.join("archive"),
            backup_dir: dir.join("backup"),
            retain_min: 2,
            retain_days: 0,
        }
    }

    #[test]
    fn sizes_are_commented_as_lvm2_does() {
        assert_eq!(size_comment(8192), "# 4 Megabytes");
        assert_eq!(size_comment(2048), "# 1024 Kilobytes");
        assert_eq!(size_comment(7577600), "# 3.61328 Gigabytes");
        assert_eq!(size_comment(134000), "# 65.4297 Megabytes");
        assert_eq!(size_comment(3699 * 2048), "# 3.6123 Gigabytes");
        assert_eq!(size_comment(128), "# 64 Kilobytes");
    }

    #[test]
    fn file_layout_is_lvm2s() {
        let text = file_text(&sample_vg(), "Created *after* executing 'x'", UNIX_EPOCH);
        // lvm2 2.03.16's backup file of the same VG, less its first and host lines.
        let expected_body = "\nvg1 {\n\tid = \"x\"\n\tseqno = 3\n\tformat = \"lvm2\"\t\t\t# informational\n\tstatus = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\n\tflags = []\n\textent_size = 8192\t\t# 4 Megabytes\n\tmax_lv = 0\n\tmax_pv = 0\n\tmetadata_copies = 0\n\n\tphysical_volumes {\n\n\t\tpv0 {\n\t\t\tid = \"p\"\n\t\t\tdevice = \"/dev/loop0\"\t# Hint only\n\n\t\t\tstatus = [\"ALLOCATABLE\"]\n\t\t\tflags = []\n\t\t\tdev_size = 131072\t# 64 Megabytes\n\t\t\tpe_start = 2048\n\t\t\tpe_count = 15\t# 60 Megabytes\n\t\t}\n\t}\n\n\tlogical_volumes {\n\n\t\tlv1 {\n\t\t\tid = \"l\"\n\t\t\tstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\n\t\t\tflags = []\n\t\t\tcreation_time = 1796163326\t# ";
        assert!(text.contains(expected_body), "{text}");
        assert!(text.ends_with("\t\t\tsegment_count = 1\n\n\t\t\tsegment1 {\n\t\t\t\tstart_extent = 0\n\t\t\t\textent_count = 2\t# 8 Megabytes\n\n\t\t\t\ttype = \"striped\"\n\t\t\t\tstripe_count = 1\t# linear\n\n\t\t\t\tstripes = [\n\t\t\t\t\t\"pv0\", 0\n\t\t\t\t]\n\t\t\t}\n\t\t}\n\t}\n\n}\n"), "{text}");
        assert!(text.starts_with("# Generated by LVM2 version rlvm "));
        assert!(text.contains("\n\ncontents = \"Text Format Volume Group\"\nversion = 1\n\ndescription = \"Created *after* executing 'x'\"\n\ncreation_host = \""));
        assert!(text.contains("\ncreation_time = 0\t# "));
        // And it reads back as the same VG.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vg1");
        write_file(&path, &sample_vg(), "d \"q\"", UNIX_EPOCH).unwrap();
        let file = read_file(&path).unwrap();
        assert_eq!(file.description, "d \"q\"");
        assert_eq!(file.creation_time, Some(0));
        let mut vg = file.vg;
        vg.header = sample_vg().header;
        assert_eq!(vg, sample_vg());
    }

    #[test]
    fn a_vg_without_lvs_ends_as_lvm2s() {
        let mut vg = sample_vg();
        vg.lvs.clear();
        let text = file_text(&vg, "d", UNIX_EPOCH);
        assert!(text.ends_with("\t\t\tpe_count = 15\t# 60 Megabytes\n\t\t}\n\t}\n\n\n}\n"));
    }

    #[test]
    fn archives_are_numbered_and_expire_by_policy() {
        let dir = tempfile::tempdir().unwrap();
        let policy = policy(dir.path());
        let vg = sample_vg();
        let mut written = Vec::new();
        for _ in 0..4 {
            written.push(archive_to(&policy, &vg, "d", SystemTime::now()).unwrap());
        }
        let names: Vec<String> = archives_of(&policy.archive_dir, "vg1")
            .iter()
            .map(|(i, p)| {
                let name = p.file_name().unwrap().to_string_lossy().to_string();
                assert!(name.starts_with(&format!("vg1_{i:05}-")), "{name}");
                assert!(name.ends_with(".vg"), "{name}");
                name
            })
            .collect();
        assert_eq!(names.len(), 4);
        // Another VG's name that shares a prefix is not this VG's archive.
        std::fs::write(policy.archive_dir.join("vg10_00000-1.vg"), "x").unwrap();
        assert_eq!(archives_of(&policy.archive_dir, "vg1").len(), 4);
        // retain_days 0: everything older than now goes, but retain_min stay.
        remove_expired(&policy, "vg1", SystemTime::now() + Duration::from_secs(1)).unwrap();
        let left: Vec<u64> = archives_of(&policy.archive_dir, "vg1")
            .iter()
            .map(|a| a.0)
            .collect();
        assert_eq!(left, vec![2, 3]);
        // Young archives are kept whatever their number.
        let young = Policy {
            retain_min: 0,
            retain_days: 30,
            ..policy.clone()
        };
        remove_expired(&young, "vg1", SystemTime::now()).unwrap();
        assert_eq!(archives_of(&policy.archive_dir, "vg1").len(), 2);
        assert!(!written[0].exists() && written[3].exists());
    }

    #[test]
    fn policy_follows_config_and_autobackup() {
        let mut config = Config::default();
        config
            .merge_text(
                "backup { archive = 0\narchive_dir = \"/a\"\nbackup_dir = \"/b\"\nretain_min = 3 }",
                "t",
            )
            .unwrap();
        let policy = Policy::from_config(&config, true);
        assert!(!policy.archive && policy.backup);
        assert_eq!(policy.archive_dir, PathBuf::from("/a"));
        assert_eq!(policy.backup_dir, PathBuf::from("/b"));
        assert_eq!((policy.retain_min, policy.retain_days), (3, 30));
        let off = Policy::from_config(&Config::default(), false);
        assert!(!off.archive && !off.backup);
    }

    #[test]
    fn command_lines_are_quoted_as_lvm2_records_them() {
        assert_eq!(
            quote_command_line(&["vgchange", "--config", "a=1 b=2", "vg"]),
            "vgchange --config 'a=1 b=2' vg"
        );
    }

    #[test]
    fn reading_another_file_fails_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk");
        std::fs::write(&path, "not metadata {").unwrap();
        let err = read_file(&path).unwrap_err();
        assert!(err.to_string().starts_with(&path.display().to_string()));
        assert!(matches!(
            read_file(&dir.path().join("none")),
            Err(BackupError::Io { .. })
        ));
    }
}
