//! PVs, VGs and LVs on disk: creating PVs with pvcreate's layout, VGs over
//! them, linear LVs by lvm2's normal allocation, and the removals and
//! renames, all as metadata commits that lvm2 reads as its own.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use thiserror::Error;

use crate::io::{BlockIo, FileDisk};
use crate::lvm2::label::{
    dashed_uuid, new_compact_uuid, DiskLocn, Label, PvExtension, PV_EXT_USED, PV_EXT_VERSION,
};
use crate::lvm2::lock::{lock, lock_dir, Lock, Resource};
use crate::lvm2::mda::MdaHeader;
use crate::lvm2::model::{Lv, Pv, Segment, SegmentKind, Vg};
use crate::lvm2::store::{
    commit_vg, newest_index, newest_vg, read_copies, read_vg, MdaCopy, PvDevice, VgError,
};
use crate::lvm2::text::{Item, Value};
use crate::lvm2::validate::{segment_pv_areas, unknown_segment_types, validate, InvalidVg};
use crate::lvm2::Lvm2Error;
use crate::names::{validate_lv_name, validate_vg_name, NameError};

/// Where pvcreate puts the metadata area by default (after the label sector and padding).
pub const DEFAULT_MDA_OFFSET: u64 = 4096;
/// Default start of the data area: 1 MiB, as pvcreate aligns it.
pub const DEFAULT_DATA_ALIGNMENT: u64 = 1 << 20;
/// lvm2's default extent size: 4 MiB.
pub const DEFAULT_EXTENT_SECTORS: u64 = 8192;

