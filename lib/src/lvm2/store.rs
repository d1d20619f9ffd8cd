//! A VG on its PVs: read the newest valid copy from every metadata area,
//! and commit a new version to all of them as lvm2 does (seqno + 1; each
//! area committed in lvm2's crash-safe order).

use super::error::Lvm2Error;
use super::label::Label;
use super::mda::MdaHeader;
use super::model::{MetadataError, Vg};
use crate::io::BlockIo;

/// A PV opened for metadata: its label and its metadata area headers.
pub struct PvDevice<'a> {
    /// The device.
    pub disk: &'a dyn BlockIo,
    /// Its label and PV header.
    pub label: Label,
    /// Its metadata areas whose headers are sound.
    pub mdas: Vec<MdaHeader>,
    /// The metadata areas whose headers are damaged, with why (never written).
    pub damaged: Vec<(u64, Lvm2Error)>,
}

/// Why a VG could not be read or committed.
#[derive(Debug, thiserror::Error)]
pub enum VgError {
    /// The on-disk structures are damaged or unreadable.
    #[error(transparent)]
    Format(#[from] Lvm2Error),
    /// The metadata text is not a usable VG.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
}

/// A metadata area whose copy is older than, or different from, the one used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleCopy {
    /// PV UUID of the area.
    pub pv_uuid: String,
    /// Byte offset of the area.
    pub mda_start: u64,
    /// Its seqno, when it had a readable copy.
    pub seqno: Option<u64>,
}

impl<'a> PvDevice<'a> {
    /// Open `disk` as a PV: `Ok(None)` when it carries no LVM2 label. A
    /// damaged area header is kept aside, as lvm2 does: the other area (or
    /// another PV) may still hold the VG.
    pub fn open(disk: &'a dyn BlockIo) -> Result<Option<Self>, Lvm2Error> {
        let Some(label) = Label::read(disk)? else {
            return Ok(None);
        };
        let mut mdas = Vec::new();
        let mut damaged = Vec::new();
        for area in &label.metadata_areas {
            match MdaHeader::read(disk, area.offset) {
                Ok(header) => mdas.push(header),
                Err(e) => damaged.push((area.offset, e)),
            }
        }
        Ok(Some(Self {
            disk,
            label,
            mdas,
            damaged,
        }))
    }
}

/// One metadata area's committed copy, parsed: a VG, none (an empty area),
/// or why it could not be used.
#[derive(Debug)]
pub struct MdaCopy {
    /// PV UUID of the area.
    pub pv_uuid: String,
    /// Byte offset of the area.
    pub mda_start: u64,
    /// What the area holds.
    pub vg: Result<Option<Vg>, VgError>,
}

impl MdaCopy {
    /// The VG this copy holds, when it was readable.
    pub fn vg(&self) -> Option<&Vg> {
        self.vg.as_ref().ok().and_then(Option::as_ref)
    }
}

/// The committed copy of every metadata area of `pv`, each read and parsed
/// once; a damaged header is a copy that could not be read.
pub fn read_copies(pv: &PvDevice<'_>) -> Vec<MdaCopy> {
    // The error again from the disk (an I/O error cannot be cloned).
    let damaged = pv.damaged.iter().filter_map(|(start, _)| {
        MdaHeader::read(pv.disk, *start).err().map(|e| MdaCopy {
            pv_uuid: pv.label.pv_uuid.clone(),
            mda_start: *start,
            vg: Err(VgError::Format(e)),
        })
    });
    pv.mdas
        .iter()
        .map(|mda| MdaCopy {
            pv_uuid: pv.label.pv_uuid.clone(),
            mda_start: mda.start,
            vg: mda
                .read_committed(pv.disk)
                .map_err(VgError::from)
                .and_then(|text| {
                    text.map(|t| Vg::parse(&t))
                        .transpose()
                        .map_err(VgError::from)
                }),
        })
        .chain(damaged)
        .collect()
}

/// The index of the newest readable copy among `copies` (the last of equal seqnos).
pub fn newest_index(copies: &[MdaCopy]) -> Option<usize> {
    copies
        .iter()
        .enumerate()
        .filter_map(|(index, copy)| copy.vg().map(|vg| (index, vg.seqno)))
        .max_by_key(|&(_, seqno)| seqno)
        .map(|(index, _)| index)
}

/// The newest VG among `copies`, and the areas holding an older, different
/// or unreadable copy (to repair on the next commit); the error of the last
/// unreadable copy when none is readable.
pub fn newest_vg(copies: Vec<MdaCopy>) -> Result<Option<(Vg, Vec<StaleCopy>)>, VgError> {
    let Some(chosen) = newest_index(&copies) else {
        return match copies.into_iter().rev().find_map(|c| c.vg.err()) {
            Some(e) => Err(e),
            None => Ok(None),
        };
    };
    let stale: Vec<bool> = copies
        .iter()
        .enumerate()
        .map(|(index, copy)| index != chosen && copy.vg() != copies[chosen].vg())
        .collect();
    let mut newest = None;
    let mut stale_copies = Vec::new();
    for ((index, copy), stale) in copies.into_iter().enumerate().zip(stale) {
        if index == chosen {
            newest = copy.vg.ok().flatten();
        } else if stale {
            stale_copies.push(StaleCopy {
                seqno: copy.vg().map(|c| c.seqno),
                pv_uuid: copy.pv_uuid,
                mda_start: copy.mda_start,
            });
        }
    }
    Ok(newest.map(|vg| (vg, stale_copies)))
}

/// The newest VG found in the metadata areas of `pvs`, and the areas holding
/// an older or unreadable copy (to repair on the next commit).
pub fn read_vg(pvs: &[PvDevice<'_>]) -> Result<Option<(Vg, Vec<StaleCopy>)>, VgError> {
    newest_vg(pvs.iter().flat_map(read_copies).collect())
}

/// Commit `vg` as its next version (seqno + 1) to every metadata area of `pvs`.
pub fn commit_vg(pvs: &mut [PvDevice<'_>], vg: &mut Vg) -> Result<(), VgError> {
    vg.seqno += 1;
    let text = vg.to_text();
    for pv in pvs.iter_mut() {
        for mda in pv.mdas.iter_mut() {
            *mda = mda.commit_text(pv.disk, &text)?;
        }
    }
    Ok(())
}