/// Why a volume operation was refused or failed.
#[derive(Debug, Error)]
pub enum VolumeError {
    /// A device could not be opened or written.
    #[error("{}", .path.display())]
    Device {
        /// The device.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// On-disk metadata is damaged.
    #[error("{}", .path.display())]
    Format {
        /// The device.
        path: PathBuf,
        /// What is wrong.
        source: Lvm2Error,
    },
    /// The VG's metadata could not be used.
    #[error(transparent)]
    Vg(#[from] VgError),
    /// A name breaks lvm2's rules.
    #[error(transparent)]
    Name(#[from] NameError),
    /// vgcreate's new VG name breaks lvm2's rules (a bad command line, exit 3).
    #[error("{}\n  New volume group name \"{name}\" is invalid.", new_name_detail(.rule))]
    NewVgName {
        /// The name.
        name: String,
        /// The rule it breaks (worded in the message, not chained after it).
        rule: NameError,
    },
    /// The device already carries something that pvcreate would destroy.
    #[error("{path}: found {what} signature; use --force to overwrite it")]
    Signature {
        /// The device.
        path: PathBuf,
        /// What was found.
        what: String,
    },
    /// The PV belongs to a VG: refused in the words of the command that asked.
    #[error("{}", in_use_message(.path, .vg, *.asked))]
    InUse {
        /// The device.
        path: PathBuf,
        /// Its VG.
        vg: String,
        /// What was asked of it.
        asked: PvUse,
    },
    /// No device (or image file) at that path.
    #[error("No device found for {}.", .0.display())]
    NoDevice(PathBuf),
    /// vgextend was given a PV that is in a VG already (this one or another).
    #[error("{}", in_use_message(.path, .vg, PvUse::NewVg))]
    AlreadyInVg {
        /// The device.
        path: PathBuf,
        /// Its VG.
        vg: String,
    },
    /// The device is not a PV.
    #[error("{0}: not a physical volume (no LVM2 label)")]
    NotAPv(PathBuf),
    /// The device is too small.
    #[error("{path}: too small for a physical volume ({size} bytes; needs more than {needed})")]
    TooSmall {
        /// The device.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The minimum.
        needed: u64,
    },
    /// A VG or LV of that name exists already.
    #[error("{0} already exists")]
    Exists(String),
    /// No such VG or LV.
    #[error("{0} not found")]
    NotFound(String),
    /// No VG of that name: lvm2's line, and its follow-up of a command that
    /// processes VGs by name.
    #[error("Volume group \"{0}\" not found\n  Cannot process volume group {0}")]
    VgNotFound(String),
    /// Not enough free extents.
    #[error("Insufficient free space: {needed} extents needed, but only {free} available")]
    NoSpace {
        /// VG name.
        vg: String,
        /// Free extents.
        free: u64,
        /// Extents asked for.
        needed: u64,
    },
    /// The request itself is inconsistent.
    #[error("{0}")]
    Invalid(String),
    /// The VG's metadata breaks a rule lvm2's `vg_validate` checks: it is
    /// reported, never changed or activated.
    #[error("volume group {vg} is damaged: {source}")]
    Damaged {
        /// The VG.
        vg: String,
        /// The rule it breaks.
        source: Box<InvalidVg>,
    },
    /// Two VGs share the name asked for (lvm2's refusal, with its hint).
    #[error("Multiple VGs found with the same name: skipping {0}\n  Use --select vg_uuid=<uuid> in place of the VG name.")]
    DuplicateName(String),
    /// A PV carries metadata that cannot be read: it belongs to a VG until proven otherwise.
    #[error("{path}: physical volume has damaged metadata ({why}); use -ff to override")]
    DamagedPv {
        /// The device.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// Building or tearing down device-mapper devices failed (and was undone).
    #[error(transparent)]
    Activation(#[from] crate::ops::OpsError),
    /// The allocator found no place for the extents asked for.
    #[error(transparent)]
    Alloc(#[from] super::alloc::AllocError),
}

/// lvm2's line for a bad new name, where rlvm knows it.
fn new_name_detail(error: &NameError) -> String {
    match error {
        NameError::InvalidCharacter { .. } => {
            "Name contains invalid character, valid set includes: [a-zA-Z0-9.-_+].".into()
        }
        other => other.to_string(),
    }
}

impl VolumeError {
    /// Whether lvm2 treats this as a bad command line (exit 3).
    pub fn is_usage(&self) -> bool {
        matches!(self, VolumeError::Name(_) | VolumeError::NewVgName { .. })
    }
}

/// What a command asked of a PV that turned out to be in a VG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PvUse {
    /// pvcreate (without -ff).
    Create,
    /// pvremove (without -ff).
    Remove,
    /// vgcreate, which takes orphans only.
    NewVg,
    /// pvcreate or pvremove with -ff, which rlvm still refuses on a VG's PV.
    Forced,
}

fn in_use_message(path: &Path, vg: &str, asked: PvUse) -> String {
    let p = path.display();
    match asked {
        PvUse::Create => format!(
            "Can't initialize physical volume \"{p}\" of volume group \"{vg}\" without -ff\n  {p}: physical volume not initialized."
        ),
        PvUse::Remove => format!(
            "PV {p} is used by VG {vg} so please use vgreduce first.\n  (If you are certain you need pvremove, then confirm by using --force twice.)\n  {p}: physical volume label not removed."
        ),
        PvUse::NewVg => format!(
            "Physical volume '{p}' is already in volume group '{vg}'\n  Unable to add physical volume '{p}' to volume group '{vg}'\n  {p}: physical volume not initialized."
        ),
        PvUse::Forced => format!("{p}: physical volume belongs to volume group {vg}"),
    }
}

/// Open the device at `path` (read-write), a missing one named as lvm2 names it.
fn open_device(path: &Path) -> Result<FileDisk, VolumeError> {
    FileDisk::open(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => VolumeError::NoDevice(path.to_path_buf()),
        _ => device_error(path)(source),
    })
}

fn device_error(path: &Path) -> impl FnOnce(std::io::Error) -> VolumeError + '_ {
    move |source| VolumeError::Device {
        path: path.to_path_buf(),
        source: needs_root(path, source),
    }
}

/// An ordinary user refused a device node is told that root is what it
/// takes (and what works without it), not just "Permission denied".
fn needs_root(path: &Path, error: std::io::Error) -> std::io::Error {
    use std::os::unix::fs::FileTypeExt;
    let device = std::fs::metadata(path).is_ok_and(|m| m.file_type().is_block_device());
    if error.kind() == std::io::ErrorKind::PermissionDenied
        && device
        && !nix::unistd::geteuid().is_root()
    {
        return std::io::Error::new(
            error.kind(),
            "a block device needs root (an ordinary user works on image files)",
        );
    }
    error
}

/// A signature pvcreate must not destroy silently, if `disk` carries one.
pub fn find_signature(disk: &dyn BlockIo) -> std::io::Result<Option<String>> {
    let size = disk.size_bytes()?;
    let mut head = vec![0u8; 8192.min(size as usize)];
    disk.read_exact_at(&mut head, 0)?;
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if (0..4).any(|s| at(s * 512, b"LABELONE")) {
        return Ok(Some("LVM2_member".into()));
    }
    if at(0, b"SnAp") {
        return Ok(Some("device-mapper snapshot COW".into()));
    }
    if at(1080, &[0x53, 0xef]) {
        return Ok(Some("ext2/ext3/ext4".into()));
    }
    if at(0, b"XFSB") {
        return Ok(Some("xfs".into()));
    }
    if at(4086, b"SWAPSPACE2") || at(4086, b"SWAP-SPACE") {
        return Ok(Some("swap".into()));
    }
    if at(512, b"EFI PART") {
        return Ok(Some("gpt partition table".into()));
    }
    if at(510, &[0x55, 0xaa]) && head[446..510].iter().any(|&b| b != 0) {
        return Ok(Some("dos partition table".into()));
    }
    Ok(None)
}

/// Options of `pvcreate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PvCreateOptions {
    /// Start of the data area in bytes (`--dataalignment`; pe_start).
    pub data_alignment: u64,
    /// Metadata area size in bytes (`--metadatasize`); default fills up to the data area.
    pub metadata_size: Option<u64>,
    /// Overwrite an existing signature (`-f`).
    pub force: bool,
    /// Metadata areas: 0, 1 (at 4 KiB) or 2 (also one at the end), `--metadatacopies`.
    pub metadata_copies: u8,
    /// Overwrite a PV whose metadata cannot be read (`-ff`).
    pub force_damaged: bool,
}

impl Default for PvCreateOptions {
    fn default() -> Self {
        Self {
            data_alignment: DEFAULT_DATA_ALIGNMENT,
            metadata_size: None,
            force: false,
            metadata_copies: 1,
            force_damaged: false,
        }
    }
}

/// Make `path` a PV with pvcreate's layout: label in sector 1, one metadata
/// area at 4 KiB, data from `data_alignment`. Refuses any existing signature
/// without `force`, and a PV that belongs to a VG even with it.
pub fn pv_create(path: &Path, options: &PvCreateOptions) -> Result<Label, VolumeError> {
    let _orphans = lock(Resource::Orphans, true).map_err(device_error(&lock_dir()))?;
    let disk = open_device(path)?;
    let asked = if options.force_damaged {
        PvUse::Forced
    } else {
        PvUse::Create
    };
    let orphan = match PvDevice::open(&disk) {
        Ok(Some(pv)) => {
            check_not_in_use(path, &pv, options.force_damaged, asked)?;
            true
        }
        Ok(None) => false,
        // A damaged label is overwritten only when forced (its signature is found below).
        Err(_) => false,
    };
    // An orphan PV is made again without -f, as lvm2 does: its own label
    // is the only signature found.
    let label = if orphan {
        pv_layout(
            path,
            &disk,
            &PvCreateOptions {
                force: true,
                ..*options
            },
        )?
    } else {
        pv_layout(path, &disk, options)?
    };
    write_pv(path, &disk, &label)?;
    Ok(label)
}

/// The label pvcreate would write on `disk`, after every check that can
/// refuse it (size, signatures unless forced); nothing is written.
fn pv_layout(
    path: &Path,
    disk: &dyn BlockIo,
    options: &PvCreateOptions,
) -> Result<Label, VolumeError> {
    let size = disk.size_bytes().map_err(device_error(path))?;
    let mda_size = options
        .metadata_size
        .map(|s| s.next_multiple_of(512))
        .unwrap_or(options.data_alignment.saturating_sub(DEFAULT_MDA_OFFSET));
    let data_start = options
        .data_alignment
        .max(DEFAULT_MDA_OFFSET + mda_size)
        .next_multiple_of(512);
    if (options.metadata_copies > 0 && mda_size < 8 * 4096) || size <= data_start {
        return Err(VolumeError::TooSmall {
            path: path.into(),
            size,
            needed: data_start,
        });
    }
    if !options.force {
        if let Some(what) = find_signature(disk).map_err(device_error(path))? {
            return Err(VolumeError::Signature {
                path: path.into(),
                what,
            });
        }
    }
    Ok(Label {
        sector: 1,
        pv_uuid: new_compact_uuid().map_err(device_error(path))?,
        device_size: size,
        data_areas: vec![DiskLocn {
            offset: data_start,
            size: 0,
        }],
        metadata_areas: metadata_areas(path, size, data_start, mda_size, options)?,
        extension: Some(PvExtension {
            version: PV_EXT_VERSION,
            flags: 0,
            bootloader_areas: vec![],
        }),
    })
}

/// pvcreate's metadata areas for `--metadatacopies`: the first at 4 KiB, the
/// second (lvm2's layout) ending the device, its start aligned down to the
/// data alignment.
fn metadata_areas(
    path: &Path,
    size: u64,
    data_start: u64,
    mda_size: u64,
    options: &PvCreateOptions,
) -> Result<Vec<DiskLocn>, VolumeError> {
    let first = DiskLocn {
        offset: DEFAULT_MDA_OFFSET,
        size: mda_size,
    };
    match options.metadata_copies {
        0 => Ok(vec![]),
        1 => Ok(vec![first]),
        2 => {
            let align = options.data_alignment.max(512);
            let start = size.saturating_sub(mda_size) / align * align;
            if start <= data_start {
                return Err(VolumeError::TooSmall {
                    path: path.into(),
                    size,
                    needed: data_start + 2 * mda_size,
                });
            }
            Ok(vec![
                first,
                DiskLocn {
                    offset: start,
                    size: size - start,
                },
            ])
        }
        n => Err(VolumeError::Invalid(format!(
            "metadatacopies may only be 0, 1 or 2, not {n}"
        ))),
    }
}

/// The sectors of a PV's data area: up to a metadata area at its end, if any.
pub fn data_end_sectors(label: &Label) -> u64 {
    let data_start = label.data_areas.first().map_or(0, |a| a.offset);
    label
        .metadata_areas
        .iter()
        .filter(|a| a.offset > data_start)
        .map(|a| a.offset)
        .min()
        .unwrap_or(label.device_size)
        / 512
}

/// Write `label` (from [`pv_layout`]) and its empty metadata area to `disk`.
fn write_pv(path: &Path, disk: &dyn BlockIo, label: &Label) -> Result<(), VolumeError> {
    // Old signatures go first, then the empty metadata area, then the label
    // that makes the device a PV: a crash leaves no label over stale data.
    disk.write_all_at(&vec![0u8; DEFAULT_MDA_OFFSET as usize], 0)
        .map_err(device_error(path))?;
    for area in &label.metadata_areas {
        let header = MdaHeader::new(area.offset, area.size);
        disk.write_all_at(&header.encode(), area.offset)
            .map_err(device_error(path))?;
    }
    disk.flush().map_err(device_error(path))?;
    write_label(path, disk, label)
}

fn write_label(path: &Path, disk: &dyn BlockIo, label: &Label) -> Result<(), VolumeError> {
    let sector = label.encode().map_err(|source| VolumeError::Format {
        path: path.into(),
        source,
    })?;
    disk.write_all_at(&sector, label.sector * 512)
        .map_err(device_error(path))?;
    disk.flush().map_err(device_error(path))
}

/// The LVM2 label on `path`, refusing a device or file that carries none.
pub fn read_label(path: &Path) -> Result<Label, VolumeError> {
    let disk = FileDisk::open_read_only(path).map_err(device_error(path))?;
    Label::read(&disk)
        .map_err(|source| VolumeError::Format {
            path: path.into(),
            source,
        })?
        .ok_or_else(|| VolumeError::NotAPv(path.into()))
}

/// Refuse a PV that belongs to a VG, or whose metadata cannot be read
/// (unless `force_damaged`, pvcreate's and pvremove's `-ff`): a PV whose
/// label says it has metadata belongs to a VG until proven otherwise.
fn check_not_in_use(
    path: &Path,
    pv: &PvDevice<'_>,
    force_damaged: bool,
    asked: PvUse,
) -> Result<(), VolumeError> {
    let damage = |why: String| VolumeError::DamagedPv {
        path: path.into(),
        why,
    };
    match read_vg(std::slice::from_ref(pv)) {
        Ok(Some((vg, _))) => Err(VolumeError::InUse {
            path: path.into(),
            vg: vg.name,
            asked,
        }),
        Err(e) if !force_damaged => Err(damage(e.to_string())),
        Ok(None)
            if !force_damaged
                && !pv.label.metadata_areas.is_empty()
                && pv
                    .label
                    .extension
                    .as_ref()
                    .is_some_and(|e| e.flags & PV_EXT_USED != 0) =>
        {
            Err(damage(
                "its label says it is in use, but its metadata area holds no volume group".into(),
            ))
        }
        _ => Ok(()),
    }
}

/// Remove a PV's label (it must not belong to a VG).
pub fn pv_remove(path: &Path) -> Result<(), VolumeError> {
    pv_remove_forced(path, false)
}

/// Remove a PV's label; `force_damaged` (`-ff`) removes it even when its
/// metadata cannot be read. A PV in a readable VG is always refused.
pub fn pv_remove_forced(path: &Path, force_damaged: bool) -> Result<(), VolumeError> {
    let disk = open_device(path)?;
    let pv = PvDevice::open(&disk)
        .map_err(|source| VolumeError::Format {
            path: path.into(),
            source,
        })?
        .ok_or_else(|| VolumeError::NotAPv(path.into()))?;
    let asked = if force_damaged {
        PvUse::Forced
    } else {
        PvUse::Remove
    };
    check_not_in_use(path, &pv, force_damaged, asked)?;
    disk.write_all_at(&[0u8; 512], pv.label.sector * 512)
        .map_err(device_error(path))?;
    disk.flush().map_err(device_error(path))
}

/// A VG open for reading or changing, with the devices it lives on. It
/// holds lvm2's VG lock (shared for reading, exclusive for changing) until
/// dropped, so a read-modify-write never loses another command's update.
pub struct OpenVg {
    /// The VG as committed.
    pub vg: Vg,
    /// Its PVs' paths, by PV key (`pv0` ...).
    pub paths: Vec<(String, PathBuf)>,
    members: Vec<Member>,
    writable: bool,
    /// Why the VG cannot be changed although it reads (duplicate PV devices).
    frozen: Option<String>,
    _lock: Option<Lock>,
}

/// A device of an open VG, known by the PV UUID in its label.
struct Member {
    /// PV UUID, compact.
    pv_uuid: String,
    path: PathBuf,
    disk: FileDisk,
}

/// A device found carrying an LVM2 label, read once: its label, metadata
/// area headers and each area's committed copy, parsed.
struct Scanned {
    path: PathBuf,
    disk: FileDisk,
    label: Label,
    mdas: Vec<MdaHeader>,
    copies: Vec<MdaCopy>,
}

impl Scanned {
    /// The newest VG this device's own areas hold (what it says it belongs to).
    fn vg(&self) -> Option<&Vg> {
        newest_index(&self.copies).and_then(|index| self.copies[index].vg())
    }

    /// Why this device is not a usable orphan although it carries no
    /// readable VG: a damaged area, an unreadable text, or a label that says
    /// the PV is used. A PV whose label says it has metadata belongs to a
    /// VG until proven otherwise.
    fn damage(&self) -> Option<String> {
        if self.vg().is_some() {
            return None;
        }
        if let Some(e) = self.copies.iter().find_map(|c| c.vg.as_ref().err()) {
            return Some(e.to_string());
        }
        let used = self
            .label
            .extension
            .as_ref()
            .is_some_and(|e| e.flags & PV_EXT_USED != 0);
        (used && !self.label.metadata_areas.is_empty()).then(|| {
            "its label says it is in use, but its metadata area holds no volume group".into()
        })
    }

    /// Whether the label and area headers on disk are still the ones read,
    /// so the copies parsed then are the committed ones now (lvm2's check
    /// before it reuses a scan under the VG lock).
    fn unchanged(&self) -> bool {
        matches!(
            PvDevice::open(&self.disk),
            Ok(Some(pv)) if pv.label == self.label && pv.mdas == self.mdas
        )
    }
}

/// What one scan found: every labelled device once, the duplicates of a PV
/// set aside as lvm2 sets them aside.
struct Scan {
    devices: Vec<Scanned>,
    /// PV UUIDs (compact) seen on more than one device.
    duplicates: Vec<String>,
}

fn compact(uuid: &str) -> String {
    uuid.chars().filter(|&c| c != '-').collect()
}

/// Read every candidate that carries an LVM2 label, each read and parsed
/// once; a file named twice (or by two paths) is read once.
fn scan_devices(candidates: &[PathBuf]) -> Vec<Scanned> {
    let mut found = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for path in candidates {
        if !seen.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())) {
            continue;
        }
        let Ok(disk) = FileDisk::open_read_only(path) else {
            continue;
        };
        let pv = match PvDevice::open(&disk) {
            Ok(Some(pv)) => pv,
            Ok(None) => continue,
            Err(e) => {
                crate::log::verbose(1, format_args!("{}: {e}", path.display()));
                continue;
            }
        };
        for (start, e) in &pv.damaged {
            warn_once(format!(
                "Failed to read metadata area header on {} at {start}: {e}",
                path.display()
            ));
        }
        let copies = read_copies(&pv);
        let (label, mdas) = (pv.label, pv.mdas);
        found.push(Scanned {
            path: path.clone(),
            disk,
            label,
            mdas,
            copies,
        });
    }
    found
}

/// A scan warning, printed once per command however often it scans (a
/// report scans for its VGs and again for the orphans), as lvm2 prints it once.
fn warn_once(text: String) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if !seen.contains(&text) {
        seen.push(text.clone());
        crate::log::warning(text);
    }
}

/// Scan `candidates` as lvm2 does: one device per PV UUID (the one the
/// metadata last named, else the first found; the others are not used,
/// with lvm2's warnings), and a warning for each VG name two VGs share.
fn scan_all(candidates: &[PathBuf]) -> Scan {
    let all = scan_devices(candidates);
    let mut keep = vec![true; all.len()];
    let mut duplicates: Vec<String> = Vec::new();
    for first in 0..all.len() {
        let uuid = &all[first].label.pv_uuid;
        if !keep[first] || duplicates.contains(uuid) {
            continue;
        }
        let twins: Vec<usize> = (first..all.len())
            .filter(|&j| &all[j].label.pv_uuid == uuid)
            .collect();
        if twins.len() < 2 {
            continue;
        }
        let id = dashed_uuid(uuid);
        // The device the metadata names for this PV, as lvm2 prefers it.
        let named = |s: &Scanned| {
            s.vg()
                .and_then(|vg| vg.pvs.iter().find(|pv| pv.id == id))
                .is_some_and(|pv| Path::new(&pv.device) == s.path)
        };
        let chosen = twins
            .iter()
            .copied()
            .find(|&j| named(&all[j]))
            .unwrap_or(first);
        for &j in twins.iter().filter(|&&j| j != chosen) {
            keep[j] = false;
            warn_once(format!(
                "Not using device {} for PV {id}.",
                all[j].path.display()
            ));
        }
        let why = if named(&all[chosen]) {
            " because device name matches previous"
        } else {
            ""
        };
        warn_once(format!(
            "PV {id} prefers device {}{why}.",
            all[chosen].path.display()
        ));
        duplicates.push(uuid.clone());
    }
    let devices: Vec<Scanned> = all
        .into_iter()
        .zip(keep)
        .filter_map(|(device, keep)| keep.then_some(device))
        .collect();
    let mut by_name: Vec<(String, Vec<String>)> = Vec::new();
    for vg in devices.iter().filter_map(Scanned::vg) {
        match by_name.iter_mut().find(|(name, _)| name == &vg.name) {
            Some((_, ids)) if !ids.contains(&vg.id) => ids.push(vg.id.clone()),
            Some(_) => {}
            None => by_name.push((vg.name.clone(), vec![vg.id.clone()])),
        }
    }
    for (name, ids) in by_name.iter().filter(|(_, ids)| ids.len() > 1) {
        warn_once(format!(
            "VG name {name} is used by VGs {}.\n  Fix duplicate VG names with vgrename uuid, a device filter, or system IDs.",
            ids.join(" and ")
        ));
    }
    Scan {
        devices,
        duplicates,
    }
}

/// A device carrying an LVM2 label, as a scan found it.
#[derive(Debug)]
pub struct FoundPv {
    /// The device or image file.
    pub path: PathBuf,
    /// Its label.
    pub label: Label,
    /// The newest VG its own metadata areas hold.
    pub vg: Option<Vg>,
    /// Why it holds no usable VG although its label says it has metadata
    /// (it is then neither an orphan nor free).
    pub damage: Option<String>,
    /// Metadata area headers found damaged (already warned about by the scan).
    pub damaged_headers: usize,
}

/// A labelled device a report lists, as the scan that opened the VGs found it.
#[derive(Debug, Clone)]
pub struct LabelledPv {
    /// The device or image file.
    pub path: PathBuf,
    /// Its label.
    pub label: Label,
    /// The least free space among its metadata areas as lvm2 reports it
    /// (`pv_mda_free`), in sectors; 0 without an area.
    pub mda_free_sectors: u64,
}

/// Every device among `candidates` that carries an LVM2 label, one per PV
/// UUID, with what its metadata says.
pub fn scan_pvs(candidates: &[PathBuf]) -> Vec<FoundPv> {
    scan_all(candidates)
        .devices
        .into_iter()
        .map(|mut found| {
            let damage = found.damage();
            let damaged_headers = found.label.metadata_areas.len() - found.mdas.len();
            let vg = newest_index(&found.copies)
                .and_then(|index| std::mem::replace(&mut found.copies[index].vg, Ok(None)).ok())
                .flatten();
            FoundPv {
                path: found.path,
                label: found.label,
                vg,
                damage,
                damaged_headers,
            }
        })
        .collect()
}

/// Every (path, label, VG) among `candidates` that carries an LVM2 label.
pub fn scan(candidates: &[PathBuf]) -> Vec<(PathBuf, Label, Option<Vg>)> {
    scan_pvs(candidates)
        .into_iter()
        .map(|found| (found.path, found.label, found.vg))
        .collect()
}

/// Whether `text` is a VG UUID (dashed as lvm2 prints it, or compact).
fn looks_like_uuid(text: &str) -> bool {
    let compact = compact(text);
    crate::lvm2::label::valid_compact_uuid(&compact)
        && (text.len() == 32 || (text.len() == 38 && dashed_uuid(&compact) == text))
}

/// Why a VG read from disk cannot be used: it fails validation.
fn damaged(vg: &Vg) -> Result<(), VolumeError> {
    validate(vg).map_err(|source| VolumeError::Damaged {
        vg: vg.name.clone(),
        source: Box::new(source),
    })
}

/// Refuse to change a VG with segment types lvm2 does not know (lvm2's refusal).
fn check_known_segments(vg: &Vg) -> Result<(), VolumeError> {
    if unknown_segment_types(vg).is_empty() {
        return Ok(());
    }
    Err(VolumeError::Invalid(format!(
        "Cannot change VG {} with unknown segments in it!",
        vg.name
    )))
}

impl OpenVg {
    /// Open VG `name` (or the VG of UUID `name`, as lvm2's vgrename takes
    /// one) from the PVs among `candidates` to change it (exclusive lock).
    pub fn open(name: &str, candidates: &[PathBuf]) -> Result<Self, VolumeError> {
        Self::open_locked(name, candidates, true)
    }

    /// Open VG `name` (or of UUID `name`) to read it (shared lock).
    pub fn open_read(name: &str, candidates: &[PathBuf]) -> Result<Self, VolumeError> {
        Self::open_locked(name, candidates, false)
    }

    /// Open every VG found among `candidates` to read it, in name order, each
    /// under its shared lock. The devices are read once: a VG whose areas
    /// changed between that read and its lock is read again. A VG that
    /// cannot be used (damaged, PVs missing) is skipped with a warning.
    pub fn open_all_read(candidates: &[PathBuf]) -> Vec<Self> {
        Self::open_all_and_list(candidates).0
    }

    /// Every VG as [`Self::open_all_read`] opens it and, from the same scan,
    /// the labelled devices a report may list: the PVs of the VGs that
    /// opened, and orphans whose metadata reads. A PV whose own VG did not
    /// open is left out (warned about with its VG); one whose metadata
    /// cannot be read is neither listed nor free, with a warning.
    pub fn open_all_and_list(candidates: &[PathBuf]) -> (Vec<Self>, Vec<LabelledPv>) {
        let Scan {
            mut devices,
            duplicates,
        } = scan_all(candidates);
        // What each device says, kept before the VGs take their copies.
        let summaries: Vec<(LabelledPv, Option<String>, Option<String>, bool)> = devices
            .iter()
            .map(|found| {
                let pv = LabelledPv {
                    path: found.path.clone(),
                    label: found.label.clone(),
                    mda_free_sectors: found
                        .mdas
                        .iter()
                        .map(MdaHeader::free_sectors)
                        .min()
                        .unwrap_or(0),
                };
                let headers_damaged = found.label.metadata_areas.len() != found.mdas.len();
                (
                    pv,
                    found.vg().map(|vg| vg.id.clone()),
                    found.damage(),
                    headers_damaged,
                )
            })
            .collect();
        let mut vgs: Vec<(String, String)> = devices
            .iter()
            .filter_map(|f| f.vg().map(|vg| (vg.name.clone(), vg.id.clone())))
            .collect();
        vgs.sort();
        vgs.dedup();
        let mut opened = Vec::new();
        for (name, id) in &vgs {
            let Ok(lock) = lock(Resource::Vg(name), false) else {
                continue;
            };
            let (members, rest): (Vec<Scanned>, Vec<Scanned>) = std::mem::take(&mut devices)
                .into_iter()
                .partition(|f| f.vg().is_some_and(|vg| &vg.id == id));
            devices = rest;
            let open = if members.iter().all(Scanned::unchanged) {
                Self::from_members(id, members, &devices, &duplicates, lock, false)
            } else {
                drop(members);
                let again = crate::log::capture(|| scan_all(candidates)).0;
                let (members, others): (Vec<Scanned>, Vec<Scanned>) = again
                    .devices
                    .into_iter()
                    .partition(|f| f.vg().is_some_and(|vg| &vg.id == id));
                Self::from_members(id, members, &others, &again.duplicates, lock, false)
            };
            match open {
                Ok(open) => opened.push(open),
                Err(e) => {
                    crate::log::warning(format_args!("{e}\n  Cannot process volume group {name}"))
                }
            }
        }
        let listed = |uuid: &str| {
            opened
                .iter()
                .flat_map(|open: &OpenVg| &open.vg.pvs)
                .any(|pv| compact(&pv.id) == uuid)
        };
        let pvs = summaries
            .into_iter()
            .filter(
                |(pv, vg_id, damage, headers_damaged)| match (vg_id, damage) {
                    (Some(id), _) => opened.iter().any(|open| &open.vg.id == id),
                    (None, None) => true,
                    // A member whose own areas are damaged: the VG's other copies list it.
                    (None, Some(_)) if listed(&pv.label.pv_uuid) => true,
                    (None, Some(why)) => {
                        // A damaged header was warned about by the scan.
                        if !headers_damaged {
                            crate::log::warning(format_args!(
                                "PV {} has unusable metadata: {why}",
                                pv.path.display()
                            ));
                        }
                        false
                    }
                },
            )
            .map(|(pv, ..)| pv)
            .collect();
        (opened, pvs)
    }

    fn open_locked(
        name: &str,
        candidates: &[PathBuf],
        exclusive: bool,
    ) -> Result<Self, VolumeError> {
        // A UUID names a VG by its identity: find its name, for the lock.
        let mut wanted_id = None;
        let mut vg_name = name.to_string();
        if looks_like_uuid(name) {
            let found = crate::log::capture(|| scan_pvs(candidates)).0;
            let dashed = dashed_uuid(&compact(name));
            if let Some(vg) = found
                .iter()
                .filter_map(|f| f.vg.as_ref())
                .find(|vg| vg.id == dashed)
            {
                vg_name = vg.name.clone();
                wanted_id = Some(dashed);
            }
        }
        let lock = lock(Resource::Vg(&vg_name), exclusive).map_err(device_error(&lock_dir()))?;
        let Scan {
            devices,
            duplicates,
        } = scan_all(candidates);
        let id = match wanted_id {
            Some(id) => id,
            None => {
                let mut ids: Vec<&str> = devices
                    .iter()
                    .filter_map(Scanned::vg)
                    .filter(|vg| vg.name == vg_name)
                    .map(|vg| vg.id.as_str())
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                match ids[..] {
                    [] => return Err(VolumeError::VgNotFound(name.to_string())),
                    [id] => id.to_string(),
                    _ => return Err(VolumeError::DuplicateName(vg_name)),
                }
            }
        };
        let (members, others): (Vec<Scanned>, Vec<Scanned>) = devices
            .into_iter()
            .partition(|f| f.vg().is_some_and(|vg| vg.id == id));
        Self::from_members(&id, members, &others, &duplicates, lock, exclusive)
    }

    /// The VG of UUID `id` from its member devices' parsed copies, under
    /// `lock`, each of its PVs matched by the PV UUID in a label (among the
    /// members, or `others` for a PV without metadata areas); `writable`
    /// reopens the devices for writing.
    fn from_members(
        id: &str,
        members: Vec<Scanned>,
        others: &[Scanned],
        duplicates: &[String],
        lock: Lock,
        writable: bool,
    ) -> Result<Self, VolumeError> {
        let mut labelled: Vec<(PathBuf, String, Option<FileDisk>)> = Vec::new();
        let mut copies = Vec::new();
        for member in members {
            copies.extend(member.copies);
            labelled.push((member.path, member.label.pv_uuid, Some(member.disk)));
        }
        let (vg, _stale) = newest_vg(copies)?
            .ok_or_else(|| VolumeError::NotFound(format!("volume group {id}")))?;
        for kind in unknown_segment_types(&vg) {
            crate::log::warning(format_args!("Unrecognised segment type {kind}"));
        }
        damaged(&vg)?;
        let name = vg.name.clone();
        let mut paths = Vec::new();
        let mut pv_members = Vec::new();
        let mut frozen = None;
        for pv in &vg.pvs {
            let uuid = compact(&pv.id);
            let index = labelled.iter().position(|(_, u, _)| u == &uuid);
            let (path, disk) = match index {
                Some(index) => {
                    let (path, _, disk) = &mut labelled[index];
                    (path.clone(), disk.take())
                }
                None => {
                    // A PV without metadata areas, or whose areas are all
                    // damaged: its label still says which PV it is.
                    let other = others
                        .iter()
                        .find(|o| o.label.pv_uuid == uuid && o.vg().is_none())
                        .ok_or_else(|| {
                            VolumeError::Invalid(format!(
                                "volume group {name}: PV {} is missing",
                                pv.id
                            ))
                        })?;
                    (other.path.clone(), None)
                }
            };
            let disk = match (writable, disk) {
                (false, Some(disk)) => disk,
                (false, None) => FileDisk::open_read_only(&path).map_err(device_error(&path))?,
                (true, _) => FileDisk::open(&path).map_err(device_error(&path))?,
            };
            if duplicates.contains(&uuid) {
                frozen = Some(format!(
                    "Cannot update volume group {name} with duplicate PV devices."
                ));
            }
            paths.push((pv.key.clone(), path.clone()));
            pv_members.push(Member {
                pv_uuid: uuid,
                path,
                disk,
            });
        }
        if writable {
            if let Some(why) = &frozen {
                return Err(VolumeError::Invalid(why.clone()));
            }
            check_known_segments(&vg)?;
        }
        Ok(Self {
            vg,
            paths,
            members: pv_members,
            writable,
            frozen,
            _lock: Some(lock),
        })
    }

    /// Commit `vg` as the next version on every PV of the VG, each device
    /// found by the PV UUID in its label. A VG that fails validation is
    /// never written.
    pub fn commit(&mut self, mut vg: Vg) -> Result<(), VolumeError> {
        self.check_writable()?;
        damaged(&vg)?;
        check_known_segments(&vg)?;
        let mut pvs = Vec::new();
        for pv in &vg.pvs {
            // A PV given a new UUID (pvchange -u) is still its old self on
            // disk until its label follows the commit: find it by its key.
            let uuid = self
                .vg
                .pvs
                .iter()
                .find(|old| old.key == pv.key && old.id != pv.id)
                .map_or_else(|| compact(&pv.id), |old| compact(&old.id));
            let member = self
                .members
                .iter()
                .find(|m| m.pv_uuid == uuid)
                .ok_or_else(|| {
                    VolumeError::Invalid(format!(
                        "volume group {}: PV {} is missing",
                        vg.name, pv.id
                    ))
                })?;
            let device = PvDevice::open(&member.disk)
                .map_err(|source| VolumeError::Format {
                    path: member.path.clone(),
                    source,
                })?
                .filter(|device| device.label.pv_uuid == uuid)
                .ok_or_else(|| VolumeError::NotAPv(member.path.clone()))?;
            pvs.push(device);
        }
        // lvm2's archive of the metadata being replaced (none for a new VG), backup after.
        if self.vg.seqno > 0 {
            crate::lvm2::backup::archive(&self.vg).map_err(VolumeError::from)?;
        }
        commit_vg(&mut pvs, &mut vg)?;
        crate::lvm2::backup::backup(&vg);
        self.vg = vg;
        Ok(())
    }

    /// Refuse a change to a VG opened for reading (its lock is shared).
    fn check_writable(&self) -> Result<(), VolumeError> {
        if let Some(why) = &self.frozen {
            return Err(VolumeError::Invalid(why.clone()));
        }
        if self.writable {
            return Ok(());
        }
        Err(VolumeError::Invalid(format!(
            "volume group \"{}\" was opened for reading, not for a change",
            self.vg.name
        )))
    }

    /// Take PV `key` out of the devices the next commit writes (vgreduce);
    /// its open device, if it was one of them.
    pub fn detach_pv(&mut self, key: &str) -> Option<FileDisk> {
        let at = self.paths.iter().position(|(k, _)| k == key)?;
        let (_, path) = self.paths.remove(at);
        let member = self.members.iter().position(|m| m.path == path)?;
        Some(self.members.remove(member).disk)
    }

    /// Path of the PV with key `key`.
    pub fn path_of(&self, key: &str) -> Option<&Path> {
        self.paths
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, p)| p.as_path())
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".into())
}

fn header_items(description: &str) -> Vec<Item> {
    vec![
        Item::Setting(
            "contents".into(),
            Value::Str("Text Format Volume Group".into()),
        ),
        Item::Setting("version".into(), Value::Int(1)),
        Item::Setting("description".into(), Value::Str(description.into())),
        Item::Setting("creation_host".into(), Value::Str(hostname())),
        Item::Setting("creation_time".into(), Value::Int(now())),
    ]
}

/// Create VG `name` over the orphan PVs at `paths`, with `extent_sectors`
/// extents and `tags` (checked already, `@` dropped).
pub fn vg_create(
    name: &str,
    paths: &[PathBuf],
    extent_sectors: u64,
    tags: &[String],
    candidates: &[PathBuf],
) -> Result<Vg, VolumeError> {
    validate_vg_name(name).map_err(|rule| VolumeError::NewVgName {
        name: name.to_string(),
        rule,
    })?;
    let _global = lock(Resource::Global, true).map_err(device_error(&lock_dir()))?;
    let vg_lock = lock(Resource::Vg(name), true).map_err(device_error(&lock_dir()))?;
    // lvm2's rule: a power of 2, or a multiple of 128 KiB.
    if !extent_sectors.is_power_of_two() && extent_sectors % 256 != 0 {
        return Err(VolumeError::Invalid(
            "Physical Extent size must be a multiple of 128.00 KiB when not a power of 2.".into(),
        ));
    }
    // Smaller extents lvm2 takes, but rlvm's validation refuses them.
    if extent_sectors < 8 {
        return Err(VolumeError::Invalid(format!(
            "extent size must be at least 4 KiB, not {} bytes",
            extent_sectors * 512
        )));
    }
    if scan(candidates)
        .iter()
        .any(|(_, _, vg)| vg.as_ref().is_some_and(|vg| vg.name == name))
    {
        return Err(VolumeError::Invalid(format!(
            "A volume group called {name} already exists."
        )));
    }
    let mut disks = Vec::new();
    let mut pvs = Vec::new();
    for (index, path) in paths.iter().enumerate() {
        let disk = open_device(path)?;
        let pv = PvDevice::open(&disk)
            .map_err(|source| VolumeError::Format {
                path: path.clone(),
                source,
            })?
            .ok_or_else(|| VolumeError::NotAPv(path.clone()))?;
        check_not_in_use(path, &pv, false, PvUse::NewVg)?;
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if disks.iter().any(|(p, _): &(PathBuf, FileDisk)| {
            std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()) == canonical
        }) || pvs
            .iter()
            .any(|p: &Pv| p.id == dashed_uuid(&pv.label.pv_uuid))
        {
            // lvm2's answer to a device named twice.
            return Err(VolumeError::AlreadyInVg {
                path: path.clone(),
                vg: name.to_string(),
            });
        }
        let pe_start = pv
            .label
            .data_areas
            .first()
            .map_or(DEFAULT_DATA_ALIGNMENT, |a| a.offset)
            / 512;
        let dev_size = pv.label.device_size / 512;
        let pe_count = data_end_sectors(&pv.label).saturating_sub(pe_start) / extent_sectors;
        if pe_count == 0 {
            return Err(VolumeError::TooSmall {
                path: path.clone(),
                size: pv.label.device_size,
                needed: (pe_start + extent_sectors) * 512,
            });
        }
        pvs.push(Pv {
            key: format!("pv{index}"),
            id: dashed_uuid(&pv.label.pv_uuid),
            device: path.display().to_string(),
            status: vec!["ALLOCATABLE".into()],
            dev_size,
            pe_start,
            pe_count,
            extra: vec![Item::Setting("flags".into(), Value::Array(vec![]))],
        });
        disks.push((path.clone(), disk));
    }
    let vg = Vg {
        name: name.to_string(),
        id: dashed_uuid(&new_compact_uuid().map_err(device_error(Path::new("/dev/urandom")))?),
        seqno: 0,
        status: vec!["RESIZEABLE".into(), "READ".into(), "WRITE".into()],
        extent_size: extent_sectors,
        pvs,
        lvs: vec![],
        extra: vec![
            Item::Setting("format".into(), Value::Str("lvm2".into())),
            Item::Setting("flags".into(), Value::Array(vec![])),
            Item::Setting("max_lv".into(), Value::Int(0)),
            Item::Setting("max_pv".into(), Value::Int(0)),
            Item::Setting("metadata_copies".into(), Value::Int(0)),
        ],
        header: header_items(&format!("Write from rvgcreate {name}.")),
    };
    let mut vg = vg;
    // `--addtag`, in lvm2's place (right after `flags`).
    crate::ops::vg_change::TagChange {
        add: tags.to_vec(),
        del: vec![],
    }
    .apply(&mut vg.extra);
    // Mark each PV used, as lvm2 does in the label extension, then commit.
    for (path, disk) in &disks {
        let mut label = Label::read(disk)
            .map_err(|source| VolumeError::Format {
                path: path.clone(),
                source,
            })?
            .ok_or_else(|| VolumeError::NotAPv(path.clone()))?;
        if let Some(ext) = label.extension.as_mut() {
            ext.flags |= PV_EXT_USED;
        }
        let sector = label.encode().map_err(|source| VolumeError::Format {
            path: path.clone(),
            source,
        })?;
        disk.write_all_at(&sector, label.sector * 512)
            .map_err(device_error(path))?;
    }
    let mut open = OpenVg {
        vg: vg.clone(),
        paths: disks
            .iter()
            .enumerate()
            .map(|(i, (p, _))| (format!("pv{i}"), p.clone()))
            .collect(),
        members: disks
            .into_iter()
            .zip(&vg.pvs)
            .map(|((path, disk), pv)| Member {
                pv_uuid: compact(&pv.id),
                path,
                disk,
            })
            .collect(),
        writable: true,
        frozen: None,
        _lock: Some(vg_lock),
    };
    open.commit(vg)?;
    Ok(open.vg)
}

/// Add the PVs at `paths` to VG `name`, as vgextend does: a device or file
/// that carries no label is initialised first (with `options`, as
/// [`pv_create`]), an orphan PV is used as it is, and a PV in any VG is
/// refused. Every check runs before anything is written. Returns, per path,
/// whether it was initialised.
pub fn vg_extend(
    name: &str,
    paths: &[PathBuf],
    options: &PvCreateOptions,
    candidates: &[PathBuf],
) -> Result<Vec<bool>, VolumeError> {
    validate_vg_name(name)?;
    let mut open = OpenVg::open(name, candidates)?;
    // lvm2's order: the VG first, then the orphans it takes PVs from.
    let _orphans = lock(Resource::Orphans, true).map_err(device_error(&lock_dir()))?;
    let vg = &open.vg;
    let old_count = vg.pvs.len();
    if !vg.status.iter().any(|s| s == "RESIZEABLE") {
        return Err(VolumeError::Invalid(format!(
            "volume group \"{name}\" is not resizeable"
        )));
    }
    // PVs without a metadata area are known only from the VGs that list them.
    let members: Vec<(String, String)> = scan(candidates)
        .into_iter()
        .filter_map(|(_, _, vg)| vg)
        .chain(std::iter::once(vg.clone()))
        .flat_map(|vg| {
            vg.pvs
                .iter()
                .map(|pv| (pv.id.clone(), vg.name.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut seen: Vec<PathBuf> = open
        .paths
        .iter()
        .map(|(_, p)| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .collect();
    // (path, disk, label, whether it must be written).
    let mut planned: Vec<(PathBuf, FileDisk, Label, bool)> = Vec::new();
    for path in paths {
        let disk = open_device(path)?;
        let existing = PvDevice::open(&disk).map_err(|source| VolumeError::Format {
            path: path.clone(),
            source,
        })?;
        let (label, new) = match existing {
            Some(pv) => {
                let id = dashed_uuid(&pv.label.pv_uuid);
                let owner = match read_vg(std::slice::from_ref(&pv))? {
                    Some((owner, _)) => Some(owner.name),
                    None => members
                        .iter()
                        .find(|(m, _)| m == &id)
                        .map(|(_, v)| v.clone()),
                };
                if let Some(vg) = owner {
                    return Err(VolumeError::AlreadyInVg {
                        path: path.clone(),
                        vg,
                    });
                }
                (pv.label, false)
            }
            None => (pv_layout(path, &disk, options)?, true),
        };
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if seen.contains(&canonical) {
            return Err(VolumeError::Invalid(format!(
                "{}: physical volume given twice",
                path.display()
            )));
        }
        seen.push(canonical);
        planned.push((path.clone(), disk, label, new));
    }
    let mut next = vg.clone();
    for (path, _, label, _) in &planned {
        let pe_start = label
            .data_areas
            .first()
            .map_or(DEFAULT_DATA_ALIGNMENT, |a| a.offset)
            / 512;
        let dev_size = label.device_size / 512;
        let pe_count = data_end_sectors(label).saturating_sub(pe_start) / next.extent_size;
        if pe_count == 0 {
            return Err(VolumeError::TooSmall {
                path: path.clone(),
                size: label.device_size,
                needed: (pe_start + next.extent_size) * 512,
            });
        }
        let key = (0..)
            .map(|i| format!("pv{i}"))
            .find(|k| next.pv(k).is_none())
            .unwrap_or_default();
        next.pvs.push(Pv {
            key,
            id: dashed_uuid(&label.pv_uuid),
            device: path.display().to_string(),
            status: vec!["ALLOCATABLE".into()],
            dev_size,
            pe_start,
            pe_count,
            extra: vec![Item::Setting("flags".into(), Value::Array(vec![]))],
        });
    }
    // Initialise the bare devices, mark every new PV used as lvm2 does, then commit.
    let mut initialised = Vec::new();
    for ((path, disk, mut label, new), pv) in planned.into_iter().zip(&next.pvs[old_count..]) {
        if new {
            write_pv(&path, &disk, &label)?;
        }
        if let Some(ext) = label.extension.as_mut() {
            ext.flags |= PV_EXT_USED;
        }
        write_label(&path, &disk, &label)?;
        initialised.push(new);
        open.paths.push((pv.key.clone(), path.clone()));
        open.members.push(Member {
            pv_uuid: compact(&pv.id),
            path,
            disk,
        });
    }
    open.commit(next)?;
    Ok(initialised)
}

/// Free extent runs per PV key: (pv key, first extent, count), in PV order.
pub fn free_runs(vg: &Vg) -> Vec<(String, u64, u64)> {
    let mut runs = Vec::new();
    for pv in &vg.pvs {
        let mut used: Vec<(u64, u64)> = vg
            .lvs
            .iter()
            .flat_map(|lv| &lv.segments)
            // Segments rlvm does not model keep their extents too.
            .flat_map(|seg| segment_pv_areas(vg, seg))
            .filter(|(key, _, _)| key == &pv.key)
            .map(|(_, start, count)| (start, count))
            .collect();
        used.sort_unstable();
        let mut at = 0;
        for (start, count) in used {
            if start > at {
                runs.push((pv.key.clone(), at, start - at));
            }
            at = at.max(start.saturating_add(count));
        }
        if at < pv.pe_count {
            runs.push((pv.key.clone(), at, pv.pe_count - at));
        }
    }
    runs
}

/// Free extents in the VG.
pub fn free_extents(vg: &Vg) -> u64 {
    free_runs(vg).iter().map(|r| r.2).sum()
}

/// Allocate `extents` for a new linear LV by lvm2's normal policy over
/// every PV (see [`super::alloc`]). Returns linear segments from `first_le`.
pub fn allocate(vg: &Vg, extents: u64, first_le: u64) -> Result<Vec<Segment>, VolumeError> {
    let free = free_extents(vg);
    if free < extents || extents == 0 {
        return Err(VolumeError::NoSpace {
            vg: vg.name.clone(),
            free,
            needed: extents,
        });
    }
    // A name no LV has, so the allocation is that of a new LV.
    let segments = super::alloc::allocate(vg, "\u{0}new", &super::alloc::Request::linear(extents))?;
    Ok(super::alloc::merge_segments(
        segments
            .into_iter()
            .map(|mut seg| {
                seg.start_extent += first_le;
                seg
            })
            .collect(),
    ))
}

/// A new LV record of `segments`.
pub fn new_lv(
    name: &str,
    segments: Vec<Segment>,
    visible: bool,
    writable: bool,
) -> Result<Lv, VolumeError> {
    let mut status = vec!["READ".to_string()];
    if writable {
        status.push("WRITE".into());
    }
    if visible {
        status.push("VISIBLE".into());
    }
    Ok(Lv {
        name: name.to_string(),
        id: dashed_uuid(&new_compact_uuid().map_err(device_error(Path::new("/dev/urandom")))?),
        status,
        creation_time: Some(now()),
        creation_host: Some(hostname()),
        segments,
        extra: vec![Item::Setting("flags".into(), Value::Array(vec![]))],
    })
}

/// Add a linear LV of `extents` to `vg` (the caller commits).
pub fn lv_create_linear(vg: &mut Vg, name: &str, extents: u64) -> Result<(), VolumeError> {
    validate_lv_name(name)?;
    if vg.lv(name).is_some() {
        return Err(VolumeError::Exists(format!(
            "logical volume \"{name}\" in volume group \"{}\"",
            vg.name
        )));
    }
    let segments = allocate(vg, extents, 0)?;
    vg.lvs.push(new_lv(name, segments, true, true)?);
    Ok(())
}

/// Add an LV allocated by `request` (linear or striped, PVs restricted) to
/// `vg` (the caller commits).
pub fn lv_create(
    vg: &mut Vg,
    name: &str,
    request: &super::alloc::Request,
) -> Result<(), VolumeError> {
    validate_lv_name(name)?;
    if vg.lv(name).is_some() {
        return Err(VolumeError::Exists(format!(
            "logical volume \"{name}\" in volume group \"{}\"",
            vg.name
        )));
    }
    let segments = super::alloc::merge_segments(super::alloc::allocate(vg, name, request)?);
    vg.lvs.push(new_lv(name, segments, true, true)?);
    Ok(())
}

/// Remove LV `name` from `vg` (the caller commits).
pub fn lv_remove(vg: &mut Vg, name: &str) -> Result<Lv, VolumeError> {
    let index = vg
        .lvs
        .iter()
        .position(|lv| lv.name == name)
        .ok_or_else(|| VolumeError::NotFound(format!("logical volume \"{}/{name}\"", vg.name)))?;
    Ok(vg.lvs.remove(index))
}

/// Rename LV `old` to `new` in `vg`, updating snapshot records that name it.
pub fn lv_rename(vg: &mut Vg, old: &str, new: &str) -> Result<(), VolumeError> {
    validate_lv_name(new)?;
    if vg.lv(new).is_some() {
        return Err(VolumeError::Exists(format!(
            "logical volume \"{new}\" in volume group \"{}\"",
            vg.name
        )));
    }
    let lv =
        vg.lvs.iter_mut().find(|lv| lv.name == old).ok_or_else(|| {
            VolumeError::NotFound(format!("logical volume \"{}/{old}\"", vg.name))
        })?;
    lv.name = new.to_string();
    for lv in &mut vg.lvs {
        for seg in &mut lv.segments {
            if let SegmentKind::Snapshot { origin, cow, .. } = &mut seg.kind {
                for name in [origin, cow] {
                    if name == old {
                        *name = new.to_string();
                    }
                }
            }
        }
    }
    Ok(())
}

/// Where extent `pe` of PV `key` lies: the PV's path (from `path_of`) and
/// the sector on it, for a table line or a wipe of LV `lv`.
pub fn pv_area(
    vg: &Vg,
    lv: &Lv,
    key: &str,
    pe: u64,
    path_of: &dyn Fn(&str) -> Option<PathBuf>,
) -> Result<(PathBuf, u64), VolumeError> {
    let pv = vg.pv(key).ok_or_else(|| {
        VolumeError::Invalid(format!("{}/{}: unknown PV {key}", vg.name, lv.name))
    })?;
    let path = path_of(key).ok_or_else(|| {
        VolumeError::Invalid(format!("{}/{}: PV {} is missing", vg.name, lv.name, pv.id))
    })?;
    Ok((path, pv.pe_start + pe * vg.extent_size))
}

/// The table of `lv` (linear and striped lines), device arguments as the PVs' paths.
pub fn lv_table(
    vg: &Vg,
    lv: &Lv,
    path_of: &dyn Fn(&str) -> Option<PathBuf>,
) -> Result<Vec<crate::dm::TableLine>, VolumeError> {
    use crate::dm::{DevRef, TableLine, Target};
    let mut lines = Vec::new();
    for seg in &lv.segments {
        match &seg.kind {
            SegmentKind::Striped { stripes, .. } if stripes.len() == 1 => {
                let (key, pe) = &stripes[0];
                let (path, offset_sectors) = pv_area(vg, lv, key, *pe, path_of)?;
                lines.push(TableLine::new(
                    seg.start_extent * vg.extent_size,
                    seg.extent_count * vg.extent_size,
                    Target::Linear {
                        device: DevRef::Path(path),
                        offset_sectors,
                    },
                ));
            }
            SegmentKind::Striped {
                stripes,
                stripe_size,
            } => {
                let mut devices = Vec::with_capacity(stripes.len());
                for (key, pe) in stripes {
                    let (path, sector) = pv_area(vg, lv, key, *pe, path_of)?;
                    devices.push((DevRef::Path(path), sector));
                }
                let chunk_sectors = stripe_size.ok_or_else(|| {
                    VolumeError::Invalid(format!(
                        "{}/{}: striped segment without a stripe size",
                        vg.name, lv.name
                    ))
                })?;
                lines.push(TableLine::new(
                    seg.start_extent * vg.extent_size,
                    seg.extent_count * vg.extent_size,
                    Target::Striped {
                        chunk_sectors,
                        stripes: devices,
                    },
                ));
            }
            SegmentKind::Other(kind) if kind == "zero" => {
                lines.push(TableLine::new(
                    seg.start_extent * vg.extent_size,
                    seg.extent_count * vg.extent_size,
                    Target::Zero,
                ));
            }
            other => {
                return Err(VolumeError::Invalid(format!(
                    "{}/{}: segment type {:?} cannot be activated by rlvm",
                    vg.name, lv.name, other
                )))
            }
        }
    }
    Ok(lines)
}

/// Remove VG `open` (it must hold no LVs): its PVs become orphans.
pub fn vg_remove(open: OpenVg) -> Result<(), VolumeError> {
    if !open.vg.lvs.is_empty() {
        return Err(VolumeError::Invalid(format!(
            "volume group \"{}\" still contains {} logical volume(s)",
            open.vg.name,
            open.vg.lvs.len()
        )));
    }
    open.check_writable()?;
    for Member { disk, path, .. } in &open.members {
        let pv = PvDevice::open(disk)
            .map_err(|source| VolumeError::Format {
                path: path.clone(),
                source,
            })?
            .ok_or_else(|| VolumeError::NotAPv(path.clone()))?;
        for mda in &pv.mdas {
            disk.write_all_at(&MdaHeader::new(mda.start, mda.size).encode(), mda.start)
                .map_err(device_error(path))?;
        }
        let mut label = pv.label.clone();
        if let Some(ext) = label.extension.as_mut() {
            ext.flags &= !PV_EXT_USED;
        }
        let sector = label.encode().map_err(|source| VolumeError::Format {
            path: path.clone(),
            source,
        })?;
        disk.write_all_at(&sector, label.sector * 512)
            .map_err(device_error(path))?;
        disk.flush().map_err(device_error(path))?;
    }
    // lvm2 drops the VG's backup file with the VG (its archives stay).
    crate::lvm2::backup::remove_backup(&open.vg.name);
    Ok(())
}
